"""bench/load.py and bench/chunk_cost.py keep working: a small run of each through the stack prints
the promised figures, loses nothing, and leaves no data and no process behind."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.processes, pytest.mark.slow]  # its own stack; the real pipeline

FIGURES = ("candidates", "chunk_ack_p95_ms", "upload_lag_p50_s", "finalize_p95_ms", "lost", "answers_per_min",
           "cpu_limit_answers_per_min", "first_ready_after_first_finalize_s", "all_ready_s",
           "receipt_after_stop_p95_s", "finalized_with_last_chunk")


def _bench(tmp_path, script: str, leftovers: str, *args: str) -> dict:
    """Run a bench script; its one JSON object, once it has removed everything it made."""
    before = set(Path(tempfile.gettempdir()).glob(leftovers))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert set(Path(tempfile.gettempdir()).glob(leftovers)) == before
    figures = json.loads(out.stdout)
    assert "stopped" not in figures, out.stderr[-3000:]
    return figures


def test_load_bench_prints_its_figures_and_leaves_nothing_behind(tmp_path):
    figures = _bench(tmp_path, "load.py", "oneway-load-*", "--candidates", "2", "--duration", "4",
                     "--model", "tiny.en", "--limit-min", "8")
    assert figures["finish_after_s"] == [2, 6]  # the candidates' click on Finish, by default
    for codec in ("vp8", "h264"):
        assert set(FIGURES) <= set(figures[codec]), codec
        run = figures[codec]
        assert run["candidates"] == 2 and run["lost"] == 0 and run["ready"] == 2, (codec, run)
        assert run["all_ready_s"] is not None and run["s3_log_errors"] == 0, (codec, run)
        # Each recorder's last chunk carried the finalize, as the browser's does.
        assert run["finalized_with_last_chunk"] == 2 and run["receipt_after_stop_p95_s"] > 0, (codec, run)


def test_load_bench_can_measure_the_web_tier_alone(tmp_path):
    """--uploads-only: no worker, the run ends with the uploads; gunicorn's options are passed on;
    --keep-alive: each recorder's chunks on one connection kept open."""
    figures = _bench(tmp_path, "load.py", "oneway-load-*", "--candidates", "3", "--duration", "3",
                     "--codecs", "vp8", "--uploads-only", "--gunicorn-args", "--worker-connections 8",
                     "--keep-alive", "--finish-after", "0,0", "--limit-min", "4")
    run = figures["vp8"]
    assert figures["uploads_only"] and figures["keep_alive"] and figures["finish_after_s"] == [0, 0]
    assert figures["gunicorn_args"] == "--worker-connections 8"
    assert run["lost"] == 0 and run["finalized_with_last_chunk"] == 3 and run["chunks_sent"] == 9, run
    assert run["ready"] == 0 and run["worker_cpu_s"] == 0 and run["web_tracebacks"]["count"] == 0, run
    # Where the cores went while the recorders uploaded, and when the slow acknowledgements came.
    cores = run["cores_during_uploads"]
    assert cores["web"] > 0 and cores["recorders"] > 0 and cores["workers"] == 0, cores
    assert run["slow_acks"]["over_ms"] == 1000 and run["slow_acks"]["count"] >= 0, run["slow_acks"]


def test_chunk_cost_bench_prints_a_requests_cost_and_a_pieces(tmp_path):
    figures = _bench(tmp_path, "chunk_cost.py", "oneway-chunk-cost-*", "--pieces", "1,3", "--candidates", "2",
                     "--seconds", "6", "--rounds", "1", "--closes", "3")
    runs = figures["runs"]
    assert [(r["pieces_a_chunk"], r["requests"]) for r in runs] == [(1, 12), (3, 4)]
    assert all(not r["errors"] and r["web_cpu_s"] > 0 for r in runs), runs
    # Each round's takes were all finalized, and what that cost the web tier was measured: the
    # kernel counts CPU in 10 ms ticks, so two finalizes of a few ms each may read 0 on a busy
    # machine (it did once in a whole make test).
    assert all(r["finalizes"] == 2 and r["web_cpu_ms_a_finalize"] >= 0 for r in runs), runs
    assert runs[1]["chunk_bytes"] == 3 * runs[0]["chunk_bytes"]
    assert {"web_cpu_ms_a_request_fixed", "web_cpu_ms_a_piece_bytes"} <= set(figures)
    # Takes ended both ways: the last chunk then a finalize, and the last chunk carrying it.
    closes = figures["closes"]
    assert [(c["way"], c["takes"], c["errors"]) for c in closes] == [
        ("chunk, then finalize", 3, []), ("with the last chunk", 3, [])], closes
    assert all(c["web_cpu_ms_a_close"] > 0 and c["close_max_ms"] > 0 and c["web_cpu_ms_a_finish"] > 0
               for c in closes), closes
