// Uploads a recording's chunks in order while it is being recorded, each acknowledged by the
// server; failed chunks are retried with backoff and wait for the network to come back. Every
// chunk is also kept in the ChunkStore (IndexedDB) until the server confirms the whole answer.
import { ApiError, request } from "./api.js";
import { t } from "./i18n.js";

const MAX_BACKOFF_MS = 10_000;

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function waitOnline() {
  if (navigator.onLine) return Promise.resolve();
  return new Promise((r) => window.addEventListener("online", r, { once: true }));
}

async function hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// A refusal that sending again cannot change: a 4xx, except a timeout (408) and a limit (429).
function final(err) {
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && ![408, 429].includes(err.status);
}

function refused(status) { return t("The server refused the upload (%(status)s).", { status: String(status) }); }

export class Uploader {
  constructor(url, onStatus, store, answerId) {
    this.url = url;
    this.onStatus = onStatus || (() => {});
    this.store = store;
    this.answerId = answerId;
    this.chunks = [];
    this.saved = [];
    this.acked = 0;
    this.running = null;
    this.failure = null;
  }

  // Carry on with a take found in the ChunkStore after a reload: the server already holds
  // `acked` chunks of it.
  static resume(url, onStatus, store, answerId, chunks, acked) {
    const up = new Uploader(url, onStatus, store, answerId);
    up.chunks = chunks;
    up.acked = acked;
    return up;
  }

  push(blob) {
    const seq = this.chunks.length;
    this.chunks.push(blob);
    if (this.store) this.saved.push(this.store.putChunk(this.answerId, seq, blob).catch(() => {}));
    if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
  }

  // Each chunk goes with its SHA-256, which the server checks before it stores the chunk: what it
  // holds is what was recorded, so finalizing only has to count the chunks.
  async drain() {
    while (this.acked < this.chunks.length && !this.failure) {
      const seq = this.acked;
      try {
        const sha256 = await hex(await this.chunks[seq].arrayBuffer());
        await this.send("PUT", `${this.url}/chunks/${seq}`, this.chunks[seq], { "X-Chunk-SHA256": sha256 });
        this.acked = seq + 1;
      } catch (err) {
        this.failure = err;
      }
    }
  }

  // Retry network failures and server errors until they succeed; a refusal (4xx) is final, except
  // a chunk damaged on its way (422 to a chunk with its checksum), which is sent again a few times.
  async send(method, url, body, headers = {}) {
    let delay = 500;
    for (let attempt = 1; ; attempt++) {
      await waitOnline();
      try {
        return await request(method, url, body, refused, headers);
      } catch (err) {
        const damaged = err instanceof ApiError && err.status === 422 && headers["X-Chunk-SHA256"];
        if (final(err) && !(damaged && attempt < 4)) throw err;
        // A network failure or a server error: retried below.
      }
      this.onStatus(t("Connection problem; retrying (attempt %(attempt)s). Keep this page open.", { attempt }));
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  async finish(durationMs) {
    // Let the last dataavailable event land, then wait for every chunk to be acknowledged.
    await sleep(0);
    while (this.acked < this.chunks.length || this.running) {
      if (this.failure) throw this.failure;
      if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
      await this.running;
    }
    if (this.failure) throw this.failure;
    if (!this.chunks.length) throw new Error(t("Nothing was recorded. Check your camera and try again."));
    this.onStatus(t("Checking your answer…"));
    const sha256 = await hex(await new Blob(this.chunks).arrayBuffer());
    await Promise.all(this.saved);
    const receipt = await this.send("POST", `${this.url}/finalize`,
                                    { chunks: this.chunks.length, sha256, duration_ms: durationMs });
    if (this.store) await this.store.drop(this.answerId).catch(() => {});
    return receipt;
  }
}
