// A list page of a cursor-paged /v1 route: the first page, then "Load more" while the API says has_more (the next
// page starts after the last id shown). The page size is PAGE_SIZE, or ?page_size=N in the dashboard's address.
import { api } from "./api.js";
import { h, fill, table, errorBox } from "./dom.js";

const PAGE_SIZE = 20;

export function pageSize() {
  const asked = Number(new URLSearchParams(location.search).get("page_size"));
  return Number.isInteger(asked) && asked > 0 && asked <= 100 ? asked : PAGE_SIZE;
}

/**
 * Fills `box` with a table of `path`'s items (one `row(item)` each) and a Load more button; `empty` is shown when
 * there is no item at all. `path` may carry its own query (order, purpose). Resolves once the first page is shown.
 */
export async function pagedTable(box, path, headers, row, empty) {
  const list = table(headers, []);
  const rows = list.querySelector("tbody");
  const message = h("div");
  const more = h("button", { class: "load-more", type: "button", hidden: true }, "Load more");
  const size = pageSize();
  let after = null;

  async function next() {
    more.disabled = true;
    try {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api(`${path}${sep}limit=${size}${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      if (after === null && page.data.length === 0) return fill(box, h("p", { class: "muted" }, empty));
      for (const item of page.data) rows.append(row(item));
      if (page.data.length > 0) after = page.data[page.data.length - 1].id;
      more.hidden = !page.has_more || page.data.length === 0;
      fill(message);
    } catch (e) {
      if (after === null) throw e; // the first page failing is the page failing (sign-in, not found)
      fill(message, errorBox(e));
    } finally { more.disabled = false; }
  }

  more.addEventListener("click", next);
  fill(box, list, message, h("p", {}, more));
  await next();
}
