// Files: the organisation's files (newest first, a page at a time), and an upload (multipart POST /v1/files) with a progress bar.
import { api, uploadFile } from "./api.js";
import { h, show, fill, errorBox, when } from "./dom.js";
import { pagedTable } from "./paging.js";

const PURPOSES = ["fine-tune", "evals", "user_data", "batch", "assistants", "vision"];

export async function files() {
  const list = h("div", { id: "file-list" });
  const input = h("input", { id: "upload-file", type: "file" });
  const purpose = h("select", { id: "upload-purpose" }, PURPOSES.map(p => h("option", { value: p }, p)));
  const progress = h("progress", { id: "upload-progress", max: 1, value: 0, hidden: true });
  const message = h("div", { id: "upload-message" });
  const submit = h("button", { class: "primary", type: "submit" }, "Upload");
  const form = h("form", { class: "card row", onsubmit: async event => {
    event.preventDefault();
    if (!input.files.length) return;
    fill(message);
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      const file = await uploadFile(input.files[0], purpose.value, fraction => { progress.value = fraction; });
      progress.value = 1;
      fill(message, h("span", { class: "ok" }, `Uploaded ${file.filename} as `, h("code", {}, file.id), "."));
      input.value = "";
      await refresh();
    } catch (e) { fill(message, errorBox(e)); }
    finally { submit.disabled = false; }
  } }, h("label", { for: "upload-file" }, "Upload a file"), input, h("label", { for: "upload-purpose" }, "purpose"), purpose, submit, progress);

  async function refresh() {
    await pagedTable(list, "/files", ["File", "Name", "Purpose", "Bytes#", "Created", "Status", ""], f =>
      h("tr", { dataset: { file: f.id } },
        h("td", { class: "mono" }, f.id), h("td", {}, f.filename), h("td", {}, f.purpose), h("td", { class: "num" }, f.bytes),
        h("td", {}, when(f.created_at)), h("td", {}, f.status ?? ""),
        h("td", {}, h("button", { class: "link", onclick: async () => {
          if (!confirm(`Delete ${f.filename} (${f.id})?`)) return;
          try { await api(`/files/${encodeURIComponent(f.id)}`, { method: "DELETE" }); await refresh(); }
          catch (e) { fill(message, errorBox(e)); }
        } }, "delete"))),
      "No files yet.");
  }
  show(h("h1", {}, "Files"), form, message, list);
  await refresh();
}
