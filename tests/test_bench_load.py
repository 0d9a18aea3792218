"""bench/load.py keeps working: a small run through the whole stack prints the promised figures for
each codec, loses nothing, and leaves no data and no process behind."""

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
           "cpu_limit_answers_per_min", "first_ready_after_first_finalize_s", "all_ready_s")


def test_load_bench_prints_its_figures_and_leaves_nothing_behind(tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("oneway-load-*"))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--candidates", "2",
                          "--duration", "4", "--model", "tiny.en", "--limit-min", "8"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert "stopped" not in figures, out.stderr[-3000:]
    for codec in ("vp8", "h264"):
        assert set(FIGURES) <= set(figures[codec]), codec
        run = figures[codec]
        assert run["candidates"] == 2 and run["lost"] == 0 and run["ready"] == 2, (codec, run)
        assert run["all_ready_s"] is not None and run["s3_log_errors"] == 0, (codec, run)
    assert set(Path(tempfile.gettempdir()).glob("oneway-load-*")) == before
