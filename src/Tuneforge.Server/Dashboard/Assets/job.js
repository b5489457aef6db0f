// One job, live: loss and token-accuracy curves from its metrics events, checkpoints with their metrics,
// hyperparameters, the data-validation notes, the event log and the cancel/pause/resume/export actions.
// While the job is unfinished the page polls its events, checkpoints and status every POLL_MS.
import { api, ApiError, download } from "./api.js";
import { h, show, fill, errorBox, table, when, status, fmt } from "./dom.js";

const POLL_MS = 1500;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export async function jobPage(id) {
  let job;
  try { job = await api(`/fine_tuning/jobs/${encodeURIComponent(id)}`); }
  catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      show(h("h1", {}, "Job not found"),
        h("p", { class: "error", id: "not-found", role: "alert" },
          `No fine-tuning job ${id} in your organisation. It may not exist, or belong to another organisation.`),
        h("p", {}, h("a", { href: "/jobs" }, "All jobs")));
      return;
    }
    throw e;
  }

  const header = h("div", { class: "card" });
  const notice = h("div");
  const actionNotice = h("div");
  const lossChart = chartBox("loss-chart", "Loss");
  const accuracyChart = chartBox("accuracy-chart", "Token accuracy");
  const hyperparameters = h("div", { class: "card", id: "hyperparameters" });
  const validation = h("div", { class: "card", id: "data-validation" });
  const checkpoints = h("div", { id: "checkpoints" });
  const eventLog = h("div", { class: "events card", id: "events" });
  show(header, actionNotice, notice,
    h("div", { class: "grid" }, h("div", { class: "card" }, h("h2", {}, "Loss"), lossChart.box),
      h("div", { class: "card" }, h("h2", {}, "Token accuracy"), accuracyChart.box)),
    h("div", { class: "grid" }, h("div", {}, h("h2", {}, "Hyperparameters"), hyperparameters),
      h("div", {}, h("h2", {}, "Data validation"), validation)),
    h("h2", {}, "Checkpoints"), checkpoints,
    h("h2", {}, "Events"), eventLog);

  const events = { known: new Set(), ordered: [] }; // ids seen; events oldest first, in the service's order
  const loss = lossChart.create([
    { label: "training loss", key: "train_loss", color: "#2f6fed" },
    { label: "validation loss", key: "valid_loss", color: "#e0781f" },
    { label: "full validation loss", key: "full_valid_loss", color: "#a23bd1" },
  ]);
  const accuracy = accuracyChart.create([
    { label: "training token accuracy", key: "train_mean_token_accuracy", color: "#067647" },
    { label: "validation token accuracy", key: "valid_mean_token_accuracy", color: "#c11574" },
  ]);

  async function refresh() {
    job = await api(`/fine_tuning/jobs/${encodeURIComponent(id)}`);
    await fetchEvents(id, events);
    const all = events.ordered;
    const metrics = metricsByStep(all);
    loss.update(metrics);
    accuracy.update(metrics);
    renderHeader(header, job, refreshSoon, actionNotice);
    renderHyperparameters(hyperparameters, job);
    renderValidation(validation, job, all);
    renderEvents(eventLog, all);
    renderCheckpoints(checkpoints, (await api(`/fine_tuning/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`)).data, job);
  }

  let timer = null;
  async function loop() {
    try { await refresh(); fill(notice); }
    catch (e) { fill(notice, errorBox(e)); }
    if (!TERMINAL.has(job.status)) timer = setTimeout(loop, POLL_MS);
    else timer = null;
  }
  function refreshSoon() { clearTimeout(timer); loop(); }
  await loop();
}

/** The API lists newest first; the first call reads them all, later calls only the newest pages until a known id. */
async function fetchEvents(id, events) {
  const base = `/fine_tuning/jobs/${encodeURIComponent(id)}/events`;
  const fresh = []; // newest first
  if (events.known.size === 0) fresh.push(...(await api(`${base}?limit=10000`)).data);
  else {
    let after = null;
    for (;;) {
      const page = await api(`${base}?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      const stop = page.data.findIndex(e => events.known.has(e.id));
      fresh.push(...(stop < 0 ? page.data : page.data.slice(0, stop)));
      if (stop >= 0 || !page.has_more || page.data.length === 0) break;
      after = page.data[page.data.length - 1].id;
    }
  }
  for (const e of fresh.reverse()) { events.known.add(e.id); events.ordered.push(e); }
}

/** Metrics events in step order; a step reported twice (after a resume) keeps its last values. */
function metricsByStep(events) {
  const steps = new Map();
  for (const e of events) if (e.type === "metrics" && e.data) steps.set(e.data.step, e.data);
  return [...steps.values()].sort((a, b) => a.step - b.step);
}

function chartBox(id, title) {
  const canvas = h("canvas", { "aria-label": title, role: "img" });
  const box = h("div", { class: "chart-box", id, dataset: { points: "0" } }, canvas);
  return {
    box,
    create(series) {
      const chart = new window.Chart(canvas, {
        type: "line",
        data: { datasets: series.map(s => ({ label: s.label, data: [], borderColor: s.color, backgroundColor: s.color, pointRadius: 0, borderWidth: 1.5, spanGaps: true })) },
        options: {
          animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
          interaction: { mode: "nearest", axis: "x", intersect: false },
          scales: { x: { type: "linear", title: { display: true, text: "step" } } },
          // A series the job does not measure (no validation file) stays out of the legend.
          plugins: { legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } } },
        },
      });
      return {
        update(metrics) {
          series.forEach((s, i) => {
            chart.data.datasets[i].data = metrics.filter(m => typeof m[s.key] === "number").map(m => ({ x: m.step, y: m[s.key] }));
            chart.data.datasets[i].hidden = chart.data.datasets[i].data.length === 0;
          });
          chart.update("none");
          // Points of the first series (training), for anyone reading the page: tests watch it grow.
          box.dataset.points = String(chart.data.datasets[0].data.length);
        },
      };
    },
  };
}

function renderHeader(header, job, refreshSoon, actionNotice) {
  const act = verb => async () => {
    fill(actionNotice);
    try { await api(`/fine_tuning/jobs/${encodeURIComponent(job.id)}/${verb}`, { method: "POST" }); }
    catch (e) { fill(actionNotice, errorBox(e)); }
    refreshSoon();
  };
  const running = ["validating_files", "queued", "running"].includes(job.status);
  const model = job.fine_tuned_model;
  fill(header,
    h("h1", {}, "Job ", h("span", { class: "mono" }, job.id), " ", h("span", { id: "job-status" }, status(job.status))),
    h("p", {}, "Base model ", h("b", {}, job.model), job.user_provided_suffix ? ` · suffix ${job.user_provided_suffix}` : "",
      ` · created ${when(job.created_at)}`, job.finished_at ? ` · finished ${when(job.finished_at)}` : "",
      job.trained_tokens ? ` · ${job.trained_tokens} trained tokens` : "",
      job.estimated_finish ? ` · estimated finish ${when(job.estimated_finish)}` : ""),
    model ? h("p", {}, "Fine-tuned model ", h("code", {}, model)) : null,
    job.error ? h("p", { class: "error" }, `${job.error.code}: ${job.error.message}`) : null,
    h("div", { class: "row" },
      h("button", { onclick: act("cancel"), disabled: TERMINAL.has(job.status) }, "Cancel"),
      h("button", { onclick: act("pause"), disabled: !running }, "Pause"),
      h("button", { onclick: act("resume"), disabled: job.status !== "paused" }, "Resume"),
      model ? h("a", { class: "button", href: `/playground?models=${encodeURIComponent(model)}` }, "Chat with the model") : null,
      model ? h("a", { class: "button", href: `/playground?models=${encodeURIComponent(job.model)},${encodeURIComponent(model)}` }, "Compare with the base") : null,
      // The PEFT adapter folder (and step_metrics.csv) as one zip, named like the server names it.
      model ? h("button", { id: "export-model", onclick: () => download(`/models/${encodeURIComponent(model)}/export`,
        model.replace(/[^A-Za-z0-9._-]/g, "_") + ".zip").catch(e => fill(actionNotice, errorBox(e))) }, "Export") : null));
}

function renderHyperparameters(box, job) {
  const hp = job.method?.supervised?.hyperparameters ?? job.hyperparameters ?? {};
  fill(box, table(["Name", "Value"], Object.entries(hp).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, String(v))))),
    h("p", { class: "muted" }, `seed ${job.seed} · training file `, h("code", {}, job.training_file),
      job.validation_file ? [" · validation file ", h("code", {}, job.validation_file)] : ""));
}

/** The validating_files step reports per file: "file-…: N examples, M tokens; …", warnings and errors by line. */
function renderValidation(box, job, events) {
  const files = [job.training_file, job.validation_file].filter(Boolean);
  const notes = events.filter(e => files.some(f => e.message.startsWith(`${f}:`)) || e.message.startsWith("Token counts not checked"));
  fill(box, notes.length === 0
    ? h("p", { class: "muted" }, job.status === "validating_files" ? "Validating…" : "No validation notes.")
    : h("ul", {}, notes.map(e => h("li", { class: e.level === "error" ? "error" : e.level === "warn" ? "" : "muted" }, e.message))));
}

function renderEvents(box, events) {
  const newest = events.filter(e => e.type !== "metrics").slice(-200).reverse();
  const lastMetrics = events.filter(e => e.type === "metrics").at(-1);
  fill(box,
    lastMetrics ? h("p", { class: "mono" }, lastMetrics.message) : null,
    table(["Time", "Level", "Message"], newest.map(e =>
      h("tr", {}, h("td", {}, when(e.created_at)), h("td", {}, e.level), h("td", {}, e.message)))));
}

function renderCheckpoints(box, checkpoints, job) {
  fill(box, checkpoints.length === 0 ? h("p", { class: "muted" }, "No checkpoint yet.") :
    table(["Step#", "Model", "Train loss#", "Train acc.#", "Valid loss#", "Valid acc.#", ""], checkpoints.map(c =>
      h("tr", {},
        h("td", { class: "num" }, c.step_number),
        h("td", { class: "mono" }, c.fine_tuned_model_checkpoint),
        h("td", { class: "num" }, fmt(c.metrics.train_loss)),
        h("td", { class: "num" }, fmt(c.metrics.train_mean_token_accuracy)),
        h("td", { class: "num" }, fmt(c.metrics.valid_loss ?? c.metrics.full_valid_loss)),
        h("td", { class: "num" }, fmt(c.metrics.valid_mean_token_accuracy ?? c.metrics.full_valid_mean_token_accuracy)),
        h("td", {}, h("a", { href: `/playground?models=${encodeURIComponent(job.model)},${encodeURIComponent(c.fine_tuned_model_checkpoint)}` }, "compare"))))));
}
