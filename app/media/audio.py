"""Speech audio for recognition: 16 kHz mono WAV from any recording, from a given second on."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from app.media.ffmpeg_run import run
from app.media.probe import input_args


def extract_speech(src: Path, dst: Path, start_s: float = 0.0, timeout: float = 600, *,
                   container: str) -> Path:
    """Write the audio of `src` (read as `container` only: probe.input_args) from `start_s` as a
    16 kHz mono WAV. A recording still being uploaded ends mid-cluster; ffmpeg reads up to there.

    ffmpeg seeks in the input (reading past the earlier clusters without decoding them), so a
    pass late in a long answer does not decode it all again (bench/README.md, "Figures behind
    the defaults"). The cut lands within a few ms of where decoding it all
    would put it (8 ms for Opus, its pre-skip), below Whisper's 20 ms time step."""
    seek = ["-ss", f"{start_s:.3f}"] if start_s > 0 else []
    run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *seek, *input_args(container),
         "-i", str(src), "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(dst)],
        timeout, "Extracting the speech")
    return dst


def last_pause(wav: Path, min_pause_s: float = 0.3, frame_s: float = 0.02,
               quiet_dbfs: float = -42.0) -> float | None:
    """The middle of the last pause of at least `min_pause_s` in a 16-bit mono WAV, where audio
    that is still growing can be cut without splitting a word; None if there is none."""
    with wave.open(str(wav), "rb") as w:
        rate, n = w.getframerate(), w.getnframes()
        samples = np.frombuffer(w.readframes(n), dtype="<i2").astype(np.float32)
    step = max(1, int(rate * frame_s))
    usable = len(samples) // step * step
    if not usable:
        return None
    rms = np.sqrt(np.mean(samples[:usable].reshape(-1, step) ** 2, axis=1))
    quiet = rms < 32768.0 * 10 ** (quiet_dbfs / 20)
    need = max(1, int(min_pause_s / frame_s))
    end = len(quiet)
    # Walk back from the end; a pause that runs into the end may hide the start of a word.
    i = end - 1
    while i >= 0 and quiet[i]:
        i -= 1
    run = 0
    while i >= 0:
        if quiet[i]:
            run += 1
        else:
            if run >= need:
                return round((i + 1 + run / 2) * frame_s, 3)
            run = 0
        i -= 1
    return None


def trim_wav(src: Path, dst: Path, end_s: float | None, start_s: float = 0.0) -> Path:
    """The part of a WAV from `start_s` to `end_s` seconds (to its end when `end_s` is None)."""
    with wave.open(str(src), "rb") as r, wave.open(str(dst), "wb") as w:
        w.setparams(r.getparams())
        rate, n = r.getframerate(), r.getnframes()
        first = min(n, round(start_s * rate))
        last = n if end_s is None else min(n, int(end_s * rate))
        r.setpos(first)
        while first < last:  # in blocks: memory stays flat for a long answer
            block = min(last - first, rate * 30)
            w.writeframes(r.readframes(block))
            first += block
    return dst
