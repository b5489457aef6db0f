// Blind review: a reviewer judges pairs of answers shown as A and B (models hidden) with the keys a / b / t,
// or writes a better answer (e); the next pair follows at once. Results show win rates and reviewer agreement;
// the judgements download as chat JSONL or upload as a training file. ?set=ID opens a set directly.
import { api, download, ApiError } from "./api.js";
import { h, show, fill, errorBox, table, fmt } from "./dom.js";

const REVIEWER = "tuneforge.reviewer";

export async function review() {
  let sets;
  try { sets = (await api("/review_sets?limit=100")).data; }
  catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      show(h("h1", {}, "Blind review"), h("p", { class: "error" }, "This service has no review sets API (GET /v1/review_sets answered 404)."));
      return;
    }
    throw e;
  }
  const params = new URLSearchParams(location.search);
  const reviewer = h("input", { id: "reviewer", value: sessionStorage.getItem(REVIEWER) ?? "", placeholder: "your name", autocomplete: "name" });
  const picker = h("select", { id: "review-set" }, h("option", { value: "" }, sets.length ? "— choose a review set —" : "— no review sets yet —"),
    sets.map(s => h("option", { value: s.id, selected: s.id === params.get("set") }, `${s.name} (${s.item_count ?? "?"} items)`)));
  const stage = h("div", { id: "review-stage" });
  const results = h("div", { id: "review-results" });
  const failure = h("div");

  const start = async () => {
    fill(failure);
    sessionStorage.setItem(REVIEWER, reviewer.value.trim());
    if (!picker.value) return;
    history.replaceState(null, "", `/review?set=${encodeURIComponent(picker.value)}`);
    if (!reviewer.value.trim()) { fill(stage, h("p", { class: "muted" }, "Enter your name to start reviewing.")); return; }
    await session(picker.value, reviewer.value.trim(), stage, results).catch(e => fill(failure, errorBox(e)));
  };
  reviewer.addEventListener("change", start);
  picker.addEventListener("change", start);

  show(h("h1", {}, "Blind review"),
    h("div", { class: "card row" },
      h("label", { for: "reviewer" }, "Reviewer"), reviewer,
      h("label", { for: "review-set" }, "Review set"), picker,
      h("details", {}, h("summary", {}, "New set from two eval runs"), await createForm(picker, start))),
    failure, stage, results);
  if (picker.value) await start();
}

/** Judging loop for one reviewer on one set. */
async function session(setId, reviewer, stage, results) {
  const base = `/review_sets/${encodeURIComponent(setId)}`;
  let item = null, busy = false;
  const better = h("textarea", { id: "better-answer", rows: 4, placeholder: "A better answer (optional): Esc to leave the box, then a / b / t" });
  const betterBox = h("div", { hidden: true }, h("label", { for: "better-answer" }, "Better answer"), better);

  async function next() {
    item = await api(`${base}/next?reviewer=${encodeURIComponent(reviewer)}`);
    if (item.id === null) {
      fill(stage, h("div", { class: "card", id: "review-done" }, h("h2", {}, "All done"),
        h("p", {}, `You reviewed ${item.reviewed} of ${item.total} items in this set.`)));
      await showResults(base, setId, results);
      return;
    }
    better.value = "";
    betterBox.hidden = true;
    const answer = a => h("div", { class: "card" }, h("h2", {}, `Answer ${a.label}`),
      h("div", { class: "answer", id: `answer-${a.label.toLowerCase()}` }, a.content));
    fill(stage, h("div", { id: "review-item", dataset: { itemId: item.id, index: String(item.index) } },
      h("p", { class: "muted", id: "review-progress" }, `Item ${item.reviewed + 1} of ${item.total} · ${item.reviewed} reviewed by you`),
      h("div", { class: "card", id: "review-prompt" }, item.messages.map(m =>
        h("div", { class: "message" }, h("span", { class: "role" }, m.role), ": ", typeof m.content === "string" ? m.content : JSON.stringify(m.content)))),
      h("div", { class: "grid" }, item.answers.map(answer)),
      betterBox,
      h("div", { class: "row choice-keys" },
        h("button", { onclick: () => judge("A") }, h("kbd", {}, "a"), " A is better"),
        h("button", { onclick: () => judge("B") }, h("kbd", {}, "b"), " B is better"),
        h("button", { onclick: () => judge("tie") }, h("kbd", {}, "t"), " Tie"),
        h("button", { onclick: writeBetter }, h("kbd", {}, "e"), " Write a better answer"))));
  }

  function writeBetter() { betterBox.hidden = false; better.focus(); }

  async function judge(choice) {
    if (busy || !item?.id) return;
    busy = true;
    try {
      const body = { reviewer, item_id: item.id, choice };
      if (better.value.trim()) body.better_answer = better.value;
      await api(`${base}/reviews`, { method: "POST", body });
      await next();
    } catch (e) { stage.prepend(errorBox(e)); }
    finally { busy = false; }
  }

  better.addEventListener("keydown", e => { if (e.key === "Escape") better.blur(); });
  // One listener per page: a new session replaces the previous one's.
  document.onkeydown = e => {
    if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const choice = { a: "A", b: "B", t: "tie" }[e.key.toLowerCase()];
    if (choice) { e.preventDefault(); judge(choice); }
    else if (e.key.toLowerCase() === "e" && item?.id) { e.preventDefault(); writeBetter(); }
  };
  fill(results);
  await next();
  document.activeElement?.blur(); // the set picker keeps focus otherwise, and would take a / b / t as type-ahead
}

async function showResults(base, setId, box) {
  const r = await api(`${base}/results`);
  const pct = x => typeof x === "number" ? `${(x * 100).toFixed(1)} %` : "–";
  const uploaded = h("span", { id: "uploaded" });
  fill(box, h("div", { class: "card" },
    h("h2", {}, "Results"),
    table(["Model", "Wins#", "Losses#", "Ties#", "Win rate#"], r.models.map(m =>
      h("tr", {}, h("td", { class: "mono" }, m.model), h("td", { class: "num" }, m.wins), h("td", { class: "num" }, m.losses),
        h("td", { class: "num" }, m.ties), h("td", { class: "num" }, pct(m.win_rate))))),
    h("p", {}, `${r.items_reviewed} items reviewed by `, r.reviewers.map(v => `${v.reviewer} (${v.reviews})`).join(", ") || "nobody", "."),
    h("p", { id: "agreement" }, `Agreement: ${r.agreement.items_with_two_or_more_reviewers} items with two or more reviewers`,
      r.agreement.percent_agreement === null || r.agreement.percent_agreement === undefined ? "" : ` · ${fmt(r.agreement.percent_agreement, 1)} % agreement`,
      r.agreement.cohen_kappa === null || r.agreement.cohen_kappa === undefined ? "" : ` · Cohen's κ ${fmt(r.agreement.cohen_kappa, 3)}`),
    h("div", { class: "row" },
      h("button", { id: "download-chat", onclick: () => download(`${base}/export?format=chat`, `${setId}-chat.jsonl`).catch(e => fill(uploaded, errorBox(e))) }, "Download chat JSONL"),
      h("button", { onclick: () => download(`${base}/export?format=preference`, `${setId}-preference.jsonl`).catch(e => fill(uploaded, errorBox(e))) }, "Download preference JSONL"),
      h("button", { id: "upload-training", onclick: async () => {
        try {
          const file = await api(`${base}/export`, { method: "POST", body: { format: "chat" } });
          fill(uploaded, "Uploaded as ", h("a", { href: "/files", class: "mono" }, file.id), ` (${file.bytes} bytes, purpose ${file.purpose}).`);
        } catch (e) { fill(uploaded, errorBox(e)); }
      } }, "Upload as training file"),
      uploaded)));
}

/** Creates a set from two runs of one eval (their answers to the same items become the pairs). */
async function createForm(picker, start) {
  const evals = await api("/evals?limit=100").then(x => x.data).catch(() => []);
  const name = h("input", { id: "new-set-name", placeholder: "name" });
  const evalPick = h("select", { id: "new-set-eval" }, h("option", { value: "" }, "— eval —"), evals.map(e => h("option", { value: e.id }, e.name || e.id)));
  const runA = h("select", { id: "new-set-run-a" }), runB = h("select", { id: "new-set-run-b" });
  const message = h("div");
  evalPick.addEventListener("change", async () => {
    const runs = evalPick.value ? (await api(`/evals/${encodeURIComponent(evalPick.value)}/runs?limit=100`)).data : [];
    const options = () => runs.map(r => h("option", { value: r.id }, `${r.name || r.id} · ${r.model ?? ""} · ${r.status}`));
    fill(runA, options());
    fill(runB, options());
    if (runs.length > 1) runB.selectedIndex = 1;
  });
  const create = h("button", { type: "button", id: "new-set-create", onclick: async () => {
    fill(message);
    try {
      const set = await api("/review_sets", { method: "POST", body: {
        name: name.value.trim() || `review of ${evalPick.value}`,
        source: { type: "eval_runs", eval_id: evalPick.value, run_ids: [runA.value, runB.value] },
      } });
      picker.append(h("option", { value: set.id, selected: true }, `${set.name} (${set.item_count ?? "?"} items)`));
      picker.value = set.id;
      await start();
    } catch (e) { fill(message, errorBox(e)); }
  } }, "Create");
  return h("div", { class: "row" }, name, evalPick, runA, runB, create, message);
}
