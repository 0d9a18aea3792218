"""Worker-local copies that save fetching from object storage what this machine just had.

The recording's chunks while it is being recorded (for the early transcription passes), and
the review MP4 the transcode stage wrote (for the poster stage, when it runs on this machine).

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
# A kept copy is read within moments when the next stage runs here; when it runs on another
# machine, the copy must not fill this one's disk.
KEPT_MAX_AGE_S = 15 * 60
KEPT_SUFFIX = ".kept"


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
    _sweep(base)


def _sweep(base: Path) -> None:
    now = time.time()
    for old in base.iterdir():
        limit = KEPT_MAX_AGE_S if old.name.endswith(KEPT_SUFFIX) else MAX_AGE_S
        try:
            if old.stat().st_mtime < now - limit:
                old.unlink()
        except FileNotFoundError:
            pass


def keep(path: Path, name: str) -> None:
    """Leave a copy of `path` for a later stage on this machine (a hard link where possible)."""
    base = spool_dir()
    _sweep(base)
    target = base / (name + KEPT_SUFFIX)
    target.unlink(missing_ok=True)
    try:
        os.link(path, target)
    except OSError:  # another file system
        import shutil

        shutil.copyfile(path, target)


def take(name: str, size: int | None, dest: Path) -> bool:
    """Move a kept copy to `dest` if this machine has it whole (`size` bytes); else False."""
    kept = spool_dir() / (name + KEPT_SUFFIX)
    try:
        if size is None or kept.stat().st_size != size:
            kept.unlink(missing_ok=True)
            return False
        os.replace(kept, dest)
        return True
    except OSError:  # gone meanwhile, or another file system: fetch it instead
        return False
