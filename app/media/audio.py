"""Speech audio for recognition: 16 kHz mono WAV from any recording, from a given second on."""

from __future__ import annotations

from pathlib import Path

from app.media.ffmpeg_run import run


def extract_speech(src: Path, dst: Path, start_s: float = 0.0, timeout: float = 600) -> Path:
    """Write the audio of `src` from `start_s` as a 16 kHz mono WAV. A recording still being
    uploaded ends mid-cluster; ffmpeg reads up to there."""
    run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(src),
         "-ss", f"{start_s:.3f}", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(dst)],
        timeout, "Extracting the speech")
    return dst
