"""Running ffmpeg and ffprobe with a timeout, logging their stderr on failure."""

from __future__ import annotations

import logging
import subprocess

from app.media import MediaError

log = logging.getLogger(__name__)


def run(args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
    """Run a command; a non-zero exit raises MediaError naming `what`, with ffmpeg's last words."""
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        log.error("%s timed out after %ss: %s", what, timeout, " ".join(args))
        raise TimeoutError(f"{what} took longer than {timeout:.0f} seconds") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        log.error("%s failed (exit %s): %s\n%s", what, proc.returncode, " ".join(args), err)
        last = [line for line in err.strip().splitlines() if line.strip()][-1:] or ["no details"]
        raise MediaError(f"{what} failed: {last[0][:300]}")
    return proc
