"""The poster and the picture checks on real H.264 videos: a face wins over a sharp pattern, a
black opening never wins, and the work does not grow with the answer's length."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import pytest

from app.media import MediaError, quality
from app.media.thumbnail import MAX_SAMPLES, _face_detector, choose_poster


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def _h264(out: Path, gop: int, *args: str) -> Path:
    _ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(out))
    return out


@pytest.fixture(scope="module")
def face_png(tmp_path_factory) -> Path:
    from tests.media import face_png

    return face_png(tmp_path_factory.mktemp("poster"))


def test_a_face_wins_over_a_sharp_pattern_and_black_never_wins(tmp_path, face_png):
    # 2 s black (a camera warming up), 2 s of a sharp test pattern, 2 s of a face; a keyframe a second.
    video = _h264(
        tmp_path / "answer.mp4", 30,
        "-f", "lavfi", "-i", "color=black:s=640x480:r=30:d=2",
        "-f", "lavfi", "-i", "testsrc2=s=640x480:r=30:d=2",
        "-loop", "1", "-framerate", "30", "-t", "2", "-i", str(face_png),
        "-filter_complex", "[2:v]scale=480:480,pad=640:480:80:0,setsar=1[f];"
                           "[0:v][1:v][f]concat=n=3:v=1:a=0[v]", "-map", "[v]")
    poster = choose_poster(video, tmp_path / "poster.jpg", 640, 480, 6.0)
    assert 4.0 <= poster.time_s < 6.0 and poster.has_face
    image = cv2.imread(str(poster.path))
    assert image.shape == (480, 640, 3) and image.mean() > 40
    check = poster.check
    assert check.samples == 6  # one per keyframe: each is looked at once
    assert check.black_fraction == pytest.approx(2 / 6) and check.face_fraction == pytest.approx(2 / 6)
    assert quality.NO_FACE in check.flags and quality.BLACK not in check.flags


def test_a_long_answer_is_judged_from_a_fixed_number_of_keyframes(tmp_path):
    video = _h264(tmp_path / "long.mp4", 30, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=60")
    poster = choose_poster(video, tmp_path / "poster.jpg", 320, 240, 60.0)
    assert poster.check.samples == MAX_SAMPLES  # not all 60 keyframes
    assert 0 < poster.time_s < 60
    assert poster.check.flags == [quality.NO_FACE]  # a moving pattern: neither black nor frozen


def test_a_video_with_one_keyframe_is_decoded_whole_instead(tmp_path, face_png):
    # A single keyframe at the start (some recorders do this): seeking finds only it.
    video = _h264(
        tmp_path / "one-key.mp4", 100000,
        "-f", "lavfi", "-i", "color=black:s=640x480:r=30:d=3",
        "-loop", "1", "-framerate", "30", "-t", "5", "-i", str(face_png),
        "-filter_complex", "[1:v]scale=480:480,pad=640:480:80:0,setsar=1[f];[0:v][f]concat=n=2:v=1:a=0[v]",
        "-map", "[v]")
    poster = choose_poster(video, tmp_path / "poster.jpg", 640, 480, 8.0)
    assert poster.check.samples >= 20
    assert poster.has_face and poster.time_s >= 3.0
    # The still photograph is the same frame after frame: frozen, which the check reports.
    assert quality.FROZEN in poster.check.flags


def test_a_file_that_is_not_a_video_gives_a_clear_reason(tmp_path):
    bogus = tmp_path / "answer.mp4"
    bogus.write_bytes(b"this is text, not a video" * 100)
    with pytest.raises(MediaError, match="could not be opened"):
        choose_poster(bogus, tmp_path / "poster.jpg", 640, 480, 5.0)


def test_an_iphone_held_upright_gets_an_upright_portrait_poster_with_its_face(tmp_path,
                                                                             upright_phone):
    """Safari's landscape frames of a face, turned to portrait by the MP4's display matrix: the
    checks look at the picture as shown, so the face is found (on the frames as stored it lies
    on its side, and the candidate would be told that no face can be seen)."""
    poster = choose_poster(upright_phone, tmp_path / "poster.jpg", 720, 1280, 4.0)
    assert poster.has_face and poster.check.face_fraction == 1.0
    assert quality.NO_FACE not in poster.check.flags
    image = cv2.imread(str(poster.path))
    assert image.shape == (1138, 640, 3)  # portrait, as wide as a landscape poster
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert len(_face_detector().detectMultiScale(gray, scaleFactor=1.2,
                                                 minNeighbors=5)) >= 1  # upright
