// Models: base models (with whether the engine can load them), fine-tuned models and checkpoints, their aliases;
// a fine-tuned model can be deleted (its checkpoint models go with it).
import { api } from "./api.js";
import { h, show, fill, errorBox, table, when } from "./dom.js";

/** The API names a fine-tune's base (base_model); a base model is its own. */
const baseOf = m => m.base_model ?? (m.owned_by === "system" ? m.id : "");

export async function models() {
  const list = h("div", { id: "model-list" });
  const message = h("div");
  async function refresh() {
    const [models, aliases] = await Promise.all([
      api("/models").then(x => x.data),
      api("/model_aliases").then(x => x.data).catch(() => []),
    ]);
    const aliasesOf = new Map();
    for (const a of aliases) aliasesOf.set(a.model, [...(aliasesOf.get(a.model) ?? []), a.alias]);
    fill(list, table(["Model", "Base", "Owner", "Created", "Loadable", "Aliases", ""], models.map(m =>
      h("tr", { dataset: { model: m.id } },
        h("td", { class: "mono" }, m.id),
        h("td", {}, baseOf(m)),
        h("td", {}, m.owned_by),
        h("td", {}, when(m.created)),
        h("td", {}, m.loadable === false ? h("span", { class: "error", title: m.unavailable_reason ?? "" }, `no: ${m.unavailable_reason ?? "unavailable"}`) : "yes"),
        h("td", { class: "mono" }, (aliasesOf.get(m.id) ?? []).join(", ")),
        h("td", {},
          m.loadable === false ? null : h("a", { href: `/playground?models=${encodeURIComponent(m.id)}` }, "chat"), " ",
          m.id.startsWith("ft:") && !m.id.includes(":ckpt-step-") ? h("button", { class: "link", onclick: async () => {
            if (!confirm(`Delete ${m.id} and its checkpoint models?`)) return;
            try { await api(`/models/${encodeURIComponent(m.id)}`, { method: "DELETE" }); await refresh(); }
            catch (e) { fill(message, errorBox(e)); }
          } }, "delete") : null)))));
  }
  show(h("h1", {}, "Models"), message, list);
  await refresh();
}
