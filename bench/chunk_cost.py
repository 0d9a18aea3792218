"""What one chunk PUT costs the web tier (issue 22): the CPU seconds gunicorn (all its processes)
and the S3 server spend on the same bytes sent as chunks of one piece (a second of the
recorder's video, 146 kB) and of several pieces joined, as the recorder joins them while a chunk
is on its way (app/static/js/uploader.js). A cost a request and a cost a byte come out of it;
then every take is finalized at once, and the web CPU a finalize costs is measured too. Last,
`--closes` takes end at once the two ways a recorder can end them: its last chunk and then a
finalize of its own, or the last chunk carrying the finalize (X-Recording-* headers, as the
recorder sends it since 2026-12-07): the web CPU and the time to the receipt of each way, and
then of the candidates' Finish, all at once.

The stack is bench/load.py's (`make run`'s parts on free ports) without the worker, so nothing
else takes the CPU; a few candidates send their chunks back to back, unpaced. Each size is run
`--rounds` times, alternating, on fresh takes. Prints ONE JSON object on stdout; logs go to
stderr; everything is removed at the end.

    .venv/bin/python bench/chunk_cost.py [--pieces 1,10] [--candidates 8] [--seconds 60] [--rounds 2]
        [--closes 64]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._media import log, process_cpu_s, tree_cpu_s  # noqa: E402
from bench.load import Stack, start_take  # noqa: E402  (sets make run's settings before the app is imported)
from tests.server import Browser  # noqa: E402

PIECE_BYTES = 146_000  # a second of bench/load.py's 640x480 VP8


def _send(stack: Stack, token: str, chunk: bytes, count: int, errors: list, takes: list) -> None:
    """One candidate: a take, then `count` chunks back to back; the take's browser and URL go to
    `takes` for the finalize."""
    try:
        browser = Browser(stack.base)
        url, _take = start_take(browser, token, "video/webm")
        sha256 = hashlib.sha256(chunk).hexdigest()
        for seq in range(count):
            status, _h, body = browser.request("PUT", f"{url}/chunks/{seq}", chunk, {
                "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token,
                "X-Chunk-SHA256": sha256})
            if status != 200:
                raise RuntimeError(f"chunk {seq}: {status} {body[:200]!r}")
        takes.append((browser, url))
    except Exception as exc:  # reported in the figures, never hidden
        errors.append(f"{type(exc).__name__}: {exc}")


def _finalize(browser: Browser, url: str, count: int, sha256: str, errors: list, took: list) -> None:
    began = time.monotonic()
    status, _h, body = browser.send_json("POST", f"{url}/finalize", {"chunks": count, "sha256": sha256})
    took.append(time.monotonic() - began)
    if status != 200:
        errors.append(f"finalize: {status} {body[:200]!r}")


def _close(browser: Browser, url: str, chunk: bytes, with_chunk: bool, errors: list, took: list) -> None:
    """End a take of one chunk: the chunk carrying the finalize, or the chunk then a finalize."""
    sha256 = hashlib.sha256(chunk).hexdigest()
    closing = {"X-Recording-Chunks": "1", "X-Recording-SHA256": sha256} if with_chunk else {}
    began = time.monotonic()
    status, _h, body = browser.request("PUT", f"{url}/chunks/0", chunk, {
        "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token,
        "X-Chunk-SHA256": sha256, **closing})
    if status == 200 and not json.loads(body).get("finalized"):
        status, _h, body = browser.send_json("POST", f"{url}/finalize", {"chunks": 1, "sha256": sha256})
    took.append(time.monotonic() - began)
    if status != 200 or not json.loads(body).get("finalized"):  # a refusal is JSON too, without it
        errors.append(f"close: {status} {body[:200]!r}")


def _finish(browser: Browser, token: str, errors: list, took: list) -> None:
    began = time.monotonic()
    status, _h, body = browser.send_json("POST", f"/i/{token}/finish", {})
    took.append(time.monotonic() - began)
    if status != 200:
        errors.append(f"finish: {status} {body[:200]!r}")


def _all_at_once(stack: Stack, send, calls: list[tuple]) -> tuple[float, list[float]]:
    """Run `send(*call, took)` for every call at once, each in its thread: the web tier's CPU
    seconds over them all, and the seconds each took (appended to `took`), sorted."""
    took: list[float] = []
    web0 = tree_cpu_s(stack.web.pid)
    threads = [threading.Thread(target=send, args=(*call, took)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tree_cpu_s(stack.web.pid) - web0, sorted(took)


def measure_closing(stack: Stack, takes: int, with_chunk: bool) -> dict:
    """`takes` takes, started beforehand, each ended at once by one chunk and its finalize."""
    tokens = stack.seed(takes, 60)
    chunk = os.urandom(PIECE_BYTES)
    started = []
    for token in tokens:
        browser = Browser(stack.base)
        started.append((browser, start_take(browser, token, "video/webm")[0], token))
    errors: list[str] = []
    web, took = _all_at_once(stack, _close, [(b, url, chunk, with_chunk, errors) for b, url, _t in started])
    # Then every candidate finishes the interview at once (its one question answered).
    finish_web, finish_took = _all_at_once(stack, _finish, [(b, token, errors) for b, _u, token in started])
    return {"way": "with the last chunk" if with_chunk else "chunk, then finalize", "takes": len(took),
            "web_cpu_ms_a_close": round(web / max(1, len(took)) * 1000, 2),
            "close_p50_ms": round(statistics.median(took) * 1000, 1) if took else None,
            "close_max_ms": round(took[-1] * 1000, 1) if took else None,
            "web_cpu_ms_a_finish": round(finish_web / max(1, len(finish_took)) * 1000, 2),
            "finish_max_ms": round(finish_took[-1] * 1000, 1) if finish_took else None, "errors": errors[:3]}


def measure(stack: Stack, pieces: int, candidates: int, seconds: int) -> dict:
    tokens = stack.seed(candidates, seconds)
    chunk = os.urandom(PIECE_BYTES) * pieces
    count = max(1, seconds // pieces)
    errors: list[str] = []
    takes: list = []
    web0, s30, began = tree_cpu_s(stack.web.pid), process_cpu_s(stack.s3.pid) or 0.0, time.monotonic()
    threads = [threading.Thread(target=_send, args=(stack, t, chunk, count, errors, takes)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    web, s3 = tree_cpu_s(stack.web.pid) - web0, (process_cpu_s(stack.s3.pid) or 0.0) - s30
    requests = count * candidates
    out = {"pieces_a_chunk": pieces, "chunk_bytes": len(chunk), "requests": requests,
           "wall_s": round(wall, 2), "web_cpu_s": round(web, 2), "s3_cpu_s": round(s3, 2),
           "web_cpu_ms_a_request": round(web / requests * 1000, 2),
           "web_cpu_ms_a_piece": round(web / (requests * pieces) * 1000, 2),
           "s3_cpu_ms_a_piece": round(s3 / (requests * pieces) * 1000, 2)}
    # Then every take is finalized at once, as when candidates who started together finish.
    whole = hashlib.sha256(chunk * count).hexdigest()
    web, took = _all_at_once(stack, _finalize, [(b, url, count, whole, errors) for b, url in takes])
    out.update({"finalizes": len(took), "web_cpu_ms_a_finalize": round(web / max(1, len(took)) * 1000, 2),
                "finalize_max_ms": round(took[-1] * 1000, 1) if took else None, "errors": errors[:3]})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pieces", default="1,10", help="pieces a chunk, one size per value")
    p.add_argument("--candidates", type=int, default=8)
    p.add_argument("--seconds", type=int, default=60, help="pieces each candidate sends in all")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--closes", type=int, default=64, help="takes ended at once, each way (0: none)")
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.pieces.split(",") if x]
    folder = Path(tempfile.mkdtemp(prefix="oneway-chunk-cost-"))
    stack = Stack(folder, "tiny.en", worker=False)
    runs, closes = [], []
    try:
        stack.start()
        for _ in range(args.rounds):
            for pieces in sizes:
                runs.append(measure(stack, pieces, args.candidates, args.seconds))
                log(json.dumps(runs[-1]))
            for with_chunk in (False, True) if args.closes else ():
                closes.append(measure_closing(stack, args.closes, with_chunk))
                log(json.dumps(closes[-1]))
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)
    out = {"cores": os.cpu_count(), "load_average": os.getloadavg(), "piece_bytes": PIECE_BYTES,
           "candidates": args.candidates, "runs": runs, "closes": closes}
    # A request's fixed cost and a piece's, from the first two sizes' medians (cost = a + b * pieces).
    if len(sizes) >= 2:
        def median(pieces):
            return statistics.median(r["web_cpu_ms_a_request"] for r in runs if r["pieces_a_chunk"] == pieces)
        (k1, c1), (k2, c2) = [(k, median(k)) for k in sizes[:2]]
        per_piece = (c2 - c1) / (k2 - k1)
        out["web_cpu_ms_a_piece_bytes"] = round(per_piece, 2)
        out["web_cpu_ms_a_request_fixed"] = round(c1 - per_piece * k1, 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
