"""bench/chunk_cost.py keeps working: a small run prints the web tier's cost a request and a piece,
with every chunk acknowledged, and leaves no data and no process behind."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.processes, pytest.mark.slow]  # its own stack


def test_chunk_cost_bench_prints_its_figures_and_leaves_nothing_behind(tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("oneway-chunk-cost-*"))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "chunk_cost.py"), "--pieces", "1,3",
                          "--candidates", "2", "--seconds", "6", "--rounds", "1"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    runs = figures["runs"]
    assert [(r["pieces_a_chunk"], r["requests"]) for r in runs] == [(1, 12), (3, 4)]
    assert all(not r["errors"] and r["web_cpu_s"] > 0 for r in runs), runs
    assert runs[1]["chunk_bytes"] == 3 * runs[0]["chunk_bytes"]
    assert {"web_cpu_ms_a_request_fixed", "web_cpu_ms_a_piece_bytes"} <= set(figures)
    assert set(Path(tempfile.gettempdir()).glob("oneway-chunk-cost-*")) == before
