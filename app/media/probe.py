"""What a media file holds, according to ffprobe."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.media import MediaError
from app.media.ffmpeg_run import run


@dataclass(frozen=True)
class ProbeResult:
    format_name: str
    duration_s: float | None
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    # The earliest timestamp in the file (ffmpeg's start_time), which ffmpeg's outputs begin at:
    # a WebM from a browser can start a few ms before or after zero.
    start_s: float = 0.0

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def probe(path: Path, timeout: float = 60) -> ProbeResult:
    """Describe `path`; anything that is not audio or video is refused with a clear reason."""
    try:
        proc = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                    "-show_streams", str(path)], timeout, "Reading the recording")
    except MediaError:
        raise MediaError("The file is not a readable audio or video recording.") from None
    info = json.loads(proc.stdout or b"{}")
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaError("The file holds no audio or video.")
    fmt = info.get("format", {})
    duration = fmt.get("duration")
    start = fmt.get("start_time")
    return ProbeResult(
        format_name=fmt.get("format_name", ""),
        duration_s=float(duration) if duration not in (None, "N/A") else None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        width=int(video["width"]) if video and video.get("width") else None,
        height=int(video["height"]) if video and video.get("height") else None,
        start_s=float(start) if start not in (None, "N/A") else 0.0,
    )


def describe(path: Path) -> ProbeResult:
    """The same description of a file we have just written ourselves, read in this process
    (PyAV) instead of by an ffprobe process, whose start-up alone takes about 0.1 s."""
    import av

    try:
        with av.open(str(path)) as c:
            video = c.streams.video[0] if c.streams.video else None
            audio = c.streams.audio[0] if c.streams.audio else None
            if video is None and audio is None:
                raise MediaError("The file holds no audio or video.")
            return ProbeResult(
                format_name=c.format.name,
                duration_s=c.duration / av.time_base if c.duration is not None else None,
                video_codec=video.codec_context.name if video else None,
                audio_codec=audio.codec_context.name if audio else None,
                width=video.codec_context.width or None if video else None,
                height=video.codec_context.height or None if video else None,
                start_s=c.start_time / av.time_base if c.start_time is not None else 0.0,
            )
    except av.error.FFmpegError:
        raise MediaError("The file is not a readable audio or video recording.") from None
