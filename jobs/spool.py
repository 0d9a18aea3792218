"""Worker-local copies that save fetching from object storage what this machine just had.

The recording's chunks while it is being recorded (for the early passes), the video parts those
passes encode (for the final transcode), and the review MP4 the transcode stage wrote (for the
poster stage), each used when the next stage runs on this machine. jobs/early_state.py lists
which of these files belong to the early passes' state, beside the rest of it.

Each early pass needs the recording so far. Fetching every chunk again from object storage made
each pass slower than the one before (a request for every chunk so far; bench/README.md,
"Figures behind the defaults"); the spool keeps what earlier passes fetched, on this machine,
and fetches only the chunks it lacks. Chunks never change once stored (a different replay is
refused, and each is named by its checksum), and the spool is checked against their recorded
sizes, so a stale or damaged spool is simply started again. Another machine's worker has its
own spool; the final stages never read its recording.

The spool holds candidates' recordings, so it is the worker user's alone: the folder is made (or
set) 0700, its files 0600, and a folder that belongs to another user is refused. Erasing a
candidate removes their answers' copies from every worker's spool at once (forget, called by the
worker's listener in jobs.worker), not a day later.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_AGE_S = 24 * 3600  # an answer abandoned mid-recording leaves its spool this long at most
# A kept copy is read within moments when the next stage runs here; when it runs on another
# machine, the copy must not fill this one's disk.
KEPT_MAX_AGE_S = 15 * 60
KEPT_SUFFIX = ".kept"


def spool_dir() -> Path:
    """The spool folder, private to this process's user (0700), made if missing."""
    path = Path(os.environ.get("ONEWAY_SPOOL_DIR") or Path(tempfile.gettempdir()) / "oneway-spool")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.geteuid():  # e.g. a /tmp/oneway-spool made first by another local user
        raise RuntimeError(f"the spool folder {path} belongs to another user: set ONEWAY_SPOOL_DIR "
                           "to a folder of this one")
    if stat.S_IMODE(info.st_mode) != 0o700:  # made by an earlier version, or by a wider umask
        path.chmod(0o700)
    return path


def _private(path: Path, truncate: bool) -> int:
    """A file descriptor open for writing on `path`, made 0600 if it is new."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o600)


@contextmanager
def recording_so_far(store, answer_public_id: str, chunk_sizes: list[int],
                     read: Callable[[int], bytes]) -> Iterator[Path]:
    """The file holding at least chunks 0..len(chunk_sizes)-1 of the recording, in order,
    fetching only what is missing (`read(seq)`: chunk `seq`'s bytes, from storage). Held under a
    lock, so passes on one machine take turns; a later pass may already have added more chunks,
    which only gives this one more audio."""
    base = spool_dir()
    path = base / f"{answer_public_id}.rec"
    with open(_private(base / f"{answer_public_id}.lock", truncate=False), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = _chunks_held(path, chunk_sizes)
        if have < len(chunk_sizes):
            with open(_private(path, truncate=not have), "wb") as out:
                out.seek(sum(chunk_sizes[:have]))
                for seq in range(have, len(chunk_sizes)):
                    out.write(read(seq))
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
    target.chmod(0o600)


def forget(answer_public_ids: list[str]) -> int:
    """Remove every spool file of these answers (their candidate was erased); returns how many.
    A file belongs to an answer when its name is the answer's public id followed by "." or "-"
    (see recording_so_far, keep's callers); public ids are of one length, so none is another's
    beginning."""
    ids = {i for i in answer_public_ids if i}
    if not ids:
        return 0
    removed = 0
    for path in spool_dir().iterdir():
        # Each beginning of the name that stops before a "." or "-": a set lookup per file, so the
        # day's purged answers (thousands, every RECONCILE_SECONDS) cost as little as a few.
        if ids.intersection(path.name[:n] for n, c in enumerate(path.name) if c in ".-"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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
