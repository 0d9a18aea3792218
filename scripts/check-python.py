"""Stop `make run` and `make test` early, with a clear message, on a Python older than the tested one.

Usage: python scripts/check-python.py 3.11. The interpreter it checks runs it, so it may be an old one:
keep to syntax that Python 3.0 reads.
"""

import sys


def main() -> int:
    """Exit 1 with a message below the tested version; warn (exit 0) above it."""
    wanted = sys.argv[1]
    want = tuple(int(part) for part in wanted.split("."))
    have = sys.version_info[:2]
    this = ".".join(str(part) for part in have)
    if have < want:
        sys.stderr.write(
            "Oneway needs Python " + wanted + " (the version its tests run on); " + sys.executable
            + " is Python " + this + ".\nInstall python" + wanted + " and run make with PYTHON=python"
            + wanted + " (remove .venv first if this Python made it).\n")
        return 1
    if have > want:
        sys.stderr.write(
            "Warning: " + sys.executable + " is Python " + this + "; Oneway is tested on Python " + wanted
            + " only.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
