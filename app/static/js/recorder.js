// The candidate's recorder: a device check, a practice question that never leaves the browser,
// then per question a think countdown, a timed recording uploaded chunk by chunk while it runs,
// a look at the take, and keep or retake. Takes are kept in IndexedDB until the server confirms
// them, so a reload or a dropped network loses nothing. Data comes from the JSON block in the page.
import { request } from "./api.js";
import { ChunkStore } from "./chunkstore.js";
import { formatNumber, ltr, nt, t } from "./i18n.js";
import { playPrompt } from "./promptvideo.js";
import { declaredType, pickType, recorderOptions } from "./recordertypes.js";
import { Uploader } from "./uploader.js";

const root = document.getElementById("recorder");
const state = JSON.parse(document.getElementById("interview-state").textContent);
const base = root.dataset.base;
const $ = (id) => document.getElementById(id);
const ui = {
  preview: $("preview"), playback: $("playback"), prompt: $("prompt"), progress: $("progress"),
  timer: $("timer"), status: $("status"), error: $("error"), receipt: $("receipt"),
  rec: $("rec-indicator"), warning: $("warning"), mic: $("mic"), level: $("level"),
  test: $("btn-test"), cont: $("btn-continue"), start: $("btn-start"), stop: $("btn-stop"),
  again: $("btn-practice-again"), begin: $("btn-begin"), next: $("btn-next"),
  retake: $("btn-retake"), finish: $("btn-finish"), camera: $("btn-camera"), send: $("btn-send"),
  written: $("written"), text: $("written-text"), promptVideo: $("prompt-video"), skip: $("btn-skip"),
};
const BUTTONS = [ui.test, ui.cont, ui.skip, ui.start, ui.stop, ui.send, ui.again, ui.begin, ui.next, ui.retake,
                 ui.finish, ui.camera];
const TIMESLICE_MS = 1000;
const PRACTICE = { prompt: t("Practice (not sent to anyone): what did you have for breakfast?"), think: 15, answer: 30 };
const CHECKED = `oneway-checked:${base}`;

let stream = null;
let store = null;
let ticker = null;
let playbackUrl = null;
let notice = "";
let index = firstOpen();

function firstOpen() {
  const i = state.questions.findIndex((q) => !q.answer);
  return i < 0 ? state.questions.length : i;
}

function show(...buttons) {
  for (const b of BUTTONS) b.hidden = !buttons.includes(b);
  const first = buttons.find((b) => b);
  if (first) first.focus();
}

function setError(message) {
  ui.error.hidden = !message;
  ui.error.textContent = message || "";
}

const twoDigits = new Intl.NumberFormat(document.documentElement.lang || "en", { minimumIntegerDigits: 2 });

// m:ss in the page's digits, isolated left to right so a right-to-left page keeps minutes first.
function fmt(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return ltr(`${formatNumber(Math.floor(s / 60))}:${twoDigits.format(s % 60)}`);
}

// What each countdown says, with the time left in it (a whole message, so translators may move it).
const LABELS = {
  think: (time) => t("Thinking time: %(time)s", { time }),
  answer: (time) => t("Time left: %(time)s", { time }),
  test: (time) => t("Test recording: %(time)s", { time }),
};

// The visible countdown changes every second, but screen readers hear it only at round
// moments (every 15 s and the last 5), so they are not flooded.
function countdown(seconds, label, onEnd) {
  clearInterval(ticker);
  const end = performance.now() + seconds * 1000;
  const paint = () => {
    const left = (end - performance.now()) / 1000;
    ui.timer.textContent = LABELS[label](fmt(left));
    const whole = Math.ceil(left);
    ui.timer.setAttribute("aria-live", whole % 15 === 0 || whole <= 5 ? "polite" : "off");
    if (left <= 0) { clearInterval(ticker); onEnd(); }
  };
  paint();
  ticker = setInterval(paint, 250);
}

// The candidate's API, under their own link.
function api(method, path, body) { return request(method, `${base}${path}`, body); }

function showPlayback(blobs, type) {
  if (playbackUrl) URL.revokeObjectURL(playbackUrl);
  playbackUrl = URL.createObjectURL(new Blob(blobs, { type: (type || "video/webm").split(";")[0] }));
  ui.playback.src = playbackUrl;
  ui.playback.hidden = false;
  ui.preview.hidden = true;
}

function hidePlayback() {
  ui.playback.pause();
  ui.playback.hidden = true;
  ui.preview.hidden = false;
  ui.written.hidden = true;
}

// Record into memory only: the device test and the practice question never leave the browser.
function recordLocally(seconds, label, onDone) {
  const type = pickType();
  const rec = new MediaRecorder(stream, recorderOptions(type));
  const blobs = [];
  rec.ondataavailable = (e) => { if (e.data.size) blobs.push(e.data); };
  rec.onstop = () => { clearInterval(ticker); ui.rec.hidden = true; ui.timer.textContent = ""; onDone(blobs, type); };
  rec.start(TIMESLICE_MS);
  ui.rec.hidden = false;
  const stop = () => { if (rec.state !== "inactive") rec.stop(); };
  ui.stop.onclick = stop;
  countdown(seconds, label, stop);
  return stop;
}

function startMeter() {
  try {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      ui.level.value = Math.min(1, Math.sqrt(sum / data.length) * 4);
      if (!ui.mic.hidden) requestAnimationFrame(tick);
    };
    ctx.resume().catch(() => {});
    requestAnimationFrame(tick);
  } catch {
    ui.mic.hidden = true;
  }
}

function deviceCheck() {
  ui.progress.textContent = t("Before you start");
  ui.prompt.textContent = t("Check your camera and microphone");
  ui.status.textContent = t("You should see yourself, and the bar should move when you speak. Record a short test to hear yourself.");
  ui.mic.hidden = false;
  startMeter();
  show(ui.test, ui.cont);
  ui.test.onclick = () => {
    hidePlayback();
    show(ui.stop);
    recordLocally(3, "test", (blobs, type) => {
      showPlayback(blobs, type);
      ui.status.textContent = t("Play your test to check the picture and sound.");
      show(ui.cont, ui.test);
    });
  };
  ui.cont.onclick = practice;
}

function practice() {
  ui.mic.hidden = true;
  hidePlayback();
  ui.progress.textContent = t("Practice question: it is not sent to anyone");
  ui.prompt.textContent = PRACTICE.prompt;
  ui.prompt.removeAttribute("lang");
  ui.status.textContent = t("Take a moment to think, as in the real questions.");
  const record = () => {
    show(ui.stop);
    ui.status.textContent = t("Recording your practice answer (it stays in this browser).");
    recordLocally(PRACTICE.answer, "answer", (blobs, type) => {
      showPlayback(blobs, type);
      ui.status.textContent = t("Watch your practice answer, practise again, or start the interview.");
      show(ui.begin, ui.again);
    });
  };
  ui.start.onclick = record;
  ui.start.textContent = t("Start recording now");
  ui.again.onclick = practice;
  ui.begin.onclick = () => {
    sessionStorage.setItem(CHECKED, "1");
    hidePlayback();
    present();
  };
  show(ui.start, ui.begin);
  countdown(PRACTICE.think, "think", record);
}

async function openCamera() {
  setError("");
  if (!window.isSecureContext) return fail(t("This page must be opened over https to use the camera."));
  if (!navigator.mediaDevices?.getUserMedia || pickType() === null) {
    return fail(t("This browser cannot record video. Use a current Chrome, Edge, Firefox or Safari."));
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
  } catch (err) {
    const why = {
      NotAllowedError: () => t("Camera and microphone access was blocked. Allow it in the address bar, then try again."),
      NotFoundError: () => t("No camera or microphone was found. Connect one, then try again."),
      NotReadableError: () => t("The camera is in use by another program. Close it, then try again."),
    }[err.name]?.() || t("The camera could not start (%(error)s).", { error: err.name });
    show(ui.camera);
    return setError(why);
  }
  ui.preview.srcObject = stream;
  await resumeKeptTakes();
  const started = state.questions.some((q) => q.answer || q.takes_used);
  if (started || sessionStorage.getItem(CHECKED)) present();
  else deviceCheck();
}

function fail(message) {
  setError(message);
  show();
}

// After a reload or a crash: a take that was stopped but not confirmed is uploaded from the
// browser's store and finalized; a take cut off mid-recording is dropped and costs no take.
async function resumeKeptTakes() {
  for (const take of await store.takes().catch(() => [])) {
    const q = state.questions.find((x) => x.id === take.questionId);
    let held = q && q.open_takes ? q.open_takes[take.answerId] : undefined;
    let url = `${base}/answers/${take.answerId}`;
    if (q && take.stopped && held === undefined && !(q.answer && q.answer.id === take.answerId)
        && q.takes_used < q.max_takes) {
      // A whole recording the server no longer holds (it lets go of a take that hears nothing
      // for a day, at no cost of a take): it is sent again from this browser as a new take.
      try {
        const fresh = await api("POST", `/questions/${q.id}/takes`, { content_type: declaredType(q.kind, take.type) });
        url = `${base}/answers/${fresh.answer_id}`;
        held = 0;
      } catch (err) {
        setError(t("An answer kept in this browser could not be sent: %(reason)s It stays in this browser.",
                   { reason: err.message }));
        continue;
      }
    }
    if (!q || held === undefined || !take.stopped) {
      // The server counts an open take against the question's takes until it is let go: say
      // that this one was cut off (kept here to say it again after the next reload if need be).
      if (q && held !== undefined) {
        try {
          await api("POST", `/answers/${take.answerId}/abandon`);
        } catch {
          continue;
        }
      }
      await store.drop(take.answerId).catch(() => {});
      continue;
    }
    ui.status.textContent = t("Sending an answer this browser kept for you…");
    const chunks = await store.chunks(take.answerId);
    const up = Uploader.resume(url, (s) => { ui.status.textContent = s; },
                               store, take.answerId, chunks, held);
    try {
      const receipt = await up.finish(take.durationMs);
      q.takes_used += 1;
      q.answer = { id: receipt.answer_id, bytes: receipt.bytes, sha256: receipt.sha256 };
      notice = nt("Your answer to question %(number)s, kept in this browser, was sent and received: %(num)s byte, checksum %(checksum)s",
                  "Your answer to question %(number)s, kept in this browser, was sent and received: %(num)s bytes, checksum %(checksum)s",
                  receipt.bytes, { number: q.number, checksum: ltr(`${receipt.sha256.slice(0, 12)}…`) });
    } catch (err) {
      setError(t("An answer kept in this browser could not be sent: %(reason)s", { reason: err.message }));
    }
  }
  index = firstOpen();
}

function question() { return state.questions[index]; }

// "Question 2 of 5 · takes left: 1", and what kind of answer it asks for while it is being answered.
function progressText(q, left, withKind) {
  const parts = [t("Question %(number)s of %(total)s", { number: q.number, total: state.questions.length }),
                 t("takes left: %(num)s", { num: left })];
  if (withKind && q.kind === "audio") parts.push(t("sound only, your camera is not recorded"));
  if (withKind && q.kind === "written") parts.push(t("a written answer"));
  return parts.join(" · ");
}

function present() {
  clearInterval(ticker);
  hidePlayback();
  ui.mic.hidden = true;
  ui.receipt.hidden = !notice;
  ui.receipt.textContent = notice;
  notice = "";
  ui.warning.hidden = true;
  ui.rec.hidden = true;
  if (index >= state.questions.length) {
    ui.progress.textContent = t("All questions answered");
    ui.prompt.textContent = t("You have answered every question.");
    ui.prompt.removeAttribute("lang");
    ui.timer.textContent = "";
    ui.status.textContent = t("Press “Keep and finish the interview” to send your interview.");
    show(ui.finish);
    return;
  }
  const q = question();
  ui.progress.textContent = progressText(q, q.max_takes - q.takes_used, true);
  ui.prompt.textContent = q.prompt;
  if (state.language) ui.prompt.lang = state.language;
  ui.prompt.focus();
  if (q.answer) return showReceipt(q.answer);
  if (q.video) {
    ui.status.textContent = t("Watch the question. Your thinking time starts when it ends.");
    ui.preview.hidden = true;
    show(ui.skip);
    playPrompt(ui.promptVideo, ui.skip, base, q.video).then(() => {
      ui.preview.hidden = false;
      if (question() === q && !q.answer) think(q);
    });
    return;
  }
  think(q);
}

// The think countdown, then the recording (or the writing) starts by itself.
function think(q) {
  const begin = q.kind === "written" ? startWriting : startRecording;
  ui.status.textContent = q.kind === "written"
    ? t("Take a moment to think. Writing starts when the time is up.")
    : t("Take a moment to think. Recording starts when the time is up.");
  ui.start.textContent = q.kind === "written" ? t("Start writing now") : t("Start recording now");
  ui.start.onclick = begin;
  show(ui.start);
  countdown(q.think_seconds, "think", begin);
}

async function startWriting() {
  clearInterval(ticker);
  setError("");
  const q = question();
  let take;
  try {
    take = await api("POST", `/questions/${q.id}/takes`, { content_type: "text/plain" });
  } catch (err) {
    return fail(err.message);
  }
  ui.written.hidden = false;
  ui.text.value = "";
  ui.status.textContent = t("Write your answer, then send it. It is sent when the time is up.");
  show(ui.send);
  ui.text.focus();
  let sent = false;
  const send = async () => {
    if (sent) return;
    sent = true;
    clearInterval(ticker);
    try {
      const receipt = await api("POST", `/answers/${take.answer_id}/written`, { text: ui.text.value });
      q.takes_used += 1;
      q.answer = { id: receipt.answer_id, bytes: receipt.bytes, sha256: receipt.sha256, take: take.take };
      ui.written.hidden = true;
      showReceipt(q.answer);
    } catch (err) {
      fail(t("%(reason)s Reload the page to try this question again; it used no take.", { reason: err.message }));
    }
  };
  ui.send.onclick = send;
  countdown(q.answer_seconds, "answer", send);
}

async function startRecording() {
  clearInterval(ticker);
  setError("");
  const q = question();
  const type = pickType(q.kind);
  let take;
  try {
    take = await api("POST", `/questions/${q.id}/takes`, { content_type: declaredType(q.kind, type) });
  } catch (err) {
    return fail(err.message);
  }
  const meta = { answerId: take.answer_id, questionId: q.id, type, stopped: false };
  await store.saveTake(meta).catch(() => {});
  const source = q.kind === "audio" ? new MediaStream(stream.getAudioTracks()) : stream;
  const recorder = new MediaRecorder(source, q.kind === "audio" ? { mimeType: type, audioBitsPerSecond: 96_000 }
                                                                 : recorderOptions(type));
  const uploader = new Uploader(`${base}/answers/${take.answer_id}`, (s) => { ui.status.textContent = s; },
                                store, take.answer_id, take.max_chunk_bytes);
  const started = performance.now();
  recorder.ondataavailable = (e) => { if (e.data && e.data.size) uploader.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(TIMESLICE_MS);
  ui.rec.hidden = false;
  ui.status.textContent = t("Recording. Your answer is being saved as you speak.");
  show(ui.stop);
  const stop = () => {
    if (recorder.state === "inactive") return;
    uploader.stopping();  // its last chunk waits for the last piece, and carries the finalize
    recorder.stop();
  };
  ui.stop.onclick = stop;
  countdown(q.answer_seconds, "answer", stop);
  await stopped;
  clearInterval(ticker);
  ui.rec.hidden = true;
  ui.timer.textContent = "";
  show();
  const duration = Math.round(performance.now() - started);
  await store.saveTake({ ...meta, stopped: true, durationMs: duration }).catch(() => {});
  showPlayback(uploader.chunks, type);
  try {
    const receipt = await uploader.finish(duration);
    q.takes_used += 1;
    q.answer = { id: receipt.answer_id, bytes: receipt.bytes, sha256: receipt.sha256, take: take.take };
    showReceipt(q.answer, true);
    watchQuality(receipt.answer_id);
  } catch (err) {
    if (err.status === 413) {  // too large to ever be kept: the server let it go, so does this page
      await store.drop(take.answer_id).catch(() => {});
      return fail(err.message);
    }
    fail(t("%(reason)s Your recording is kept in this browser: reload the page to send it again.", { reason: err.message }));
  }
}

// The server checks each answer within seconds (sound, picture); tell the candidate while a
// retake is still possible. Only the answer still on screen is reported.
async function watchQuality(answerId) {
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const q = question();
    if (!q || !q.answer || q.answer.id !== answerId) return;
    let fresh;
    try { fresh = await api("GET", "/state"); } catch { continue; }
    const a = fresh.questions.find((x) => x.answer && x.answer.id === answerId)?.answer;
    if (!a) return;
    if (a.warnings && a.warnings.length) {
      ui.warning.hidden = false;
      ui.warning.textContent = t("Please check: %(warnings)s You can record this answer again if takes remain.",
                                 { warnings: a.warnings.join(" ") });
      return;
    }
    if (a.status === "ready" || a.status === "failed") return;
  }
}

function showReceipt(answer, justRecorded = false) {
  const q = question();
  if (!justRecorded) hidePlayback();
  ui.receipt.hidden = false;
  ui.receipt.textContent = nt("Answer received: %(num)s byte, checksum %(checksum)s",
                              "Answer received: %(num)s bytes, checksum %(checksum)s",
                              answer.bytes, { checksum: ltr(`${answer.sha256.slice(0, 12)}…`) });
  ui.status.textContent = justRecorded ? t("Your answer is saved. Watch it if you like, then keep it or record again.")
                                       : t("Your answer is saved.");
  const left = q.max_takes - q.takes_used;
  ui.progress.textContent = progressText(q, left, false);
  ui.retake.textContent = nt("Record again (%(num)s take left)", "Record again (%(num)s takes left)", left);
  show(index + 1 < state.questions.length ? ui.next : ui.finish, left > 0 ? ui.retake : null);
}

ui.retake.onclick = () => { question().answer = null; present(); };
ui.next.onclick = () => { index += 1; present(); };
ui.finish.onclick = async () => {
  if (index < state.questions.length) index = firstOpen();
  if (index < state.questions.length) return present();
  try {
    const r = await api("POST", "/finish");
    window.location.assign(r.next);
  } catch (err) {
    setError(err.message);
  }
};
ui.camera.onclick = openCamera;

ChunkStore.open().then((s) => { store = s; openCamera(); });
