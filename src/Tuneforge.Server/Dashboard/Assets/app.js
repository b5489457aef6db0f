// The dashboard's entry: sign-in with the API key, then the view for the current path.
// Pages are one HTML shell served for every dashboard path, so a deep link (/jobs/ftjob-...) survives a reload.
import { api, apiKey, signIn, signOut, ApiError } from "./api.js";
import { h, show, errorBox } from "./dom.js";

const routes = [
  [/^\/(jobs)?$/, () => import("./jobs.js").then(m => m.jobList())],
  [/^\/jobs\/([^/]+)$/, id => import("./job.js").then(m => m.jobPage(decodeURIComponent(id)))],
  [/^\/playground$/, () => import("./playground.js").then(m => m.playground())],
  [/^\/review$/, () => import("./review.js").then(m => m.review())],
  [/^\/files$/, () => import("./files.js").then(m => m.files())],
  [/^\/models$/, () => import("./models.js").then(m => m.models())],
  [/^\/evals$/, () => import("./evals.js").then(m => m.evalList())],
  [/^\/evals\/([^/]+)$/, id => import("./evals.js").then(m => m.evalPage(decodeURIComponent(id)))],
];

function signInForm(message) {
  document.getElementById("nav").hidden = true;
  const key = h("input", { id: "api-key", type: "password", autocomplete: "current-password", required: true, size: 40 });
  const failure = h("div", { id: "sign-in-error" }, message ? errorBox(message) : null);
  const form = h("form", { class: "card signin", onsubmit: async event => {
    event.preventDefault();
    failure.replaceChildren();
    try {
      await api("/models", { key: key.value.trim() }); // any authenticated call tells a good key from a bad one
      signIn(key.value.trim());
      start();
    } catch (e) {
      failure.replaceChildren(errorBox(e instanceof ApiError && e.status === 401 ? `Sign-in failed: ${e.message}` : e));
    }
  } },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Use an API key of your organisation. It is kept in this tab only (sessionStorage)."),
    h("label", { for: "api-key" }, "API key"), key,
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Sign in")),
    failure);
  show(form);
  key.focus();
}

async function start() {
  if (!apiKey()) return signInForm();
  const nav = document.getElementById("nav");
  nav.hidden = false;
  for (const link of nav.querySelectorAll("a"))
    link.classList.toggle("active", location.pathname === link.getAttribute("href") || location.pathname.startsWith(link.getAttribute("href") + "/"));
  const path = location.pathname.replace(/\/$/, "") || "/";
  for (const [pattern, render] of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    try { await render(match[1]); }
    catch (e) {
      if (e instanceof ApiError && e.status === 401) { signOut(); return signInForm(e.message); }
      show(errorBox(e));
    }
    return;
  }
  show(h("h1", {}, "Not found"), h("p", {}, "No dashboard page at ", h("code", {}, location.pathname), ". ", h("a", { href: "/" }, "Jobs")));
}

document.getElementById("sign-out").addEventListener("click", () => { signOut(); location.href = "/"; });
start();
