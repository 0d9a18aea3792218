"""The state of the passes made while a candidate records (the early passes), in one place.

Two kinds of pass work over a recording that is still arriving: the early transcription
(jobs/early.py, every EARLY_TRANSCRIBE_CHUNKS chunks) and the early video encode
(jobs/early_video.py, every EARLY_VIDEO_CHUNKS chunks, only for video that must be re-encoded).
Each pass is queued by a chunk's upload (app/services/chunk_uploads.py) with the number of that
chunk, starts from where the last pass of its kind stopped, and is only an optimisation: when
any of its state is missing or does not match, the final stage does the whole work.

An answer's early-pass state lives in four places:

* Chunk rows (app.models.AnswerChunk: seq, size, sha256, created_at), with the chunks themselves
  at `answers/<id>/chunks/<seq>-<checksum>`. Written by the upload service as chunks arrive;
  read by both passes (arrived_chunks: the sizes of chunks 0..seq, so that the spool can be
  checked, and their checksums, which name them in storage) and by the transcription's grace
  wait (created_at, jobs/early.py). The join (jobs/join.py) joins the chunks into the original
  and deletes their folder; the rows stay with the answer.
* State objects in storage, one per kind of pass, loaded and saved only through this module:
  - `answers/<id>/early-transcript.json` (EarlyTranscript): the transcript settled so far.
    Written by jobs/early.py; read by the final transcription (jobs/transcribe.py), which
    transcribes only what comes after `until_s`. It stays until the answer's folder is purged.
  - `answers/<id>/early-video.json` (EarlyVideo) and the parts it lists,
    `answers/<id>/video-part-NNNN.ts`. Written by jobs/early_video.py; read by the final
    transcode (jobs/transcode.py), which joins the parts it can use and, once its MP4 is
    committed, deletes the parts and the state.
* The worker's spool (jobs/spool.py), on each worker machine, never shared: `<id>.rec` (the
  recording so far, fetched chunk by chunk by both passes, under `<id>.lock`; dropped by the
  final transcription) and `<id>-video-part-NNNN.ts.kept` (part_spool_name: a part's copy,
  taken by the final transcode when it runs on the same machine, else fetched from storage).
  Erasing a candidate removes their files from every spool; the rest goes after a day.
* Redis locks (one_pass_at_a_time): `oneway:early:<answer row id>` and
  `oneway:early-video:<answer row id>`, so that one pass of each kind runs at a time over an
  answer on any worker. The final transcode takes the video lock too, waiting for a running
  pass, so that it reads the state only once that pass has saved its part.

The state objects are JSON. EarlyVideo's carries a version: one of another version is not
used (the final transcode encodes the whole video). Fields that older code did not write take
their defaults, and both objects are saved in the shape the code before this module wrote, so
that workers of either version can share an answer recorded during an upgrade.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

TRANSCRIPT_PASS = "early"  # the Redis lock's kind for the transcription passes
VIDEO_PASS = "early-video"  # ... and for the video passes (the final transcode takes it too)
VIDEO_VERSION = 1


@contextmanager
def one_pass_at_a_time(kind: str, answer_id: int, seconds: int = 600,
                       wait: float = 0) -> Iterator[bool]:
    """Yield whether this is the only `kind` pass over the answer's recording running now, on
    any worker; two at once would do the same span twice. A pass that is not leaves its span
    to the next one. With `wait`, wait up to that many seconds for a running pass to end."""
    from redis.exceptions import LockError

    from app.queue import redis_conn

    lock = redis_conn().lock(f"oneway:{kind}:{answer_id}", timeout=seconds)
    mine = lock.acquire(blocking=wait > 0, blocking_timeout=wait or None)
    try:
        yield mine
    finally:
        if mine:
            with contextlib.suppress(LockError):  # it expired meanwhile: nothing to release
                lock.release()


def arrived_chunks(answer, upto_seq: int) -> list[tuple[int, str]] | None:
    """(size, SHA-256) of chunks 0..upto_seq, or None while any of them is missing."""
    from app.extensions import db
    from app.models import AnswerChunk

    rows = db.session.execute(
        db.select(AnswerChunk.seq, AnswerChunk.size, AnswerChunk.sha256).filter(
            AnswerChunk.answer_id == answer.id, AnswerChunk.seq <= upto_seq
        ).order_by(AnswerChunk.seq)
    ).all()
    if [r.seq for r in rows] != list(range(upto_seq + 1)):
        return None
    return [(r.size, r.sha256) for r in rows]


def recording_so_far(store, answer, chunks: list[tuple[int, str]]):
    """The spool's file of the recording so far (jobs.spool.recording_so_far) for chunks
    0..len(chunks)-1 as arrived_chunks found them."""
    from app.storage import chunks_prefix, read_chunk
    from jobs import spool

    folder = chunks_prefix(answer.public_id)
    return spool.recording_so_far(store, answer.public_id, [size for size, _ in chunks],
                                  lambda seq: read_chunk(store, folder, seq, chunks[seq][1]))


def part_key(answer_public_id: str, n: int) -> str:
    """Where the video pass stores part `n` of the answer's video."""
    from app.storage import answer_key

    return answer_key(answer_public_id, f"video-part-{n:04d}.ts")


def part_spool_name(answer_public_id: str, n: int) -> str:
    """The part's name in this machine's spool, where the final transcode looks first."""
    return f"{answer_public_id}-video-part-{n:04d}.ts"


def _read(store, key: str) -> dict | None:
    """A JSON object a pass left in storage, or None when there is none (or it cannot be read)."""
    from app.storage import StorageError

    try:
        found = json.loads(store.get_bytes(key))
    except (StorageError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _known(cls, data: dict) -> dict[str, Any]:
    """The entries of `data` that are fields of `cls` (a later version may write more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


class _StoredState:
    """A state kept as one JSON object, NAME, in the answer's folder."""

    NAME: ClassVar[str]

    @classmethod
    def key(cls, answer_public_id: str) -> str:
        from app.storage import answer_key

        return answer_key(answer_public_id, cls.NAME)

    def save(self, store, answer_public_id: str) -> None:
        store.put_bytes(self.key(answer_public_id), json.dumps(self.as_json()).encode(),
                        "application/json")

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class EarlyTranscript(_StoredState):
    """The transcript settled while the candidate records: the audio up to `until_s`.

    With batched decoding the passes settle whole voice-activity windows (`windows`, each with
    the number of its lines in `segments`, in order), which the final transcription keeps where
    the whole recording's windows are cut the same. Without `windows` (sequential decoding, or
    state written by code before them) the final transcription does the audio after `until_s`.
    Both kinds keep `until_s` and `segments`, so either version of the final stage can read it."""

    until_s: float = 0.0  # seconds of the recording settled; the next pass starts here
    segments: list[dict] = field(default_factory=list)  # app.media.transcribe.Segment as dicts
    upto_seq: int = -1  # the last chunk a pass has looked at
    seconds: float = 0.0  # the passes' time, all together
    language: str | None = None  # as the last pass that heard speech found it
    windows: list[dict] = field(default_factory=list)  # {"start", "end", "segments": count}
    NAME: ClassVar[str] = "early-transcript.json"

    @classmethod
    def load(cls, store, answer_public_id: str) -> EarlyTranscript | None:
        """The settled transcript so far, or None when there is none (or it cannot be read)."""
        data = _read(store, cls.key(answer_public_id))
        return cls(**_known(cls, data)) if data is not None else None

    def settled_windows(self) -> list:
        """`windows` with their lines, as app.media.transcribe.settle() takes them."""
        from app.media.transcribe import Segment, SettledWindow, Word

        out, at = [], 0
        for w in self.windows:
            lines = self.segments[at:at + w["segments"]]
            at += w["segments"]
            out.append(SettledWindow(w["start"], w["end"], [
                Segment(s["start"], s["end"], s["text"], [Word(**x) for x in s["words"]])
                for s in lines]))
        return out

    def keep_windows(self, settled: list) -> None:
        """Hold these settled windows (app.media.transcribe.SettledWindow) and their lines."""
        self.windows = [{"start": w.start, "end": w.end, "segments": len(w.segments)} for w in settled]
        self.segments = [asdict(s) for w in settled for s in w.segments]
        self.until_s = settled[-1].end if settled else 0.0


@dataclass
class VideoSource:
    """What the video state keeps of the recording the parts are made from."""

    codec: str | None
    width: int | None
    height: int | None
    start_s: float = math.inf  # a state without it matches no recording
    rotation: int = 0  # a state written before the turn was kept has none

    @classmethod
    def of(cls, info) -> VideoSource:
        """The source as app.media.probe.probe() described it."""
        return cls(codec=info.video_codec, width=info.width, height=info.height,
                   start_s=info.start_s, rotation=info.rotation)

    def as_probe(self):
        """The recording as the media code takes it (an app.media.probe.ProbeResult)."""
        from app.media.probe import ProbeResult

        return ProbeResult(format_name="", duration_s=None, video_codec=self.codec,
                           audio_codec=None, width=self.width, height=self.height,
                           start_s=float(self.start_s), rotation=self.rotation)


@dataclass
class VideoPart:
    """One MPEG-TS part of the video, encoded from `start_s` up to `end_s`."""

    key: str
    start_s: float
    end_s: float
    frames: int
    size: int
    end_key: bool = False  # whether it ends just before a keyframe, where the next starts
    width: int | None = None  # the picture's size (a state from before it was kept: none)
    height: int | None = None


@dataclass
class EarlyVideo(_StoredState):
    """The video encoded while the candidate records: parts from zero up to `until_s`."""

    preset: str | None  # libx264's preset; parts made with another are not used
    source: VideoSource | None = None  # None until the first pass has looked
    parts: list[VideoPart] = field(default_factory=list)
    until_s: float = 0.0
    upto_seq: int = -1  # the last chunk a pass has looked at
    seconds: float = 0.0  # the passes' time, all together
    skip: str | None = None  # why no (further) passes are made, once one found out
    NAME: ClassVar[str] = "early-video.json"

    @classmethod
    def load(cls, store, answer_public_id: str) -> EarlyVideo | None:
        """The state the passes left, or None when there is none, or one this code cannot use."""
        data = _read(store, cls.key(answer_public_id))
        if data is None or data.get("version") != VIDEO_VERSION:
            return None
        try:
            found = cls(**_known(cls, data))
            found.source = VideoSource(**_known(VideoSource, found.source)) if found.source else None
            found.parts = [VideoPart(**_known(VideoPart, p)) for p in found.parts or []]
        except (TypeError, AttributeError):
            return None
        return found

    def as_json(self) -> dict:
        return {"version": VIDEO_VERSION, **asdict(self)}

    def stored_keys(self, answer_public_id: str) -> list[str]:
        """Every object of this state in storage: its parts, and itself."""
        return [p.key for p in self.parts] + [self.key(answer_public_id)]

    @property
    def picture(self) -> tuple[int | None, int | None] | None:
        """The picture size of the first part, which every later part keeps (None before it)."""
        return (self.parts[0].width, self.parts[0].height) if self.parts else None

    def usable_parts(self, info, preset: str) -> list[VideoPart]:
        """The parts that the final transcode may join: from the same recording (codec, size and
        start time as the finished file `info` has them), the same settings, and meeting end to
        start from zero. Empty when there are none or anything does not match."""
        src = self.source
        if self.skip or self.preset != preset or src is None:
            return []
        if (src.codec, src.width, src.height, src.rotation) != (
                info.video_codec, info.width, info.height, info.rotation) \
                or abs(src.start_s - info.start_s) > 1e-6:
            return []
        at = 0.0
        for p in self.parts:
            if abs(p.start_s - at) > 1e-6 or p.end_s <= p.start_s or p.frames <= 0 \
                    or (p.width, p.height) != self.picture:
                return []
            at = p.end_s
        return list(self.parts) if abs(at - self.until_s) <= 1e-6 else []


def ends_before_key(parts: list[VideoPart]) -> bool:
    """Whether the last of these parts ended just before a keyframe, where the next starts."""
    return bool(parts) and bool(parts[-1].end_key)
