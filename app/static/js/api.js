// How the page scripts talk to the server: the page's CSRF token on every request, JSON in and
// out, and a refusal as an ApiError that carries the server's own words and the HTTP status.
import { t } from "./i18n.js";

// A non-2xx answer. `message` is the server's {"error": ...} when it sent one (Oneway always
// does), else the caller's words for the failure; `status` is the HTTP status.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

// The token the page carries in <meta name="csrf-token"> (base.html); Flask-WTF checks it.
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

// What the body is sent as: FormData as a form; a Blob or buffer (a recording's chunk) as bytes;
// anything else as JSON, and no body at all as a JSON request without one (the server reads
// `request.is_json` to answer in JSON, the candidate's Finish included).
function encode(body) {
  if (body instanceof FormData) return { body, type: null };
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return { body, type: "application/octet-stream" };
  }
  return { body: body === undefined ? undefined : JSON.stringify(body), type: "application/json" };
}

// Send one request and resolve to the server's JSON ({} when it sent none). A non-2xx answer
// rejects with an ApiError; a network failure rejects as fetch itself does (a TypeError), so a
// caller may tell the two apart and try again. `failure(status)` words an answer that came
// without the server's own message (a proxy's error page, say); `extra` adds headers.
export async function request(method, url, body,
                              failure = (status) => t("The server answered %(status)s.", { status: String(status) }),
                              extra = {}) {
  const sent = encode(body);
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken(), ...extra };
  if (sent.type && method !== "GET") headers["Content-Type"] = sent.type;
  const resp = await fetch(url, { method, credentials: "same-origin", headers, body: sent.body });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(data.error || failure(resp.status), resp.status);
  return data;
}
