"""bench/fairness.py keeps working: a small run prints the promised figures, and the candidate
ZIP's peak memory does not follow the media's size."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # its own redis-server and S3 server


def test_fairness_bench_prints_its_figures(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "fairness.py"), "--candidates", "300",
                          "--rounds", "3", "--answers", "3", "--seconds", "20"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    for key in ("report_p50_ms", "report_p95_ms", "report_queries", "organisation_report_p95_ms",
                "graders_p95_ms", "candidate_zip_peak_mb"):
        assert key in figures, key
    assert figures["candidates"] == 300
    full, tenth = figures["candidate_zip"], figures["candidate_zip_tenth_size"]
    assert full["zip_bytes"] > 2 * 3 * full["media_bytes_each"] and full["media_bytes_each"] == 6_250_000
    assert not figures["zip_peak_grows_with_size"], (full, tenth)
