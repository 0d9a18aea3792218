"""Reading our own outputs in-process (PyAV) says what ffprobe says."""

from __future__ import annotations

import subprocess

import pytest

from app.media import MediaError
from app.media.probe import describe, probe


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


@pytest.mark.parametrize("name,args", [
    ("answer.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=3", "-f", "lavfi", "-i",
                    "sine=f=440:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    ("answer.m4a", ["-f", "lavfi", "-i", "sine=f=440:d=2.5", "-c:a", "aac"]),
])
def test_describe_agrees_with_ffprobe(tmp_path, name, args):
    out = tmp_path / name
    _ffmpeg(*args, "-movflags", "+faststart", str(out))
    assert describe(out) == probe(out)


def test_describe_refuses_what_is_not_media(tmp_path):
    bogus = tmp_path / "answer.mp4"
    bogus.write_text("not a video")
    with pytest.raises(MediaError, match="not a readable"):
        describe(bogus)


def test_the_size_is_the_picture_as_shown_and_the_turn_is_kept(upright_phone):
    """Safari on an iPhone held upright stores landscape frames and a display matrix that
    turns them to portrait: the size that counts (for 720p, the poster, the player) is the
    portrait one, and both readers say so."""
    info = probe(upright_phone)
    assert (info.width, info.height, info.rotation) == (720, 1280, 270)
    assert describe(upright_phone) == info
