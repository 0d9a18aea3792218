"""Technical checks a grader (and the candidate) should know about: no sound, black, frozen, no face.

These describe the recording, never the person: they are warnings, not scores.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def N_(msgid: str) -> str:
    """Marks a message for the catalogue (make translations) and leaves it as it is: the warnings are
    stored in English, as msgids, and translated where they are shown (app.blueprints.candidate)."""
    return msgid


NO_AUDIO = N_("The recording has no audio track.")
SILENT = N_("No sound was detected in this answer.")
BLACK = N_("The video is black for most of this answer.")
FROZEN = N_("The picture is frozen for most of this answer.")
NO_FACE = N_("No face was visible for most of this answer.")

WINDOW_S = 0.25
SOUND_DBFS = -40.0


@dataclass
class AudioCheck:
    peak_dbfs: float
    sound_fraction: float
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"peak_dbfs": round(self.peak_dbfs, 1), "sound_fraction": round(self.sound_fraction, 3),
                "flags": self.flags}


def _dbfs(x: float) -> float:
    return 20 * math.log10(max(x, 1e-9) / 32768.0)


def check_audio(wav: Path | None) -> AudioCheck:
    """Loudness per quarter second of a 16-bit mono WAV, read in blocks (memory stays flat)."""
    if wav is None:
        return AudioCheck(-math.inf, 0.0, [NO_AUDIO])
    peak, loud, windows = 0.0, 0, 0
    with wave.open(str(wav), "rb") as w:
        step = max(1, int(w.getframerate() * WINDOW_S))
        while True:
            block = w.readframes(step * 64)
            if not block:
                break
            samples = np.frombuffer(block, dtype="<i2").astype(np.float32)
            peak = max(peak, float(np.abs(samples).max(initial=0)))
            usable = len(samples) // step * step
            if usable:
                rms = np.sqrt(np.mean(samples[:usable].reshape(-1, step) ** 2, axis=1))
                loud += int(np.sum(rms > 32768.0 * 10 ** (SOUND_DBFS / 20)))
                windows += len(rms)
    fraction = loud / windows if windows else 0.0
    flags = [SILENT] if _dbfs(peak) < -45 or fraction < 0.02 else []
    return AudioCheck(_dbfs(peak), fraction, flags)


@dataclass
class VideoCheck:
    samples: int
    black_fraction: float
    frozen_fraction: float
    face_fraction: float
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"samples": self.samples, "black_fraction": round(self.black_fraction, 3),
                "frozen_fraction": round(self.frozen_fraction, 3),
                "face_fraction": round(self.face_fraction, 3), "flags": self.flags}


class VideoStats:
    """Accumulates per-frame findings over sampled frames, one frame at a time."""

    def __init__(self):
        self.samples = self.black = self.frozen = self.faces = 0
        self._previous: np.ndarray | None = None

    def add(self, gray: np.ndarray, has_face: bool) -> None:
        self.samples += 1
        if float(gray.mean()) < 20 and float(gray.std()) < 12:
            self.black += 1
        if self._previous is not None and self._previous.shape == gray.shape:
            diff = float(np.mean(np.abs(gray.astype(np.int16) - self._previous.astype(np.int16))))
            if diff < 0.6:
                self.frozen += 1
        self._previous = gray
        self.faces += int(has_face)

    def result(self) -> VideoCheck:
        n = max(self.samples, 1)
        black, frozen, faces = self.black / n, self.frozen / max(n - 1, 1), self.faces / n
        flags = []
        if self.samples and black > 0.8:
            flags.append(BLACK)
        elif self.samples >= 3 and frozen > 0.8:
            flags.append(FROZEN)
        if self.samples and faces < 0.5 and black <= 0.8:
            flags.append(NO_FACE)
        return VideoCheck(self.samples, black, frozen, faces, flags)
