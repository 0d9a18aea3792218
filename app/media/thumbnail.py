"""One pass over a video's keyframes with OpenCV: the poster frame (sharp, lit, a face where one
shows) and the video checks (black, frozen, no face)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from app.media import MediaError
from app.media.quality import VideoCheck, VideoStats

MAX_WIDTH = 640
# Frames looked at, spread over the answer: enough to find a good poster and to judge "no face
# for most of the answer", without scaling and scanning every keyframe of a long answer.
MAX_SAMPLES = 24
_PTS = re.compile(rb"pts_time:\s*([0-9.]+)")


@dataclass(frozen=True)
class Poster:
    path: Path
    time_s: float
    has_face: bool
    score: float
    check: VideoCheck


@lru_cache(maxsize=1)
def _face_detector() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def frame_score(gray: np.ndarray) -> tuple[float, bool]:
    """Higher is better: sharpness, penalised when too dark or too bright, boosted by a face."""
    brightness = float(gray.mean())
    faces = _face_detector().detectMultiScale(gray, scaleFactor=1.2, minNeighbors=5,
                                              minSize=(max(24, gray.shape[1] // 12),) * 2)
    has_face = len(faces) > 0
    if brightness < 16:  # black frames (camera warming up) never win
        return 0.0, has_face
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    exposure = 1.0 - abs(brightness - 128.0) / 128.0
    return (sharpness ** 0.5) * (0.5 + exposure) * (3.0 if has_face else 1.0), has_face


def _size(width: int, height: int) -> tuple[int, int]:
    w = min(MAX_WIDTH, width) // 2 * 2
    return w, max(2, round(height * w / width / 2) * 2)


def _frames(video: Path, width: int, height: int, every_frame_at_fps: float | None,
            timeout: float, times: list[float], step_s: float = 0.0) -> Iterator[tuple[int, np.ndarray]]:
    """Decode keyframes only (cheap: browsers and our encoder put one every second), or, as a
    fallback, one frame per second; frames arrive one at a time, so memory stays flat.
    Keyframes closer than `step_s` to the last one taken are passed over before scaling.
    Each frame's time is appended to `times` once ffmpeg has finished."""
    w, h = _size(width, height)
    pick = f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{step_s:.3f})'," if step_s else ""
    vf = f"{pick}scale={w}:{h},showinfo" if every_frame_at_fps is None else \
        f"fps={every_frame_at_fps},scale={w}:{h},showinfo"
    pre = ["-skip_frame", "nokey"] if every_frame_at_fps is None else []
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "info", *pre, "-i", str(video), "-an",
           "-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
    size = w * h * 3
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        try:
            index = 0
            while True:
                buf = proc.stdout.read(size)
                if len(buf) < size:
                    break
                yield index, np.frombuffer(buf, np.uint8).reshape(h, w, 3)
                index += 1
            proc.wait(timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        times.extend(float(t) for t in _PTS.findall(err.read()))


def choose_poster(video: Path, out_path: Path, width: int, height: int,
                  duration_s: float | None = None, timeout: float = 600) -> Poster:
    """Scan the video once; write the best frame as a JPEG and return it with the video checks."""
    for fallback in (None, 1.0):
        stats, times = VideoStats(), []
        best: tuple[float, bool, int, np.ndarray] | None = None
        step = (duration_s or 0) / MAX_SAMPLES if fallback is None else 0.0
        fps = fallback if fallback is None or not duration_s else min(fallback, MAX_SAMPLES / duration_s)
        for index, frame in _frames(video, width, height, fps, timeout, times, step):
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            score, face = frame_score(gray)
            stats.add(gray, face)
            if best is None or score > best[0]:
                best = (score, face, index, frame.copy())
        # Too few keyframes to judge a long video: look at one frame a second instead.
        if stats.samples >= min(5, int(duration_s or 0)) or fallback is not None:
            break
    if best is None:
        raise MediaError("No frame of the video could be read.")
    at = times[best[2]] if best[2] < len(times) else 0.0
    if not cv2.imwrite(str(out_path), best[3], [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise MediaError("The poster image could not be written.")
    return Poster(out_path, round(at, 3), best[1], best[0], stats.result())
