"""The poster frame (sharp, lit, a face where one shows) and the video checks (black, frozen, no
face), from a few keyframes spread over the answer, with OpenCV.

The keyframes are reached by seeking in the MP4's index (PyAV, in this process) and decoding
one frame at each of MAX_SAMPLES points, so the work is the same for a 30 s and a 30 min answer
and no ffmpeg process is started. A video with too few keyframes for that (one at the start,
say) is decoded whole instead, taking a frame at each point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

from app.media import MediaError
from app.media.probe import quarter_turn
from app.media.quality import VideoCheck, VideoStats

MAX_WIDTH = 640  # the poster's width
# Faces, sharpness and the checks are judged at this width: 4x fewer pixels than 640. Width,
# not the long side: a phone held upright frames a face by the picture's width, and a face
# must keep enough pixels across to be found.
ANALYSIS_WIDTH = 320
# Frames looked at, spread over the answer: enough to find a good poster and to judge "no face
# for most of the answer".
MAX_SAMPLES = 24


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


def _size(width: int, height: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    w = min(max_width, width) // 2 * 2
    return w, max(2, round(height * w / width / 2) * 2)


def sample_times(duration_s: float, n: int = MAX_SAMPLES) -> list[float]:
    """`n` points spread evenly over the answer, each in the middle of its share."""
    return [duration_s * (i + 0.5) / n for i in range(n)]


def _open(video: Path):
    try:
        container = av.open(str(video))
    except av.error.FFmpegError:
        raise MediaError("The video could not be opened to choose its poster.") from None
    if not container.streams.video:
        container.close()
        raise MediaError("The recording holds no video to choose a poster from.")
    return container


Frame = tuple[float, np.ndarray]  # (seconds, BGR picture)


def _picture(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame as it is shown, `size` (width, height) as BGR: turned as its display matrix
    says, so that the photograph of an iPhone held upright (landscape frames that the MP4 turns
    to portrait) is upright here too, and its face can be found."""
    turns = quarter_turn(frame.rotation) // 90  # quarter turns counterclockwise
    width, height = size if turns % 2 == 0 else size[::-1]
    picture = frame.to_ndarray(format="bgr24", width=width, height=height)
    return np.ascontiguousarray(np.rot90(picture, turns)) if turns else picture


def _keyframes(video: Path, size: tuple[int, int], times: list[float]) -> list[Frame]:
    """The keyframe at or before each time (each keyframe once), scaled to `size`, as BGR."""
    out: list[Frame] = []
    seen: set[int] = set()
    with _open(video) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for t in times:
            container.seek(max(0, int(t / stream.time_base)), stream=stream, backward=True)
            frame = next(container.decode(stream), None)
            if frame is None or frame.pts in seen:
                continue
            seen.add(frame.pts)
            out.append((float(frame.time or 0.0), _picture(frame, size)))
    return out


def _every_frame(video: Path, size: tuple[int, int], times: list[float]) -> Iterator[Frame]:
    """Decode the whole video, taking the first frame at or after each time: for videos with too
    few keyframes to seek to. Frames arrive one at a time, so memory stays flat."""
    with _open(video) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        todo = list(times)
        for frame in container.decode(stream):
            at = float(frame.time or 0.0)
            if not todo or at + 1e-3 < todo[0]:
                continue
            while todo and todo[0] <= at + 1e-3:
                todo.pop(0)
            yield at, _picture(frame, size)
            if not todo:
                break


def _duration(video: Path) -> float:
    with _open(video) as container:
        stream = container.streams.video[0]
        if container.duration:
            return container.duration / av.time_base
        return float((stream.duration or 0) * (stream.time_base or 0))


def choose_poster(video: Path, out_path: Path, width: int, height: int,
                  duration_s: float | None = None) -> Poster:
    """Look at up to MAX_SAMPLES frames; write the best as a JPEG and return it with the video
    checks. `width` x `height` is the picture as shown (ProbeResult's)."""
    duration_s = duration_s or _duration(video)
    size, small = _size(width, height), _size(width, height, ANALYSIS_WIDTH)
    times = sample_times(duration_s) if duration_s > 0 else [0.0]
    try:
        frames = _keyframes(video, size, times)
        # A long video with keyframes only now and then: decode it whole instead.
        if len(frames) < min(5, int(duration_s)):
            frames = _every_frame(video, size, times)
        stats, best = VideoStats(), None
        for at, frame in frames:
            gray = cv2.cvtColor(cv2.resize(frame, small, interpolation=cv2.INTER_AREA),
                                cv2.COLOR_BGR2GRAY)
            score, face = frame_score(gray)
            stats.add(gray, face)
            if best is None or score > best[0]:
                best = (score, face, at, frame)
    except av.error.FFmpegError as exc:
        raise MediaError("The video could not be read to choose its poster "
                         f"({exc.strerror or exc}).") from None
    if best is None:
        raise MediaError("No frame of the video could be read.")
    if not cv2.imwrite(str(out_path), best[3], [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise MediaError("The poster image could not be written.")
    return Poster(out_path, round(best[2], 3), best[1], best[0], stats.result())
