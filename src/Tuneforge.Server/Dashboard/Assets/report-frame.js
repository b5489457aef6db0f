// The frame a `tuneforge compare` report is shown in. The report is one self-contained HTML file with inline scripts
// and styles, which the dashboard's own Content-Security-Policy forbids (and an srcdoc or blob: frame would inherit).
// This page is served with a policy of its own (inline allowed, no network at all) inside a sandboxed iframe (an
// opaque origin: no access to the dashboard or its key); the dashboard posts the report's HTML and it becomes this
// document. A classic script, not a module: a sandboxed frame's module fetch would need CORS.
window.addEventListener("message", event => {
  if (event.source !== window.parent || typeof event.data !== "string") return;
  document.open();
  document.write(event.data);
  document.close();
}, { once: true });
