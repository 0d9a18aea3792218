"""Choose a poster frame with OpenCV: a sharp, well-lit frame, with a face where one shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from app.media import MediaError

SAMPLES = 12
MAX_WIDTH = 640


@dataclass(frozen=True)
class Poster:
    path: Path
    time_s: float
    has_face: bool
    score: float


@lru_cache(maxsize=1)
def _face_detector() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def frame_score(frame: np.ndarray) -> tuple[float, bool]:
    """Higher is better: sharpness, penalised when too dark or too bright, boosted by a face."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    brightness = float(gray.mean())
    if brightness < 16:  # black frames (camera warming up) never win
        return 0.0, False
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    exposure = 1.0 - abs(brightness - 128.0) / 128.0
    faces = _face_detector().detectMultiScale(gray, scaleFactor=1.2, minNeighbors=5,
                                              minSize=(max(24, gray.shape[1] // 12),) * 2)
    has_face = len(faces) > 0
    return (sharpness ** 0.5) * (0.5 + exposure) * (3.0 if has_face else 1.0), has_face


def choose_poster(video: Path, out_path: Path, duration_s: float | None = None) -> Poster:
    """Sample frames across the video and write the best one as a JPEG."""
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise MediaError("The video could not be opened to pick a poster frame.")
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if frames <= 0 and duration_s:
            frames = int(duration_s * fps)
        # Skip the first half-second and the last moments, where cameras are often dark or moving.
        start, end = min(int(fps * 0.5), max(frames - 1, 0)), max(frames - int(fps * 0.3), 1)
        positions = np.linspace(start, max(end - 1, start), num=SAMPLES).astype(int)
        best: tuple[float, bool, float, np.ndarray] | None = None
        for pos in sorted(set(positions.tolist())):
            cap.set(cv2.CAP_PROP_POS_FRAMES, pos)
            ok, frame = cap.read()
            if not ok:
                continue
            if frame.shape[1] > MAX_WIDTH:
                scale = MAX_WIDTH / frame.shape[1]
                frame = cv2.resize(frame, (MAX_WIDTH, int(frame.shape[0] * scale)))
            score, face = frame_score(frame)
            if best is None or score > best[0]:
                best = (score, face, pos / fps, frame)
        if best is None:
            raise MediaError("No frame of the video could be read.")
    finally:
        cap.release()
    if not cv2.imwrite(str(out_path), best[3], [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise MediaError("The poster image could not be written.")
    return Poster(out_path, round(best[2], 3), best[1], best[0])
