// The candidate's recorder: think countdown, timed recording, chunked upload while recording,
// finalize with a checksum, retakes. Data comes from the JSON block in the page.
import { Uploader } from "./uploader.js";

const root = document.getElementById("recorder");
const state = JSON.parse(document.getElementById("interview-state").textContent);
const base = root.dataset.base;
const $ = (id) => document.getElementById(id);
const ui = {
  preview: $("preview"), prompt: $("prompt"), progress: $("progress"), timer: $("timer"),
  status: $("status"), error: $("error"), receipt: $("receipt"), rec: $("rec-indicator"),
  start: $("btn-start"), stop: $("btn-stop"), retake: $("btn-retake"), next: $("btn-next"),
  finish: $("btn-finish"), camera: $("btn-camera"), warning: $("warning"),
};
const TYPES = [
  "video/webm;codecs=h264,opus", "video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus",
  "video/webm", "video/mp4;codecs=avc1,mp4a", "video/mp4",
];
const TIMESLICE_MS = 1000;

let stream = null;
let index = state.questions.findIndex((q) => !q.answer);
if (index < 0) index = state.questions.length;
let ticker = null;

function show(...buttons) {
  for (const b of [ui.start, ui.stop, ui.retake, ui.next, ui.finish, ui.camera]) b.hidden = !buttons.includes(b);
  const first = buttons.find((b) => b);
  if (first) first.focus();
}

function setError(message) {
  ui.error.hidden = !message;
  ui.error.textContent = message || "";
}

function fmt(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// Announce a countdown politely: the visible text changes every second, but screen readers
// hear it only at round moments, so they are not flooded.
function countdown(seconds, label, onEnd) {
  clearInterval(ticker);
  const end = performance.now() + seconds * 1000;
  const paint = () => {
    const left = (end - performance.now()) / 1000;
    ui.timer.textContent = `${label}: ${fmt(left)}`;
    const whole = Math.ceil(left);
    ui.timer.setAttribute("aria-live", whole % 15 === 0 || whole <= 5 ? "polite" : "off");
    if (left <= 0) { clearInterval(ticker); onEnd(); }
  };
  paint();
  ticker = setInterval(paint, 250);
}

function pickType() {
  if (!window.MediaRecorder) return null;
  return TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

async function openCamera() {
  setError("");
  if (!window.isSecureContext) return fail("This page must be opened over https to use the camera.");
  if (!navigator.mediaDevices?.getUserMedia || pickType() === null) {
    return fail("This browser cannot record video. Use a current Chrome, Edge, Firefox or Safari.");
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
  } catch (err) {
    const why = {
      NotAllowedError: "Camera and microphone access was blocked. Allow it in the address bar, then try again.",
      NotFoundError: "No camera or microphone was found. Connect one, then try again.",
      NotReadableError: "The camera is in use by another program. Close it, then try again.",
    }[err.name] || `The camera could not start (${err.name}).`;
    ui.camera.hidden = false;
    show(ui.camera);
    return setError(why);
  }
  ui.preview.srcObject = stream;
  present();
}

function fail(message) {
  setError(message);
  show();
}

function question() { return state.questions[index]; }

function present() {
  clearInterval(ticker);
  ui.receipt.hidden = true;
  ui.warning.hidden = true;
  ui.rec.hidden = true;
  if (index >= state.questions.length) {
    ui.progress.textContent = "All questions answered";
    ui.prompt.textContent = "You have answered every question.";
    ui.timer.textContent = "";
    ui.status.textContent = "Press Finish to send your interview.";
    show(ui.finish);
    return;
  }
  const q = question();
  ui.progress.textContent = `Question ${q.number} of ${state.questions.length} · takes left: ${q.max_takes - q.takes_used}`;
  ui.prompt.textContent = q.prompt;
  ui.prompt.focus();
  if (q.answer) return showReceipt(q.answer);
  ui.status.textContent = "Take a moment to think. Recording starts when the time is up.";
  show(ui.start);
  countdown(q.think_seconds, "Thinking time", startRecording);
}

async function startRecording() {
  clearInterval(ticker);
  setError("");
  const q = question();
  const type = pickType();
  let take;
  try {
    take = await api("POST", `/questions/${q.id}/takes`, { content_type: type || "video/webm" });
  } catch (err) {
    return fail(err.message);
  }
  // A keyframe about every second, so that every chunk starts near one. Chromium's H.264
  // encoder hangs with videoKeyFrameIntervalDuration, so it gets a frame count instead.
  const h264 = /h264|avc1/.test(type || "");
  const options = { mimeType: type, videoBitsPerSecond: 1_500_000, audioBitsPerSecond: 96_000,
                    ...(h264 ? { videoKeyFrameIntervalCount: 30 } : { videoKeyFrameIntervalDuration: 1000 }) };
  const recorder = new MediaRecorder(stream, options);
  const uploader = new Uploader(`${base}/answers/${take.answer_id}`, csrf(), (s) => { ui.status.textContent = s; });
  const started = performance.now();
  recorder.ondataavailable = (e) => { if (e.data && e.data.size) uploader.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(TIMESLICE_MS);
  ui.rec.hidden = false;
  ui.status.textContent = "Recording. Your answer is being saved as you speak.";
  show(ui.stop);
  const stop = () => { if (recorder.state !== "inactive") recorder.stop(); };
  ui.stop.onclick = stop;
  countdown(q.answer_seconds, "Time left", stop);
  await stopped;
  clearInterval(ticker);
  ui.rec.hidden = true;
  ui.timer.textContent = "";
  show();
  const duration = Math.round(performance.now() - started);
  try {
    const receipt = await uploader.finish(duration);
    q.takes_used += 1;
    q.answer = { id: receipt.answer_id, bytes: receipt.bytes, sha256: receipt.sha256, take: take.take };
    showReceipt(q.answer);
    watchQuality(receipt.answer_id);
  } catch (err) {
    fail(`${err.message} Your recording is kept in this page; do not close it. Reload to try again.`);
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
    const warnings = a.warnings || [];
    if (warnings.length) {
      ui.warning.hidden = false;
      ui.warning.textContent = `Please check: ${warnings.join(" ")} You can record this answer again if takes remain.`;
      return;
    }
    if (a.status === "ready" || a.status === "failed") return;
  }
}

function showReceipt(answer) {
  const q = question();
  ui.receipt.hidden = false;
  ui.receipt.textContent = `Answer received: ${answer.bytes.toLocaleString()} bytes, checksum ${answer.sha256.slice(0, 12)}…`;
  ui.status.textContent = "Your answer is saved.";
  ui.progress.textContent = `Question ${q.number} of ${state.questions.length} · takes left: ${q.max_takes - q.takes_used}`;
  const more = q.max_takes - q.takes_used > 0;
  ui.retake.textContent = more ? `Record again (${q.max_takes - q.takes_used} left)` : "";
  show(index + 1 < state.questions.length ? ui.next : ui.finish, more ? ui.retake : null);
}

function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }

async function api(method, path, body) {
  const resp = await fetch(`${base}${path}`, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || `The server answered ${resp.status}.`);
  return data;
}

ui.start.onclick = startRecording;
ui.retake.onclick = () => {
  const q = question();
  q.answer = null;
  present();
};
ui.next.onclick = () => { index += 1; present(); };
ui.finish.onclick = async () => {
  try {
    const r = await api("POST", "/finish");
    window.location.assign(r.next);
  } catch (err) {
    setError(err.message);
  }
};
ui.camera.onclick = openCamera;
openCamera();
