"""A worker-local copy of a recording's chunks while it is being recorded.

Each early transcription pass needs the recording so far. Fetching every chunk again from
object storage made each pass slower than the one before (270 requests for the third pass of a
5-minute answer); the spool keeps what earlier passes fetched, on this machine, and fetches
only the chunks it lacks. Chunks never change once stored (a different replay is refused), and
the spool is checked against their recorded sizes, so a stale or damaged spool is simply
started again. Another machine's worker has its own spool; the final stages never use it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_AGE_S = 24 * 3600  # an answer abandoned mid-recording leaves its spool this long at most


def spool_dir() -> Path:
    path = Path(os.environ.get("ONEWAY_SPOOL_DIR") or Path(tempfile.gettempdir()) / "oneway-spool")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def recording_so_far(store, answer_public_id: str, chunk_sizes: list[int],
                     key_for) -> Iterator[Path]:
    """The file holding at least chunks 0..len(chunk_sizes)-1 of the recording, in order,
    fetching only what is missing. Held under a lock, so passes on one machine take turns;
    a later pass may already have added more chunks, which only gives this one more audio."""
    base = spool_dir()
    path = base / f"{answer_public_id}.rec"
    with open(base / f"{answer_public_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = _chunks_held(path, chunk_sizes)
        if have < len(chunk_sizes):
            with open(path, "r+b" if have else "wb") as out:
                out.seek(sum(chunk_sizes[:have]))
                for seq in range(have, len(chunk_sizes)):
                    for block in store.iter_object(key_for(seq)):
                        out.write(block)
        yield path


def _chunks_held(path: Path, sizes: list[int]) -> int:
    """How many of the leading chunks the spool holds whole: all of them when it is at least
    as long (a later pass added more), else the chunk boundary its size falls on, else 0 (a
    pass that died mid-chunk: start again)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    total = 0
    for i, n in enumerate(sizes):
        if total == size:
            return i
        total += n
    return len(sizes) if total <= size else 0


def drop(answer_public_id: str) -> None:
    """Forget an answer's spool (its recording is finished), and any spool left too long."""
    base = spool_dir()
    for name in (f"{answer_public_id}.rec", f"{answer_public_id}.lock"):
        (base / name).unlink(missing_ok=True)
    cutoff = time.time() - MAX_AGE_S
    for old in base.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass
