// The hiring manager records a question's video (or the welcome) on the editing page: the camera,
// a recording sent chunk by chunk while it runs (the candidate's Uploader, the same chunked API and
// checks), then the page again, showing it being processed. Uploading a file is the form beside it.
import { request } from "./api.js";
import { t } from "./i18n.js";
import { declaredType, pickType, recorderOptions } from "./recordertypes.js";
import { Uploader } from "./uploader.js";

const TIMESLICE_MS = 1000;

function setUp(root) {
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const ui = { preview: part("preview"), rec: part("rec"), kind: part("kind"), start: part("start"),
               stop: part("stop"), status: part("status"), error: part("error") };
  const fail = (message) => {
    ui.error.hidden = false;
    ui.error.textContent = message;
    ui.start.hidden = false;
    ui.stop.hidden = true;
    ui.rec.hidden = true;
  };

  ui.start.onclick = async () => {
    ui.error.hidden = true;
    const kind = ui.kind.value === "audio" ? "audio" : "video";
    const type = pickType(kind);
    if (type === null || !navigator.mediaDevices?.getUserMedia) {
      return fail(t("This browser cannot record here; upload a file instead."));
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: kind === "video" });
    } catch (err) {
      return fail(t("The camera or microphone could not be used (%(reason)s). Allow it, or upload a file.", { reason: err.name }));
    }
    let media;
    try {
      media = await request("POST", root.dataset.start, { content_type: declaredType(kind, type) });
    } catch (err) {
      stream.getTracks().forEach((track) => track.stop());
      return fail(err.message);
    }
    ui.preview.srcObject = stream;
    ui.preview.hidden = kind !== "video";
    const uploader = new Uploader(`${root.dataset.mediaBase}/${media.media_id}`,
                                  (s) => { ui.status.textContent = s; }, null, media.media_id,
                                  media.max_chunk_bytes);
    const recorder = new MediaRecorder(stream, kind === "audio" ? { mimeType: type, audioBitsPerSecond: 96_000 }
                                                                : recorderOptions(type));
    recorder.ondataavailable = (e) => { if (e.data && e.data.size) uploader.push(e.data); };
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    const began = performance.now();
    recorder.start(TIMESLICE_MS);
    ui.start.hidden = true;
    ui.stop.hidden = false;
    ui.rec.hidden = false;
    ui.stop.focus();
    ui.status.textContent = t("Recording: ask your question, then stop.");
    ui.stop.onclick = () => { if (recorder.state !== "inactive") recorder.stop(); };
    await stopped;
    stream.getTracks().forEach((track) => track.stop());
    ui.preview.hidden = true;
    ui.rec.hidden = true;
    ui.stop.hidden = true;
    ui.status.textContent = t("Sending the recording…");
    try {
      await uploader.finish(Math.round(performance.now() - began));
    } catch (err) {
      return fail(err.message);
    }
    ui.status.textContent = t("Saved. It is being processed; candidates see it once its captions are made.");
    window.location.reload();
  };
}

document.querySelectorAll("[data-prompt-recorder]").forEach(setUp);
