"""Tiny test media, made at the start of a run with ffmpeg and espeak-ng (nothing binary is committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SENTENCE = "My favourite programming language is Python."
KEYWORDS = ("python", "programming", "language")
# Stems of the sentence as a fake microphone loops it: a take of a few seconds starts anywhere
# in the loop, and Whisper may drop a sentence cut at the start, so any one of them shows the
# take was heard.
HEARD = ("favo", "program", "language", "python")
LONG_SENTENCES = ("My favourite programming language is Python.",
                  "I have five years of experience building web applications.",
                  "I enjoy testing software every day.")


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def make_media(out: Path) -> dict[str, Path]:
    raw = out / "speech-raw.wav"
    _run(["espeak-ng", "-s", "140", "-w", str(raw), SENTENCE])
    speech = out / "speech.wav"
    # 48 kHz mono 16-bit with a second of silence after it: what Chromium's fake microphone plays.
    _run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af", "apad=pad_dur=1",
          "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(speech)])
    y4m = out / "camera.y4m"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-t", "2", "-pix_fmt", "yuv420p", str(y4m)])
    webm = out / "answer.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime",
          "-c:a", "libopus", "-b:a", "48k", str(webm)])
    mp4 = out / "answer.mp4"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
          "-c:a", "aac", str(mp4)])
    silent = out / "silent.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "3", "-c:v", "libvpx",
          "-deadline", "realtime", "-c:a", "libopus", str(silent)])
    black = out / "black.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:size=320x240:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libvpx", "-deadline", "realtime",
          "-c:a", "libopus", str(black)])
    long_wav = out / "long.wav"
    parts = []
    for i, sentence in enumerate(LONG_SENTENCES):
        part = out / f"long-{i}.wav"
        _run(["espeak-ng", "-s", "140", "-w", str(part), sentence])
        parts += ["-i", str(part)]
    n = len(LONG_SENTENCES)
    pads = "".join(f"[{i}:a]aresample=48000,apad=pad_dur=1.5[a{i}];" for i in range(n))
    _run(["ffmpeg", "-v", "error", "-y", *parts, "-filter_complex",
          pads + "".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1[out]",
          "-map", "[out]", "-ac", "1", str(long_wav)])
    long_webm = out / "long.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-i", str(long_wav), "-shortest", "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime",
          "-g", "15", "-c:a", "libopus", "-b:a", "48k", "-cluster_time_limit", "1000", str(long_webm)])
    not_media = out / "not-media.webm"
    not_media.write_text("This is a text file with a video file's name.\n" * 50)
    return {"speech": speech, "y4m": y4m, "webm": webm, "mp4": mp4, "not_media": not_media,
            "silent": silent, "black": black, "long": long_webm}
