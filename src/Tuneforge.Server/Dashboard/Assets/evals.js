// Evals: every eval, and per eval its runs (status, result counts, per-criterion results) with output samples.
// A comparison (eval metadata.kind == "comparison", written by `tuneforge compare`: one run per arm, numbers in the
// run metadata) shows its arms as one table and, when metadata.report_file_id is set, the HTML report in a sandbox.
import { api } from "./api.js";
import { h, show, fill, errorBox, table, when, status } from "./dom.js";
import { pagedTable } from "./paging.js";

export async function evalList() {
  const list = h("div", { id: "eval-list" });
  show(h("h1", {}, "Evals"), list);
  await pagedTable(list, "/evals?order=desc", ["Eval", "Name", "Kind", "Created"], e =>
    h("tr", { dataset: { eval: e.id } },
      h("td", {}, h("a", { class: "mono", href: `/evals/${encodeURIComponent(e.id)}` }, e.id)),
      h("td", {}, e.name),
      h("td", {}, e.metadata?.kind ?? ""),
      h("td", {}, when(e.created_at))),
    "No evals yet.");
}

export async function evalPage(id) {
  const ev = await api(`/evals/${encodeURIComponent(id)}`);
  const runs = (await api(`/evals/${encodeURIComponent(id)}/runs?limit=100`)).data;
  const samples = h("div", { id: "samples" });
  const comparison = ev.metadata?.kind === "comparison";
  show(
    h("h1", {}, ev.name || ev.id, " ", h("span", { class: "muted mono" }, ev.id)),
    comparison ? comparisonView(ev, runs) : null,
    h("h2", {}, "Runs"),
    runs.length === 0 ? h("p", { class: "muted" }, "No runs yet.") :
      table(["Run", "Model", "Status", "Passed#", "Failed#", "Errored#", "Total#", "Criteria", ""], runs.map(r =>
        h("tr", { dataset: { run: r.id } },
          h("td", {}, h("span", { class: "mono" }, r.id), h("div", { class: "muted" }, r.name)),
          h("td", { class: "mono" }, r.model ?? ""),
          h("td", {}, status(r.status), r.error ? h("div", { class: "error" }, r.error.message) : null),
          h("td", { class: "num" }, r.result_counts.passed), h("td", { class: "num" }, r.result_counts.failed),
          h("td", { class: "num" }, r.result_counts.errored), h("td", { class: "num" }, r.result_counts.total),
          h("td", {}, (r.per_testing_criteria_results ?? []).map(c => h("div", {}, `${c.testing_criteria}: ${c.passed} passed, ${c.failed} failed`))),
          h("td", {}, h("button", { class: "link", onclick: () => showSamples(id, r, samples) }, "samples"))))),
    samples);
}

async function showSamples(evalId, run, box) {
  fill(box, h("p", { class: "muted" }, "Loading…"));
  try {
    const items = (await api(`/evals/${encodeURIComponent(evalId)}/runs/${encodeURIComponent(run.id)}/output_items?limit=20`)).data;
    const text = messages => (messages ?? []).map(m => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n");
    fill(box, h("h2", {}, `Samples of ${run.name || run.id}`), items.length === 0 ? h("p", { class: "muted" }, "No output items.") :
      table(["#", "Status", "Input", "Output", "Grades"], items.map(i => h("tr", {},
        h("td", { class: "num" }, i.datasource_item_id),
        h("td", {}, status(i.status)),
        h("td", { class: "answer" }, text(i.sample?.input)),
        h("td", { class: "answer" }, text(i.sample?.output), i.sample?.error?.message ? h("div", { class: "error" }, i.sample.error.message) : null),
        h("td", {}, (i.results ?? []).map(g => h("div", {}, `${g.name}: ${g.passed ? "pass" : "fail"} (${typeof g.score === "number" ? g.score.toFixed(3) : g.score})`)))))));
  } catch (e) { fill(box, errorBox(e)); }
}

/** The arms side by side (every run metadata key a column) and the compare report, if one was uploaded. */
function comparisonView(ev, runs) {
  const keys = [...new Set(runs.flatMap(r => Object.keys(r.metadata ?? {})))].filter(k => k !== "arm");
  const report = h("div", { id: "comparison-report" });
  const card = h("div", { class: "card", id: "comparison" },
    h("h2", {}, "Comparison"),
    ev.metadata.break_even_requests ? h("p", {}, `Break-even after ${ev.metadata.break_even_requests} requests.`) : null,
    table(["Arm", "Model", ...keys], runs.map(r => h("tr", {},
      h("td", {}, r.metadata?.arm ?? r.name), h("td", { class: "mono" }, r.model ?? ""),
      keys.map(k => h("td", { class: /^-?[\d.]+(e-?\d+)?$/.test(r.metadata?.[k] ?? "") ? "num" : null }, r.metadata?.[k] ?? ""))))),
    report);
  if (ev.metadata.report_file_id) loadReport(ev.metadata.report_file_id, report);
  return card;
}

/**
 * The report is a self-contained HTML file with inline scripts: shown in a sandboxed frame (scripts, but no access to
 * this page) whose own page, report-frame.html, allows them and nothing else; the HTML is posted to it once it loaded.
 */
async function loadReport(fileId, box) {
  try {
    const response = await api(`/files/${encodeURIComponent(fileId)}/content`, { raw: true });
    const html = await response.text();
    const frame = h("iframe", { class: "report", sandbox: "allow-scripts", src: "/assets/report-frame.html", title: "compare report" });
    frame.addEventListener("load", () => frame.contentWindow.postMessage(html, "*"), { once: true });
    fill(box, h("h2", {}, "Report"), frame);
  } catch (e) { fill(box, errorBox(`The report file ${fileId} could not be read: ${e.message}`)); }
}
