"""What the project says about itself holds: the Python it claims is the one tested, and its licence
and NOTICE cover what it ships."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _supported() -> tuple[tuple[int, int], tuple[int, int]]:
    """requires-python as (lowest version, first version past the claim)."""
    spec = PYPROJECT["project"]["requires-python"]
    low = re.fullmatch(r">=(\d+)\.(\d+),<(\d+)\.(\d+)", spec.replace(" ", ""))
    assert low, f"requires-python should read '>=3.X,<3.Y', not {spec!r}"
    a, b, c, d = map(int, low.groups())
    return (a, b), (c, d)


def _versions(low: tuple[int, int], past: tuple[int, int]) -> set[str]:
    return {f"3.{minor}" for minor in range(low[1], past[1])} if low[0] == past[0] == 3 else set()


def test_every_python_claim_names_the_tested_versions_and_this_interpreter_is_one():
    low, past = _supported()
    claimed = _versions(low, past)
    assert claimed, "requires-python claims no Python 3 version"

    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{low[0]}{low[1]}"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PYTHON_VERSION := (\S+)$", makefile, re.M).group(1) == f"{low[0]}.{low[1]}"
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^FROM python:(\d+\.\d+)", dockerfile, re.M).group(1) in claimed

    intro = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    readme = re.findall(r"Python (3\.\d+)(?:-3\.(\d+))?", intro)
    assert readme, "the README's opening says nothing of the Python version"
    for first, last in readme:
        said = {first} if not last else {f"3.{m}" for m in range(int(first[2:]), int(last) + 1)}
        assert said == claimed, f"README says Python {first}{'-3.' + last if last else ''}"

    assert low <= sys.version_info[:2] < past, (
        f"this is Python {sys.version_info[0]}.{sys.version_info[1]}; the project claims {sorted(claimed)}")


def test_make_stops_on_an_older_python_and_only_warns_on_a_newer_one():
    script = [sys.executable, str(ROOT / "scripts" / "check-python.py")]
    older = subprocess.run([*script, "3.99"], capture_output=True, text=True, timeout=30)
    assert older.returncode == 1
    assert "Oneway needs Python 3.99" in older.stderr and "PYTHON=python3.99" in older.stderr
    newer = subprocess.run([*script, "3.0"], capture_output=True, text=True, timeout=30)
    assert newer.returncode == 0 and "tested on Python 3.0 only" in newer.stderr


def test_the_licence_is_apache_2_everywhere_it_is_stated():
    assert (ROOT / "LICENSE").read_text().split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert json.loads((ROOT / "package.json").read_text())["license"] == "Apache-2.0"
    assert json.loads((ROOT / "package-lock.json").read_text())["packages"][""]["license"] == "Apache-2.0"


def test_notice_names_every_model_package_with_its_licence():
    # The packages listed under requirements.txt's "models shipped as packages" heading.
    lines = (ROOT / "requirements.txt").read_text().split("# Speech models shipped as packages", 1)[1]
    packages = [ln.split("==")[0] for ln in lines.splitlines() if "==" in ln and not ln.startswith("#")]
    assert packages
    notice = (ROOT / "NOTICE").read_text()
    for package in [*packages, "whisperx", "opencv-python-headless", "scikit-image"]:
        entry = next((e for e in notice.split("\n* ")[1:] if package in e), None)
        assert entry, f"NOTICE does not name {package}"
        assert "Licence:" in entry


# What a test module calls that makes it need a marker (`make test-fast` leaves marked ones out).
NEEDS_MARK = {
    "browser": re.compile(r"\b(chromium|firefox|signed_in_page)\(|\bCHROMIUM\b"),
    "processes": re.compile(r"\b(rq_worker|gunicorn|tls_proxy)\(|subprocess\.Popen\("),
}


def test_modules_that_start_browsers_or_processes_carry_their_markers():
    unmarked = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        source = path.read_text()
        marks = "".join(ast.unparse(node) for node in ast.parse(source).body if isinstance(node, ast.Assign)
                        and any(getattr(t, "id", None) == "pytestmark" for t in node.targets))
        unmarked += [f"{path.name}: {mark}" for mark, uses in NEEDS_MARK.items()
                     if uses.search(source) and f"pytest.mark.{mark}" not in marks]
    assert not unmarked, "add these to the module's pytestmark: " + ", ".join(unmarked)
