"""bench/review.py keeps working: a small run prints the promised figures."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_review_bench_prints_its_figures_and_a_flat_query_count(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "review.py"), "--candidates", "300",
                          "--rounds", "3"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    for key in ("candidates", "scores", "queue_p50_ms", "queue_p95_ms", "queries",
                "queries_at_100_candidates", "landing_p50_ms", "landing_zh_over_en"):
        assert key in figures, key
    assert (figures["candidates"], figures["scores"]) == (300, 3000)
    assert figures["queries"] == figures["queries_at_100_candidates"]
    assert set(figures["landing_p50_ms"]) == {"en", "zh_Hans"} and figures["landing_zh_over_en"] > 0
