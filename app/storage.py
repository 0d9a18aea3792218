"""Object storage: a small interface over S3 (minio client) used by views and jobs alike, and reached
through current_storage() alone."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from flask import Flask, current_app
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error

PART_SIZE = 8 * 1024 * 1024
READ_SIZE = 256 * 1024
_EXTENSION = "oneway_storage"


class StorageError(RuntimeError):
    """Any failure talking to the object store, with the key involved."""


class MissingObject(StorageError):
    """The object store holds no object under the key."""


@dataclass(frozen=True)
class PutResult:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str, sha256: str | None = None) -> PutResult: ...
    def put_file(self, key: str, path: Path, content_type: str) -> PutResult: ...
    def put_stream(self, key: str, parts: Iterable[bytes], content_type: str) -> PutResult: ...
    def get_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, path: Path) -> None: ...
    def iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]: ...
    def iter_object(self, key: str) -> Iterator[bytes]: ...
    def delete(self, *keys: str) -> None: ...
    def copy(self, src: str, dst: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def ensure_bucket(self) -> None: ...
    def bucket_ok(self) -> bool: ...


class _IterReader(io.RawIOBase):
    """A file-like view over an iterator of byte strings, hashing what it hands out."""

    def __init__(self, parts: Iterable[bytes]):
        self._parts = iter(parts)
        self._buf = b""
        self.size = 0
        self.hasher = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            part = next(self._parts, None)
            if part is None:
                break
            self._buf += part
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        self.size += len(out)
        self.hasher.update(out)
        return out


class S3Storage:
    """S3 through the minio client; works with MinIO and with `rclone serve s3`."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, region: str):
        url = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        self.bucket = bucket
        self.client = Minio(
            url.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=url.scheme == "https",
            region=region,
        )

    def _call(self, key: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (S3Error, InvalidResponseError) as exc:  # rclone answers errors as the latter
            # MinIO says NoSuchKey; rclone answers a 404 whose error names no code.
            missing = (getattr(exc, "code", None) == "NoSuchKey"
                       or (isinstance(exc, InvalidResponseError) and getattr(exc, "_code", None) == 404))
            raise (MissingObject if missing else StorageError)(
                f"object store failed on {key!r}: {exc}") from exc

    def copy(self, src: str, dst: str) -> None:
        """Copy an object within the bucket, on the server (no bytes pass through Oneway)."""
        from minio.commonconfig import CopySource

        self._call(src, self.client.copy_object, self.bucket, dst, CopySource(self.bucket, src))

    def put_bytes(self, key: str, data: bytes, content_type: str, sha256: str | None = None) -> PutResult:
        """`sha256`: the data's digest, where the caller has it already (a chunk's upload)."""
        self._call(key, self.client.put_object, self.bucket, key, io.BytesIO(data), len(data),
                   content_type=content_type)
        return PutResult(key, len(data), sha256 or hashlib.sha256(data).hexdigest())

    def put_file(self, key: str, path: Path, content_type: str) -> PutResult:
        hasher = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(READ_SIZE), b""):
                hasher.update(block)
        self._call(key, self.client.fput_object, self.bucket, key, str(path),
                   content_type=content_type, part_size=PART_SIZE)
        return PutResult(key, path.stat().st_size, hasher.hexdigest())

    def put_stream(self, key: str, parts: Iterable[bytes], content_type: str) -> PutResult:
        """Upload an unknown-length stream part by part; memory stays near PART_SIZE."""
        reader = _IterReader(parts)
        self._call(key, self.client.put_object, self.bucket, key, reader, -1,
                   content_type=content_type, part_size=PART_SIZE)
        return PutResult(key, reader.size, reader.hasher.hexdigest())

    def _open(self, key: str, **kwargs):
        return self._call(key, self.client.get_object, self.bucket, key, **kwargs)

    def get_bytes(self, key: str) -> bytes:
        resp = self._open(key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def download(self, key: str, path: Path) -> None:
        resp = self._open(key)
        try:
            with open(path, "wb") as fh:
                for block in resp.stream(READ_SIZE):
                    fh.write(block)
        finally:
            resp.close()
            resp.release_conn()

    def iter_object(self, key: str) -> Iterator[bytes]:
        """Yield a whole object in blocks."""
        resp = self._open(key)
        try:
            yield from resp.stream(READ_SIZE)
        finally:
            resp.close()
            resp.release_conn()

    def iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        """Yield exactly `length` bytes from `start`, whether or not the server honours Range.

        MinIO answers 206 with the slice; rclone answers 200, with the slice and a
        Content-Range in the versions seen here. A server that sends the whole object (200 and
        no Content-Range) has the bytes before `start` read and dropped; the stream is always
        cut after `length`.
        """
        resp = self._open(key, offset=start, length=length)
        try:
            sliced = resp.status == 206 or "Content-Range" in resp.headers
            skip = 0 if sliced else start
            remaining = length
            for block in resp.stream(READ_SIZE):
                if skip:
                    if len(block) <= skip:
                        skip -= len(block)
                        continue
                    block, skip = block[skip:], 0
                if len(block) > remaining:
                    block = block[:remaining]
                remaining -= len(block)
                if block:
                    yield block
                if remaining <= 0:
                    break
        finally:
            resp.close()
            resp.release_conn()

    def delete(self, *keys: str) -> None:
        """Remove these objects: one DeleteObjects request per 1,000 keys (an answer's chunks go
        in one request, not one each); a key that is not there is not an error."""
        if keys:
            self._remove(list(keys), f"{keys[0]!r} and {len(keys) - 1} more")

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix` (a folder: "answers/<id>/"); return
        how many there were. Nothing there is not an error, so a second call is a no-op."""
        check_prefix(prefix)
        try:
            names = [o.object_name for o in
                     self.client.list_objects(self.bucket, prefix=prefix, recursive=True)]
        except (S3Error, InvalidResponseError) as exc:
            raise StorageError(f"could not list {prefix!r} to delete it: {exc}") from exc
        if names:
            self._remove(names, f"under {prefix!r}")
        return len(names)

    def _remove(self, keys: list[str], what: str) -> None:
        try:
            # What DeleteObjects could not remove comes back, one error per key.
            errors = list(self.client.remove_objects(self.bucket, (DeleteObject(k) for k in keys)))
        except (S3Error, InvalidResponseError) as exc:
            raise StorageError(f"could not delete {what}: {exc}") from exc
        failed = [e for e in errors if e.code != "NoSuchKey"]
        if failed:
            raise StorageError(f"could not delete {len(failed)} object(s) {what}: "
                               f"{failed[0].name}: {failed[0].message}")

    def size(self, key: str) -> int:
        """The object's size in bytes, from a HEAD request; StorageError if it is not there."""
        return self._call(key, self.client.stat_object, self.bucket, key).size

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except (S3Error, InvalidResponseError):
            return False

    def ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket)

    def bucket_ok(self) -> bool:
        return bool(self.client.bucket_exists(self.bucket))


def init_app(app: Flask) -> None:
    """Give the app the storage its settings describe: one client per process, shared by requests."""
    app.extensions[_EXTENSION] = storage_from_config(app.config)


def current_storage() -> Storage:
    """The storage of the app in context: how views, services, jobs and commands all reach it."""
    return current_app.extensions[_EXTENSION]


def storage_from_config(config) -> S3Storage:
    """Build the storage the settings describe."""
    return S3Storage(
        config["S3_ENDPOINT"],
        config["S3_ACCESS_KEY"],
        config["S3_SECRET_KEY"],
        config["S3_BUCKET"],
        config["S3_REGION"],
    )


def answer_key(answer_public_id: str, name: str) -> str:
    """Object keys come from ids only, never from anything a client sent."""
    return f"answers/{answer_public_id}/{name}"


def chunk_key(answer_public_id: str, seq: int, sha256: str) -> str:
    """Where chunk `seq` of an answer is stored with these contents (see chunk_in)."""
    return chunk_in(chunks_prefix(answer_public_id), seq, sha256)


def chunk_in(folder: str, seq: int, sha256: str) -> str:
    """Where chunk `seq` of a recording (an answer's, a prompt's) is stored in its chunks' `folder`
    with these contents: named by its checksum too, so that two different contents sent under
    one number at the same moment (only a misbehaving client does that) never overwrite each
    other; what the database recorded of the chunk names the one that counts, and the other goes
    with the chunks' folder."""
    return f"{folder}{seq:06d}-{sha256[:16]}"


def chunks_prefix(answer_public_id: str) -> str:
    """The folder of an answer's chunks while it is recorded, until they are joined."""
    return answer_key(answer_public_id, "chunks/")


def read_chunk(store: Storage, folder: str, seq: int, sha256: str) -> bytes:
    """Chunk `seq` of a recording, as recorded with checksum `sha256`, from its chunks' `folder`."""
    try:
        return store.get_bytes(chunk_in(folder, seq, sha256))
    except MissingObject:
        # A recording made across the upgrade of 2026-12-07 (eighth session) has its first
        # chunks under their number alone, as they were stored then.
        return store.get_bytes(f"{folder}{seq:06d}")


def answer_prefix(answer_public_id: str) -> str:
    """The folder holding everything stored for one answer (see answer_key)."""
    return answer_key(answer_public_id, "")


def candidate_prefix(candidate_public_id: str) -> str:
    """The candidate package's folder (jobs/package.py), one per candidate."""
    return f"candidates/{candidate_public_id}/"


def prompt_key(media_public_id: str, name: str) -> str:
    """A hiring manager's prompt video (app.models.PromptMedia): its own folder, never an answer's."""
    return f"prompts/{media_public_id}/{name}"


def prompt_prefix(media_public_id: str) -> str:
    return prompt_key(media_public_id, "")


_PREFIX_RE = re.compile(r"(answers|candidates|prompts)/[A-Za-z0-9_-]+/(chunks/)?")


def check_prefix(prefix: str) -> None:
    """Refuse any prefix but one answer's, candidate's or prompt's folder (or the chunks' folder
    in one of them): a wrong one ("", "answers/", "answers/ab" that would also match
    "answers/abc...") would delete other people's data."""
    if not _PREFIX_RE.fullmatch(prefix or ""):
        raise ValueError(f"refusing to delete under {prefix!r}: not one answer's, candidate's or "
                         "prompt's folder")
