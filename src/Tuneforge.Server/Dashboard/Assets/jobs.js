// Jobs: every fine-tuning job of the organisation, newest first, a page at a time; a row links to its live page.
import { h, show, when, status } from "./dom.js";
import { pagedTable } from "./paging.js";

export async function jobList() {
  const list = h("div", { id: "job-list" });
  show(h("h1", {}, "Fine-tuning jobs"), list);
  await pagedTable(list, "/fine_tuning/jobs", ["Job", "Model", "Suffix", "Status", "Created", "Trained tokens#", "Fine-tuned model"], job =>
    h("tr", { dataset: { job: job.id } },
      h("td", {}, h("a", { href: `/jobs/${encodeURIComponent(job.id)}`, class: "mono" }, job.id)),
      h("td", {}, job.model),
      h("td", {}, job.user_provided_suffix ?? ""),
      h("td", {}, status(job.status)),
      h("td", {}, when(job.created_at)),
      h("td", { class: "num" }, job.trained_tokens ?? ""),
      h("td", { class: "mono" }, job.fine_tuned_model ?? "")),
    "No jobs yet. Create one with the API or `tuneforge jobs create`.");
}
