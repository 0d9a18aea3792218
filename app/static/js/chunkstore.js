// Every recorded chunk is kept in IndexedDB until the server has confirmed the whole answer, so a
// dropped network, a reload or a crashed tab loses nothing. Falls back to memory where IndexedDB
// is unavailable (some private modes).
const DB_NAME = "oneway-recordings";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => {
    req.result.createObjectStore("chunks");
    req.result.createObjectStore("takes", { keyPath: "answerId" });
  };
  return request(req);
}

const key = (answerId, seq) => `${answerId}/${String(seq).padStart(6, "0")}`;

export class ChunkStore {
  static async open() {
    try {
      return new ChunkStore(await openDb());
    } catch {
      return new ChunkStore(null);
    }
  }

  constructor(db) {
    this.db = db;
    this.memory = new Map();
  }

  async run(storeName, mode, fn) {
    if (!this.db) return fn(null);
    const tx = this.db.transaction(storeName, mode);
    const result = await fn(tx.objectStore(storeName));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  }

  putChunk(answerId, seq, blob) {
    if (!this.db) { this.memory.set(key(answerId, seq), blob); return Promise.resolve(); }
    return this.run("chunks", "readwrite", (s) => request(s.put(blob, key(answerId, seq))));
  }

  async chunks(answerId) {
    const range = IDBKeyRange.bound(`${answerId}/`, `${answerId}/\uffff`);
    if (!this.db) return [...this.memory.entries()].filter(([k]) => k.startsWith(`${answerId}/`)).sort().map(([, v]) => v);
    return this.run("chunks", "readonly", (s) => request(s.getAll(range)));
  }

  saveTake(meta) {
    if (!this.db) return Promise.resolve();
    return this.run("takes", "readwrite", (s) => request(s.put(meta)));
  }

  takes() {
    if (!this.db) return Promise.resolve([]);
    return this.run("takes", "readonly", (s) => request(s.getAll()));
  }

  async drop(answerId) {
    for (const k of [...this.memory.keys()]) if (k.startsWith(`${answerId}/`)) this.memory.delete(k);
    if (!this.db) return;
    const range = IDBKeyRange.bound(`${answerId}/`, `${answerId}/\uffff`);
    await this.run("chunks", "readwrite", (s) => request(s.delete(range)));
    await this.run("takes", "readwrite", (s) => request(s.delete(answerId)));
  }
}
