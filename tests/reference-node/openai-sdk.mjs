// Drives a running Tuneforge service with the official Node SDK (npm `openai`, pinned in package-lock.json),
// changing nothing but the base URL. Usage:
//   node openai-sdk.mjs <group> [baseURL] [apiKey]     (or TUNEFORGE_BASE_URL / TUNEFORGE_API_KEY)
// Groups: files, uploads, jobs, models, errors, chat, completions, embeddings, trained (needs a training worker). Prints one JSON line per scenario:
//   {"scenario": "...", "ok": true, "value": {...}}  or  {"scenario": "...", "ok": false, "error": {...}}
// The .NET tests (NodeSdkTests) assert on these values; this script only observes and records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile, APIError, BadRequestError, NotFoundError } from 'openai';

const [group, argUrl, argKey] = process.argv.slice(2);
const baseURL = argUrl ?? process.env.TUNEFORGE_BASE_URL;
const apiKey = argKey ?? process.env.TUNEFORGE_API_KEY;
if (!group || !baseURL || !apiKey) {
  console.error('usage: node openai-sdk.mjs <files|uploads|jobs|models|errors|chat|completions|embeddings|trained> <baseURL> <apiKey>');
  process.exit(2);
}
// No retries: a 5xx must surface as itself, not as a slow success on the third try.
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const runTag = `node-${process.pid}-${Date.now()}`;

function describeError(err) {
  return {
    class: err?.constructor?.name ?? typeof err,
    isApiError: err instanceof APIError,
    isNotFound: err instanceof NotFoundError,
    isBadRequest: err instanceof BadRequestError,
    status: err?.status ?? null,
    requestID: err?.requestID ?? null,
    code: err?.code ?? null,
    param: err?.param ?? null,
    type: err?.type ?? null,
    error: err?.error ?? null,
    message: String(err?.message ?? err),
  };
}

async function scenario(name, fn) {
  let line;
  try {
    line = { scenario: name, ok: true, value: await fn() };
  } catch (err) {
    line = { scenario: name, ok: false, error: describeError(err) };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
  return line.ok ? line.value : undefined;
}

/** Runs a call that is expected to fail and records the error the SDK raised (or that none was raised). */
async function expectError(call) {
  try {
    const value = await call();
    return { raised: false, value };
  } catch (err) {
    return { raised: true, ...describeError(err) };
  }
}

async function collect(iterable, limit = 1000) {
  const items = [];
  for await (const item of iterable) {
    items.push(item);
    if (items.length >= limit) break;
  }
  return items;
}

function chatJsonl(examples, tag) {
  let text = '';
  for (let i = 0; i < examples; i++) {
    const answer = i % 2 === 0 ? 'Red' : 'Blue';
    text += JSON.stringify({ messages: [
      { role: 'system', content: `You answer in one word. (${tag})` },
      { role: 'user', content: `Colour number ${i}? ünïcødé ✓` },
      { role: 'assistant', content: answer },
    ] }) + '\n';
  }
  return text;
}

function writeTemp(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuneforge-node-sdk-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const groups = {
  async files() {
    const text = chatJsonl(10, runTag);
    const file = writeTemp('train.jsonl', text);
    const created = await scenario('files.create.stream', async () => {
      const f = await client.files.create({ file: fs.createReadStream(file), purpose: 'fine-tune' });
      return { file: f, expectedBytes: Buffer.byteLength(text) };
    });
    const second = await scenario('files.create.toFile', async () => {
      const f = await client.files.create({ file: await toFile(Buffer.from(text), 'second.jsonl'), purpose: 'fine-tune' });
      return { file: f, expectedBytes: Buffer.byteLength(text) };
    });
    const third = await scenario('files.create.third', async () =>
      ({ file: await client.files.create({ file: await toFile(Buffer.from(text), 'third.jsonl'), purpose: 'fine-tune' }) }));
    // Node sends expires_after as the form fields expires_after[anchor] / expires_after[seconds].
    await scenario('files.create.expires', async () => {
      const f = await client.files.create({ file: await toFile(Buffer.from(text), 'expiring.jsonl'), purpose: 'fine-tune',
        expires_after: { anchor: 'created_at', seconds: 3600 } });
      return { file: f };
    });
    await scenario('files.waitForProcessing', async () =>
      ({ file: await client.files.waitForProcessing(created.file.id, { pollInterval: 100, maxWait: 30_000 }) }));
    await scenario('files.list.paging', async () => {
      const firstPage = await client.files.list({ limit: 1 });
      const all = await collect(client.files.list({ limit: 1 }));
      const ids = all.map((f) => f.id);
      return {
        firstPageCount: firstPage.data.length,
        firstPageHasMore: firstPage.has_more ?? null,
        firstPageHasNext: firstPage.hasNextPage(),
        ids,
        distinct: new Set(ids).size,
        expected: [created?.file.id, second?.file.id, third?.file.id],
      };
    });
    await scenario('files.list.purpose', async () =>
      ({ purposes: [...new Set((await collect(client.files.list({ purpose: 'fine-tune' }))).map((f) => f.purpose))] }));
    await scenario('files.retrieve', async () => ({ file: await client.files.retrieve(created.file.id) }));
    await scenario('files.content', async () => {
      const response = await client.files.content(created.file.id);
      const bytes = Buffer.from(await response.arrayBuffer());
      const original = fs.readFileSync(file);
      return { status: response.status, length: bytes.length, expectedLength: original.length, identical: bytes.equals(original) };
    });
    await scenario('files.delete', async () => {
      const deleted = await client.files.delete(second.file.id);
      const after = await expectError(() => client.files.retrieve(second.file.id));
      const listed = (await collect(client.files.list())).some((f) => f.id === second.file.id);
      return { deleted, retrieveAfter: after, stillListed: listed };
    });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  },

  async jobs() {
    const upload = await client.files.create({ file: await toFile(Buffer.from(chatJsonl(12, runTag)), 'jobs.jsonl'), purpose: 'fine-tune' });
    const top = await scenario('jobs.create.hyperparameters', async () => ({ job: await client.fineTuning.jobs.create({
      model: 'tuneforge-tiny',
      training_file: upload.id,
      hyperparameters: { n_epochs: 2, batch_size: 'auto', learning_rate_multiplier: 0.5 },
      suffix: 'node-top',
      seed: 7,
      metadata: { team: `${runTag}-a` },
    }) }));
    const spacedJob = await client.fineTuning.jobs.create({ model: 'tuneforge-tiny', training_file: upload.id, metadata: { team: `${runTag} a` } });
    const method = await scenario('jobs.create.method', async () => ({ job: await client.fineTuning.jobs.create({
      model: 'tuneforge-tiny',
      training_file: upload.id,
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 2 } } },
      metadata: { team: `${runTag}-b` },
    }) }));
    await scenario('jobs.list.metadata', async () => {
      const filtered = await collect(client.fineTuning.jobs.list({ metadata: { team: `${runTag}-a` } }));
      const paged = await collect(client.fineTuning.jobs.list({ limit: 1 }));
      // Brackets and a space in the query: ?metadata%5Bteam%5D=...%20a
      const spacedJobs = await collect(client.fineTuning.jobs.list({ metadata: { team: `${runTag} a` } }));
      return {
        filteredIds: filtered.map((j) => j.id),
        spacedIds: spacedJobs.map((j) => j.id),
        pagedIds: paged.map((j) => j.id),
        expectedA: top?.job.id, expectedB: method?.job.id, expectedSpaced: spacedJob.id,
      };
    });
    await scenario('jobs.retrieve', async () => ({ job: await client.fineTuning.jobs.retrieve(top.job.id) }));
    await scenario('jobs.listEvents', async () => {
      const events = await collect(client.fineTuning.jobs.listEvents(top.job.id, { limit: 1 }));
      return { events };
    });
    await scenario('jobs.checkpoints.list', async () => {
      const page = await client.fineTuning.jobs.checkpoints.list(top.job.id, { limit: 5 });
      return { data: page.data, hasMore: page.has_more ?? null, all: await collect(client.fineTuning.jobs.checkpoints.list(top.job.id)) };
    });
    await scenario('jobs.pause.resume', async () => {
      // Validation finishes without a trainer (--workers 0) and leaves the job queued, which can be paused.
      let status = spacedJob.status;
      for (let i = 0; i < 300 && status === 'validating_files'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await client.fineTuning.jobs.retrieve(spacedJob.id)).status;
      }
      const paused = await client.fineTuning.jobs.pause(spacedJob.id);
      const pausedAgain = await expectError(() => client.fineTuning.jobs.pause(spacedJob.id));
      const resumed = await client.fineTuning.jobs.resume(spacedJob.id);
      await client.fineTuning.jobs.cancel(spacedJob.id);
      return { before: status, paused: paused.status, pausedAgain, resumed: resumed.status };
    });
    await scenario('jobs.cancel', async () => {
      const cancelled = await client.fineTuning.jobs.cancel(method.job.id);
      const again = await client.fineTuning.jobs.retrieve(method.job.id);
      await client.fineTuning.jobs.cancel(top.job.id);
      return { cancelled, retrievedStatus: again.status };
    });
  },

  // Needs a service that trains (workers > 0): a real job to a fine-tuned model, then that model through the SDK.
  async trained() {
    const upload = await client.files.create({ file: await toFile(Buffer.from(chatJsonl(12, runTag)), 'trained.jsonl'), purpose: 'fine-tune' });
    const job = await scenario('trained.job', async () => {
      let current = await client.fineTuning.jobs.create({ model: 'tuneforge-tiny', training_file: upload.id, suffix: 'node', seed: 7,
        method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } } });
      const deadline = Date.now() + 300_000;
      while (!['succeeded', 'failed', 'cancelled'].includes(current.status) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        current = await client.fineTuning.jobs.retrieve(current.id);
      }
      return { job: current };
    });
    const model = job?.job.fine_tuned_model;
    await scenario('trained.events', async () => ({ events: await collect(client.fineTuning.jobs.listEvents(job.job.id, { limit: 5 })) }));
    const checkpoints = await scenario('trained.checkpoints', async () =>
      ({ checkpoints: await collect(client.fineTuning.jobs.checkpoints.list(job.job.id, { limit: 1 })) }));
    await scenario('trained.models', async () => ({
      retrieved: await client.models.retrieve(model),
      listed: (await client.models.list()).data.map((m) => m.id),
    }));
    await scenario('trained.chat', async () => {
      const ask = (m) => client.chat.completions.create({ model: m, messages: [{ role: 'system', content: `You answer in one word. (${runTag})` },
        { role: 'user', content: 'Colour number 4? ünïcødé ✓' }], temperature: 0, max_tokens: 4 });
      const checkpoint = checkpoints.checkpoints.at(-1)?.fine_tuned_model_checkpoint;
      return { model: await ask(model), checkpointModel: checkpoint, checkpoint: await ask(checkpoint) };
    });
    await scenario('trained.delete', async () => ({
      deleted: await client.models.delete(model),
      retrieveAfter: await expectError(() => client.models.retrieve(model)),
    }));
  },

  async models() {
    await scenario('models.list', async () => {
      const page = await client.models.list();
      return { ids: page.data.map((m) => m.id), iterated: (await collect(client.models.list())).map((m) => m.id), first: page.data[0] };
    });
    await scenario('models.retrieve', async () => {
      const { data, request_id } = await client.models.retrieve('tuneforge-tiny').withResponse();
      return { model: data, requestId: request_id ?? null };
    });
  },

  async errors() {
    await scenario('errors.file.notfound', async () => expectError(() => client.files.retrieve('file-doesnotexist0000000000')));
    await scenario('errors.model.notfound', async () => expectError(() => client.models.retrieve('no-such-model')));
    await scenario('errors.job.notfound', async () => expectError(() => client.fineTuning.jobs.retrieve('ftjob-doesnotexist000000000')));
    await scenario('errors.files.badpurpose', async () => expectError(async () =>
      client.files.create({ file: await toFile(Buffer.from(chatJsonl(2, runTag)), 'x.jsonl'), purpose: 'not-a-purpose' })));
    await scenario('errors.jobs.badepochs', async () => {
      const upload = await client.files.create({ file: await toFile(Buffer.from(chatJsonl(10, runTag)), 'e.jsonl'), purpose: 'fine-tune' });
      return expectError(() => client.fineTuning.jobs.create({
        model: 'tuneforge-tiny', training_file: upload.id, hyperparameters: { n_epochs: 0 } }));
    });
    await scenario('errors.auth', async () =>
      expectError(() => new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 }).files.list()));
    // Node keeps ':' literal in the path; the id must still be read whole.
    await scenario('errors.ftmodel.notfound', async () => expectError(() => client.models.retrieve('ft:tuneforge-tiny:org-a:x:abc123')));
    // A bad parameter on a streamed request is refused before the stream starts.
    await scenario('errors.chat.stream.badtemperature', async () => expectError(async () => {
      const stream = await client.chat.completions.create({ model: 'tuneforge-tiny', messages: [{ role: 'user', content: 'Hi' }], temperature: 7, stream: true });
      for await (const chunk of stream) void chunk;
    }));
    await scenario('errors.chat.unknownmodel', async () => expectError(() => client.chat.completions.create({
      model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 })));
  },

  async uploads() {
    await scenario('uploads.parts.complete', async () => {
      const data = Buffer.from(chatJsonl(10, runTag));
      const upload = await client.uploads.create({ bytes: data.length, filename: 'parts.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' });
      const half = Math.floor(data.length / 2);
      const first = await client.uploads.parts.create(upload.id, { data: await toFile(data.subarray(0, half), 'part-1') });
      const second = await client.uploads.parts.create(upload.id, { data: await toFile(data.subarray(half), 'part-2') });
      const done = await client.uploads.complete(upload.id, { part_ids: [first.id, second.id] });
      const content = Buffer.from(await (await client.files.content(done.file.id)).arrayBuffer());
      return { upload, part: first, done, expectedBytes: data.length, identical: content.equals(data) };
    });
  },

  async chat() {
    const request = {
      model: 'tuneforge-tiny',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello!' }],
      temperature: 0,
      max_tokens: 8,
    };
    const plain = await scenario('chat.create', async () => ({ completion: await client.chat.completions.create(request) }));
    await scenario('chat.stream', async () => {
      const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) {
        chunks.push({
          object: chunk.object,
          id: chunk.id,
          choices: chunk.choices.map((c) => ({ index: c.index, role: c.delta?.role ?? null, content: c.delta?.content ?? null, finish_reason: c.finish_reason ?? null })),
          usage: chunk.usage ?? null,
        });
      }
      const text = chunks.flatMap((c) => c.choices.map((x) => x.content ?? '')).join('');
      return { chunks, text, ended: true, plainText: plain?.completion.choices[0]?.message.content ?? null };
    });
    await scenario('chat.max_completion_tokens', async () => {
      const { max_tokens, ...rest } = request;
      return { completion: await client.chat.completions.create({ ...rest, max_completion_tokens: 3 }) };
    });
    // Sampling at a high temperature reaches every id the model can emit, padding ids included: each must decode.
    await scenario('chat.sampled', async () => {
      const sampled = { ...request, messages: [{ role: 'user', content: 'Tell me something.' }], temperature: 1.5, max_tokens: 16 };
      const runs = [];
      for (let seed = 1; seed <= 6; seed++) {
        runs.push(await expectError(async () => (await client.chat.completions.create({ ...sampled, seed })).choices[0].message.content));
      }
      let streamed = '';
      const stream = await client.chat.completions.create({ ...sampled, seed: 1, stream: true });
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
      return { runs, streamedSeed1: streamed };
    });
    // Two choices: each must open with its role and close with its own finish_reason, or the helper throws.
    await scenario('chat.n2', async () => {
      const two = { ...request, messages: [{ role: 'user', content: 'Hi' }], n: 2, temperature: 0.8, seed: 3, max_tokens: 6 };
      const texts = (choices, pick) => [...choices].sort((a, b) => a.index - b.index).map(pick);
      const plain = await client.chat.completions.create(two);
      const stream = await client.chat.completions.create({ ...two, stream: true });
      const byIndex = {};
      for await (const chunk of stream) {
        for (const c of chunk.choices) {
          const entry = (byIndex[c.index] ??= { role: null, text: '', finish: null, chunksAfterFinish: 0 });
          if (entry.finish) entry.chunksAfterFinish++;
          if (c.delta?.role) entry.role ??= c.delta.role;
          entry.text += c.delta?.content ?? '';
          entry.finish ??= c.finish_reason ?? null;
        }
      }
      const helper = await client.chat.completions.stream(two).finalChatCompletion();
      return {
        plain: texts(plain.choices, (c) => ({ text: c.message.content, finish: c.finish_reason })),
        streamed: Object.keys(byIndex).sort().map((k) => byIndex[k]),
        helper: texts(helper.choices, (c) => ({ role: c.message.role, text: c.message.content, finish: c.finish_reason })),
      };
    });
    await scenario('chat.stream.helper', async () => {
      const runner = client.chat.completions.stream(request);
      const final = await runner.finalChatCompletion();
      return { completion: final, content: await runner.finalContent() };
    });
  },

  async completions() {
    const request = { model: 'tuneforge-tiny', prompt: 'Once upon a time', temperature: 0, max_tokens: 8 };
    const plain = await scenario('completions.create', async () => ({ completion: await client.completions.create(request) }));
    await scenario('completions.prompts', async () =>
      ({ completion: await client.completions.create({ ...request, prompt: ['Once upon a time', 'The end'], max_tokens: 3 }) }));
    await scenario('completions.stream', async () => {
      const stream = await client.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const text = chunks.flatMap((c) => c.choices.map((x) => x.text ?? '')).join('');
      return { count: chunks.length, text, plainText: plain?.completion.choices[0]?.text ?? null,
        finishReasons: chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((r) => r), lastUsage: chunks.at(-1)?.usage ?? null };
    });
  },

  async embeddings() {
    const model = 'all-MiniLM-L6-v2';
    const input = ['A man is playing a guitar.', 'Someone strums an instrument.', 'A man is playing a game of chess.'];
    const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
    const shape = (r) => ({
      object: r.object, model: r.model, usage: r.usage,
      items: r.data.map((d) => ({ object: d.object, index: d.index, isArray: Array.isArray(d.embedding), length: d.embedding.length })),
    });
    // Without encoding_format the SDK asks for base64 and decodes it into numbers.
    const decoded = await scenario('embeddings.create', async () => {
      const r = await client.embeddings.create({ model, input });
      const v = r.data.map((d) => d.embedding);
      return { ...shape(r), norms: v.map((x) => Math.sqrt(dot(x, x))), paraphrase: dot(v[0], v[1]), overlap: dot(v[0], v[2]), vectors: v };
    });
    await scenario('embeddings.create.float', async () => {
      const r = await client.embeddings.create({ model, input, encoding_format: 'float' });
      // JSON floats are float32 values in their shortest form: rounded back to float32 they equal the decoded base64.
      const maxDifference = Math.max(...r.data.flatMap((d, i) => d.embedding.map((x, j) => Math.abs(Math.fround(x) - decoded.vectors[i][j]))));
      return { ...shape(r), maxDifference };
    });
    await scenario('embeddings.create.base64', async () => {
      const r = await client.embeddings.create({ model, input: input[0], encoding_format: 'base64' });
      return { ...shape(r), type: typeof r.data[0].embedding };
    });
    await scenario('embeddings.errors', async () => ({
      empty: await expectError(() => client.embeddings.create({ model, input: '' })),
      emptyInArray: await expectError(() => client.embeddings.create({ model, input: ['fine', ''] })),
      unknownModel: await expectError(() => client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })),
      dimensions: await expectError(() => client.embeddings.create({ model, input: 'hello', dimensions: 256 })),
    }));
  },
};

if (!groups[group]) {
  console.error(`unknown group ${group}; expected one of ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
await groups[group]();
