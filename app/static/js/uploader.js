// Uploads a recording's chunks in order while it is being recorded, each acknowledged by the
// server; failed chunks are retried with backoff and wait for the network to come back. Every
// chunk is also kept in the ChunkStore (IndexedDB) until the server confirms the whole answer.
//
// The recorder makes a piece a second. While a chunk is on its way, the pieces made meanwhile
// become one chunk, sent when the server has acknowledged the one before: a busy server (hundreds
// of candidates at once, issue 22) or a slow network gets fewer, larger requests instead of a
// queue that falls further behind the recording. The server joins chunks in order, so the
// recording is the same bytes however they were cut.
import { ApiError, request } from "./api.js";
import { t } from "./i18n.js";

const MAX_BACKOFF_MS = 10_000;
// Pieces are joined into a waiting chunk up to this size (about 25 s of video at the recorder's
// highest bitrate), or the server's limit for one request (MAX_CHUNK_BYTES, 16 MiB by default,
// sent with the take) if that is lower.
const MAX_JOINED_BYTES = 8 * 1024 * 1024;
// Once Stop is pressed, the chunk that may be the last waits this long at most for the recorder
// to say it has stopped (its last piece joins it meanwhile), so that it can carry the finalize.
// The recorder says so within milliseconds; a recorder that never does only costs this wait.
const STOP_WAIT_MS = 3000;

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
  constructor(url, onStatus, store, answerId, maxChunkBytes = MAX_JOINED_BYTES) {
    this.url = url;
    this.maxJoined = Math.min(MAX_JOINED_BYTES, maxChunkBytes || MAX_JOINED_BYTES);
    this.onStatus = onStatus || (() => {});
    this.store = store;
    this.answerId = answerId;
    this.chunks = [];
    this.saved = [];
    this.acked = 0;
    this.sending = -1;  // the chunk on its way (or being retried): never changed again
    this.running = null;
    this.failure = null;
    this.closing = null;  // set by finish(): the last chunk carries the finalize
    this.receipt = null;  // the whole recording's receipt, once the server kept it
    this.stopRequested = false;
    this.closingKnown = new Promise((resolve) => { this.knowClosing = resolve; });
  }

  // Stop was pressed: the recorder will make one more piece, then say it has stopped (finish()).
  // The chunk that may be the last is held until then, so the last piece joins it and it carries
  // the finalize; a chunk is never sent as the last before the recorder has stopped.
  stopping() { this.stopRequested = true; }

  // Carry on with a take found in the ChunkStore after a reload: the server already holds
  // `acked` chunks of it.
  static resume(url, onStatus, store, answerId, chunks, acked) {
    const up = new Uploader(url, onStatus, store, answerId);
    up.chunks = chunks;
    up.acked = acked;
    return up;
  }

  push(blob) {
    const last = this.chunks.length - 1;
    let seq = last + 1;
    if (last > this.sending && last >= this.acked && this.chunks[last].size + blob.size <= this.maxJoined) {
      seq = last;  // not sent yet: this piece joins it
      this.chunks[last] = new Blob([this.chunks[last], blob]);
    } else {
      this.chunks.push(blob);
    }
    // IndexedDB runs writes to one store in the order they were made, so the joined chunk
    // replaces the shorter one.
    this.saved[seq] = this.store ? this.store.putChunk(this.answerId, seq, this.chunks[seq]).catch(() => {})
                                 : Promise.resolve();
    if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
  }

  // Each chunk goes with its SHA-256, which the server checks before it stores the chunk: what it
  // holds is what was recorded, so finalizing only has to count the chunks.
  // A chunk is sent only once this browser has kept it: after a reload, what the server holds is
  // always what the ChunkStore holds, joined pieces included.
  async drain() {
    while (this.acked < this.chunks.length && !this.failure) {
      const seq = this.acked;
      if (this.stopRequested && !this.closing && seq === this.chunks.length - 1) {
        const known = await Promise.race([this.closingKnown.then(() => true), sleep(STOP_WAIT_MS).then(() => false)]);
        if (!known) this.stopRequested = false;  // sent as it is; the finalize goes on its own
        continue;  // a piece may have joined it, or come as a chunk of its own
      }
      this.sending = seq;  // from here on no piece joins it
      const chunk = this.chunks[seq];
      try {
        await this.saved[seq];
        const headers = { "X-Chunk-SHA256": await hex(await chunk.arrayBuffer()) };
        if (this.closing && seq === this.chunks.length - 1) Object.assign(headers, await this.finalizing());
        const answer = await this.send("PUT", `${this.url}/chunks/${seq}`, chunk, headers);
        if (answer && answer.finalized) this.receipt = answer;
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

  // The finalize, as headers of the last chunk once recording has stopped: the server keeps the
  // take as sent with that chunk, one request fewer when many candidates stop at once (issue 22).
  // Sent only once every chunk is kept in this browser, as a finalize of its own is.
  async finalizing() {
    await Promise.all(this.saved);
    const headers = { "X-Recording-Chunks": String(this.chunks.length),
                      "X-Recording-SHA256": await hex(await new Blob(this.chunks).arrayBuffer()) };
    // A take cut off by a reload has no duration: the server then measures the recording itself.
    if (Number.isFinite(this.closing.durationMs)) headers["X-Recording-Duration-Ms"] = String(this.closing.durationMs);
    return headers;
  }

  async finish(durationMs) {
    // Let the last dataavailable event land, then wait for every chunk to be acknowledged; the
    // last one not sent yet carries the finalize.
    await sleep(0);
    this.closing = { durationMs };
    this.knowClosing();
    // Until the receipt: the page no longer says it is recording, whether the last chunk is on
    // its way (a busy server) or a finalize of its own follows.
    this.onStatus(t("Checking your answer…"));
    while (this.acked < this.chunks.length || this.running) {
      if (this.failure) throw this.failure;
      if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
      await this.running;
    }
    if (this.failure) throw this.failure;
    if (!this.chunks.length) throw new Error(t("Nothing was recorded. Check your camera and try again."));
    let receipt = this.receipt;
    if (!receipt) {  // the last chunk was on its way before the stop, or the take was not kept with it
      const sha256 = await hex(await new Blob(this.chunks).arrayBuffer());
      await Promise.all(this.saved);
      receipt = await this.send("POST", `${this.url}/finalize`,
                                { chunks: this.chunks.length, sha256, duration_ms: durationMs });
    }
    if (this.store) await this.store.drop(this.answerId).catch(() => {});
    return receipt;
  }
}
