// Every data call of the dashboard: the public /v1 API with the signed-in key as a Bearer token.
// The key lives in sessionStorage (gone when the tab closes); errors carry OpenAI's envelope message.

const KEY = "tuneforge.apiKey";

export const apiKey = () => sessionStorage.getItem(KEY);
export const signIn = key => sessionStorage.setItem(KEY, key);
export const signOut = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, message, code) { super(message); this.status = status; this.code = code; }
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`, code = null;
  try {
    const body = await response.json();
    if (body?.error?.message) { message = body.error.message; code = body.error.code; }
  } catch { /* not an envelope */ }
  return new ApiError(response.status, message, code);
}

/** fetch of /v1{path} with the key; JSON in and out. `key` overrides the stored one (sign-in checks it). */
export async function api(path, { method = "GET", body, key = apiKey(), raw = false } = {}) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await failure(response);
  return raw ? response : response.json();
}

/** Multipart POST /v1/files through XMLHttpRequest, whose upload events report progress (fetch has none). */
export function uploadFile(file, purpose, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/files");
    xhr.setRequestHeader("Authorization", `Bearer ${apiKey()}`);
    xhr.upload.onprogress = e => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body?.error?.message ?? `upload failed (${xhr.status})`, body?.error?.code));
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload could not reach the service"));
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file);
    xhr.send(form);
  });
}

/**
 * POST /v1/chat/completions with stream:true, read as server-sent events over fetch: calls onChunk for every
 * `data: {...}` chunk until `data: [DONE]`. An error chunk ({"error":{...}}) after the stream started is thrown.
 */
export async function streamChat(request, onChunk) {
  const response = await api("/chat/completions", { method: "POST", body: { ...request, stream: true }, raw: true });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(500, chunk.error.message, chunk.error.code);
        onChunk(chunk);
      }
    }
  }
}

/** Fetches a response with the key and hands it to the browser as a download (a plain link cannot send the key). */
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** All pages of a cursor-paged list (`after` = last id), up to `max` items. */
export async function listAll(path, max = 1000) {
  const items = [];
  let after = null;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    items.push(...page.data);
    if (!page.has_more || page.data.length === 0 || items.length >= max) return items;
    after = page.data[page.data.length - 1].id;
  }
}
