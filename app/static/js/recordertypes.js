// What a browser's MediaRecorder is asked to record in: shared by the candidate's recorder and the
// hiring manager's prompt recorder, so both send what the server's pipeline reads.
const TYPES = [
  "video/webm;codecs=h264,opus", "video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus",
  "video/webm", "video/mp4;codecs=avc1,mp4a.40.2", "video/mp4",
];
const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];

// The first type this browser records for a kind ("video" or "audio"); "" for its default, null
// when it has no MediaRecorder at all.
export function pickType(kind = "video") {
  if (!window.MediaRecorder) return null;
  return (kind === "audio" ? AUDIO_TYPES : TYPES).find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

export function recorderOptions(type) {
  // A keyframe about every second, so every chunk starts near one. Chromium's H.264 encoder
  // hangs with videoKeyFrameIntervalDuration, so it gets a frame count instead. Firefox (153
  // ESR) ignores both: its VP8 has a keyframe about every 7.5 s, which the server copes with.
  const h264 = /h264|avc1/.test(type || "");
  return { mimeType: type, videoBitsPerSecond: 1_500_000, audioBitsPerSecond: 96_000,
           ...(h264 ? { videoKeyFrameIntervalCount: 30 } : { videoKeyFrameIntervalDuration: 1000 }) };
}

// What a recording declares it holds: the type the recorder was asked for, or the browser's default.
export function declaredType(kind, type) {
  return type || (kind === "audio" ? "audio/webm" : "video/webm");
}
