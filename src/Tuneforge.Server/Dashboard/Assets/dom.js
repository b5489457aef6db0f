// A tiny element builder: h("td", {class: "num"}, "3") — text is always set as text, never parsed as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export const view = () => document.getElementById("view");

/** Replaces an element's children (null/false children are skipped, unlike the DOM's own replaceChildren). */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Replaces the page's content. */
export function show(...children) {
  fill(view(), ...children);
}

export const errorBox = error => h("p", { class: "error", role: "alert" }, error?.message ?? String(error));

export function table(headers, rows) {
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map(x => h("th", { class: x.endsWith("#") ? "num" : null }, x.replace(/#$/, ""))))),
    h("tbody", {}, rows));
}

export const when = seconds => seconds ? new Date(seconds * 1000).toLocaleString() : "";
export const status = s => h("span", { class: `status ${s}` }, s);
export const fmt = (x, digits = 4) => typeof x === "number" ? Number(x.toFixed(digits)).toString() : (x ?? "");
