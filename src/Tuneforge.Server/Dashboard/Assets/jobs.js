// Jobs: every fine-tuning job of the organisation, newest first; a row links to its live page.
import { api } from "./api.js";
import { h, show, table, when, status } from "./dom.js";

export async function jobList() {
  const jobs = (await api("/fine_tuning/jobs?limit=100")).data;
  show(
    h("h1", {}, "Fine-tuning jobs"),
    jobs.length === 0
      ? h("p", { class: "muted" }, "No jobs yet. Create one with the API or `tuneforge jobs create`.")
      : table(["Job", "Model", "Suffix", "Status", "Created", "Trained tokens#", "Fine-tuned model"], jobs.map(job =>
        h("tr", { dataset: { job: job.id } },
          h("td", {}, h("a", { href: `/jobs/${encodeURIComponent(job.id)}`, class: "mono" }, job.id)),
          h("td", {}, job.model),
          h("td", {}, job.user_provided_suffix ?? ""),
          h("td", {}, status(job.status)),
          h("td", {}, when(job.created_at)),
          h("td", { class: "num" }, job.trained_tokens ?? ""),
          h("td", { class: "mono" }, job.fine_tuned_model ?? "")))));
}
