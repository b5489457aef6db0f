// Drives a running Tuneforge service's Evals API with the official Node SDK (npm `openai`), changing nothing but the
// base URL. Usage:  node evals-sdk.mjs evals <baseURL> <apiKey>
// Prints one JSON line per scenario, as openai-sdk.mjs does: {"scenario","ok":true,"value"} or {"scenario","ok":false,"error"}.
// The .NET tests (EvalsNodeSdkTests) assert on these values; this script only observes and records.
import OpenAI, { APIError } from 'openai';

const [group, baseURL, apiKey] = process.argv.slice(2);
if (group !== 'evals' || !baseURL || !apiKey) {
  console.error('usage: node evals-sdk.mjs evals <baseURL> <apiKey>');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

async function scenario(name, fn) {
  let line;
  try {
    line = { scenario: name, ok: true, value: await fn() };
  } catch (err) {
    line = { scenario: name, ok: false, error: { class: err?.constructor?.name, isApiError: err instanceof APIError, status: err?.status ?? null,
      param: err?.param ?? null, code: err?.code ?? null, message: String(err?.message ?? err) } };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
  return line.ok ? line.value : undefined;
}

async function waitForRun(evalId, runId) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const run = await client.evals.runs.retrieve(runId, { eval_id: evalId });
    if (!['queued', 'in_progress'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const itemSchema = { type: 'object', properties: { question: { type: 'string' }, reference: { type: 'string' } }, required: ['question', 'reference'] };
// Answers written by hand: rows 0 and 3 pass both criteria, row 1 ("Jupiter.") only the fuzzy one, row 2 neither.
const rows = [['Capital of France?', 'Paris', 'Paris'], ['Largest planet?', 'Jupiter', 'Jupiter.'], ['Chemical symbol for gold?', 'Au', 'Ag'],
  ['Capital of Germany?', 'Berlin', 'Berlin']].map(([question, reference, answer]) => ({ item: { question, reference }, sample: { output_text: answer } }));

const created = await scenario('evals.create', async () => client.evals.create({
  name: 'node-capitals',
  data_source_config: { type: 'custom', item_schema: itemSchema, include_sample_schema: true },
  testing_criteria: [
    { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference}}', operation: 'eq' },
    { type: 'text_similarity', name: 'close', input: '{{sample.output_text}}', reference: '{{item.reference}}', evaluation_metric: 'fuzzy_match', pass_threshold: 0.8 },
  ],
}));

if (created) {
  await scenario('evals.retrieve', async () => client.evals.retrieve(created.id));

  const jsonl = await scenario('evals.runs.jsonl', async () => {
    const run = await client.evals.runs.create(created.id, { name: 'node-jsonl', data_source: { type: 'jsonl', source: { type: 'file_content', content: rows } } });
    return { created: run, done: await waitForRun(created.id, run.id) };
  });

  if (jsonl) {
    const runId = jsonl.created.id;
    await scenario('evals.runs.outputItems.fail', async () => {
      const page = await client.evals.runs.outputItems.list(runId, { eval_id: created.id, status: 'fail' });
      return { data: page.data, hasMore: page.has_more };
    });
    // The cursor page walks every item one at a time, each once.
    await scenario('evals.runs.outputItems.paging', async () => {
      const ids = [];
      for await (const item of client.evals.runs.outputItems.list(runId, { eval_id: created.id, limit: 1 })) ids.push(item.datasource_item_id);
      return { ids };
    });
    await scenario('evals.runs.list', async () => {
      const page = await client.evals.runs.list(created.id, { status: 'completed' });
      return { ids: page.data.map((r) => r.id) };
    });
  }

  await scenario('evals.runs.completions', async () => {
    const run = await client.evals.runs.create(created.id, {
      data_source: {
        type: 'completions',
        model: 'tuneforge-tiny',
        input_messages: { type: 'template', template: [{ role: 'system', content: 'Answer with one word.' }, { role: 'user', content: '{{item.question}}' }] },
        sampling_params: { temperature: 0, max_completions_tokens: 4 },
        source: { type: 'file_content', content: rows.map((r) => ({ item: r.item })) },
      },
    });
    const done = await waitForRun(created.id, run.id);
    const items = [];
    for await (const item of client.evals.runs.outputItems.list(run.id, { eval_id: created.id })) items.push(item);
    return { done, items };
  });

  await scenario('evals.runs.cancel', async () => {
    const run = await client.evals.runs.create(created.id, {
      data_source: {
        type: 'completions', model: 'tuneforge-tiny',
        input_messages: { type: 'template', template: [{ role: 'user', content: '{{item.question}}' }] },
        sampling_params: { max_completion_tokens: 64 },
        source: { type: 'file_content', content: Array.from({ length: 100 }, (_, i) => ({ item: { question: `Question ${i}?`, reference: 'x' } })) },
      },
    });
    return await client.evals.runs.cancel(run.id, { eval_id: created.id });
  });

  await scenario('evals.runs.badItem', async () => {
    try {
      await client.evals.runs.create(created.id, { data_source: { type: 'jsonl', source: { type: 'file_content', content: [{ item: { question: 1, reference: 'x' }, sample: { output_text: 'x' } }] } } });
      return { raised: false };
    } catch (err) {
      return { raised: true, status: err.status, param: err.param };
    }
  });

  await scenario('evals.delete', async () => client.evals.delete(created.id));
}
