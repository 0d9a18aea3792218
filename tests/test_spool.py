"""The early passes' local copy of a recording: only missing chunks are fetched, and a spool
that does not match the chunks' sizes is started again (real S3 server)."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from app.storage import chunk_key, current_storage
from jobs import spool

CHUNKS = [bytes([i]) * (1000 + 37 * i) for i in range(6)]


def _key(answer: str, seq: int) -> str:
    return chunk_key(answer, seq, hashlib.sha256(CHUNKS[seq]).hexdigest())


@pytest.fixture
def spooled(app, tmp_path, monkeypatch):
    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    store = current_storage()
    answer = f"spool-{time.monotonic_ns()}"
    for seq, data in enumerate(CHUNKS):
        store.put_bytes(_key(answer, seq), data, "application/octet-stream")

    def read(n: int) -> bytes:
        with spool.recording_so_far(store, answer, [len(c) for c in CHUNKS[:n]],
                                    lambda seq: store.get_bytes(_key(answer, seq))) as path:
            return path.read_bytes()

    return store, answer, read


def test_a_later_pass_fetches_only_the_chunks_it_lacks(spooled):
    store, answer, read = spooled
    assert read(3) == b"".join(CHUNKS[:3])
    store.delete(*(_key(answer, seq) for seq in range(3)))  # gone from storage now
    assert read(6) == b"".join(CHUNKS)  # so these three came from the spool


def test_a_spool_cut_mid_chunk_is_fetched_again(spooled):
    _store, answer, read = spooled
    read(4)
    path = spool.spool_dir() / f"{answer}.rec"
    with open(path, "r+b") as f:  # a pass killed while writing chunk 3
        f.truncate(len(CHUNKS[0]) + len(CHUNKS[1]) + len(CHUNKS[2]) + 10)
    assert read(5) == b"".join(CHUNKS[:5])


def test_an_earlier_pass_after_a_later_one_keeps_what_it_added(spooled):
    _store, _answer, read = spooled
    assert read(5) == b"".join(CHUNKS[:5])
    assert read(2) == b"".join(CHUNKS[:5])  # more audio than it asked for, nothing lost
    assert read(6) == b"".join(CHUNKS)


def test_drop_removes_the_answers_spool_and_any_left_for_a_day(spooled):
    _store, answer, read = spooled
    read(2)
    stale = spool.spool_dir() / "abandoned.rec"
    stale.write_bytes(b"x")
    day_ago = time.time() - spool.MAX_AGE_S - 60
    os.utime(stale, (day_ago, day_ago))
    fresh = spool.spool_dir() / "still-recording.rec"
    fresh.write_bytes(b"y")
    spool.drop(answer)
    assert sorted(p.name for p in spool.spool_dir().iterdir()) == ["still-recording.rec"]


def test_a_kept_copy_is_taken_once_and_only_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    made = tmp_path / "answer.mp4"
    made.write_bytes(b"m" * 5000)
    spool.keep(made, "a1-answer.mp4")
    made.unlink()  # the stage's own folder is removed; the kept copy stays
    got = tmp_path / "got.mp4"
    assert not spool.take("a1-answer.mp4", 4999, got)  # not the size stored: fetch instead
    assert not got.exists() and not list(spool.spool_dir().iterdir())
    made.write_bytes(b"m" * 5000)
    spool.keep(made, "a1-answer.mp4")
    assert spool.take("a1-answer.mp4", 5000, got) and got.read_bytes() == b"m" * 5000
    assert not spool.take("a1-answer.mp4", 5000, tmp_path / "again.mp4")  # moved, not copied


def test_kept_copies_go_after_minutes_and_spools_after_a_day(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    base = spool.spool_dir()
    twenty_min_ago = time.time() - 20 * 60
    for name in ("old-answer.mp4.kept", "recording.rec"):
        (base / name).write_bytes(b"x")
        os.utime(base / name, (twenty_min_ago, twenty_min_ago))
    made = tmp_path / "new.mp4"
    made.write_bytes(b"n")
    spool.keep(made, "new-answer.mp4")
    assert sorted(p.name for p in base.iterdir()) == ["new-answer.mp4.kept", "recording.rec"]
