// Playground: one conversation (a system message, then user and assistant turns ending with a user message) sent to
// 2 or 3 models side by side, each answer streamed
// (chat completions with stream:true over fetch) with its token usage, time to first token and total time.
// ?models=a,b preselects the models (the job page links here for "chat" and "compare").
import { api, streamChat } from "./api.js";
import { h, show, errorBox } from "./dom.js";

export async function playground() {
  const models = (await api("/models")).data.filter(m => m.loadable !== false).map(m => m.id).sort(byKind);
  const wanted = (new URLSearchParams(location.search).get("models") ?? "").split(",").filter(Boolean);
  const initial = wanted.length >= 2 ? wanted.slice(0, 3) : [wanted[0] ?? models[0], models.find(m => m !== (wanted[0] ?? models[0])) ?? models[0]];

  const columns = h("div", { class: "grid", id: "answers" });
  const system = h("textarea", { id: "system", rows: 2 }, "You are a helpful assistant.");
  const user = h("textarea", { id: "user", rows: 3, placeholder: "Ask something…" });
  const turns = h("div", { id: "turns" }); // earlier turns, each a role picker and its text, before the last user message
  const addTurn = h("button", { type: "button", onclick: () => {
    const role = h("select", {}, ["user", "assistant"].map((r, i) => h("option", { value: r, selected: i === turns.children.length % 2 }, r)));
    const text = h("textarea", { rows: 2 });
    turns.append(h("div", { class: "turn" }, role, text, h("button", { type: "button", class: "link", onclick: e => e.target.parentElement.remove() }, "remove")));
  } }, "+ earlier turn");
  const maxTokens = h("input", { id: "max-tokens", type: "number", min: 1, max: 4096, value: "128" });
  const temperature = h("input", { id: "temperature", type: "number", min: 0, max: 2, step: 0.1, value: "0.7" });
  const failure = h("div");
  const panels = [];

  function addPanel(model) {
    const select = h("select", { class: "model" }, models.map(m => h("option", { value: m, selected: m === model }, m)));
    if (model && !models.includes(model)) select.prepend(h("option", { value: model, selected: true }, model));
    const answer = h("div", { class: "answer" });
    const stats = h("div", { class: "stats" });
    const card = h("div", { class: "card panel" }, select, answer, stats);
    panels.push({ card, select, answer, stats });
    columns.append(card);
    sync();
  }
  const add = h("button", { type: "button", onclick: () => addPanel(models[0]) }, "+ model");
  const remove = h("button", { type: "button", onclick: () => { panels.pop().card.remove(); sync(); } }, "− model");
  function sync() { add.disabled = panels.length >= 3; remove.disabled = panels.length <= 2; }

  const send = h("button", { class: "primary", id: "send", type: "submit" }, "Send to all");
  const form = h("form", { class: "card", onsubmit: async event => {
    event.preventDefault();
    failure.replaceChildren();
    if (!user.value.trim()) { failure.append(errorBox("Write a user message first.")); return; }
    const messages = [];
    if (system.value.trim()) messages.push({ role: "system", content: system.value });
    for (const turn of turns.children) {
      const [role, text] = turn.querySelectorAll("select, textarea");
      if (text.value.trim()) messages.push({ role: role.value, content: text.value });
    }
    messages.push({ role: "user", content: user.value });
    send.disabled = true;
    await Promise.all(panels.map(panel => run(panel, messages, Number(maxTokens.value), Number(temperature.value))));
    send.disabled = false;
  } },
    h("label", { for: "system" }, "System"), system,
    turns, h("p", {}, addTurn),
    h("label", { for: "user" }, "User"), user,
    h("div", { class: "row" }, send, add, remove,
      h("label", { for: "max-tokens" }, "max tokens"), maxTokens, h("label", { for: "temperature" }, "temperature"), temperature));

  show(h("h1", {}, "Playground"), form, failure, columns);
  for (const model of initial) addPanel(model);
}

/** Streams one model's answer into its panel; the panel's data-state goes streaming → done | failed. */
async function run(panel, messages, maxTokens, temperature) {
  const { card, select, answer, stats } = panel;
  answer.textContent = "";
  stats.textContent = "";
  card.dataset.state = "streaming";
  const started = performance.now();
  let firstToken = null, usage = null;
  try {
    await streamChat({ model: select.value, messages, max_tokens: maxTokens, temperature, stream_options: { include_usage: true } }, chunk => {
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) {
        firstToken ??= performance.now() - started;
        answer.textContent += text;
      }
      if (chunk.usage) usage = chunk.usage;
    });
    const total = performance.now() - started;
    stats.replaceChildren(
      usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens · ` : "",
      `first token ${firstToken === null ? "–" : `${Math.round(firstToken)} ms`} · total ${Math.round(total)} ms`);
    if (usage) card.dataset.completionTokens = String(usage.completion_tokens);
    card.dataset.state = "done";
  } catch (e) {
    answer.replaceChildren(errorBox(e));
    card.dataset.state = "failed";
  }
}

/** Base models first, then fine-tuned models, checkpoints last. */
function byKind(a, b) {
  const rank = m => m.includes(":ckpt-step-") ? 2 : m.startsWith("ft:") ? 1 : 0;
  return rank(a) - rank(b) || a.localeCompare(b);
}
