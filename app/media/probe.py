"""What a media file holds, according to ffprobe; and how a candidate's upload may be read at all."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from app.media import MediaError
from app.media.ffmpeg_run import run

# The containers a browser records in, by the ffmpeg demuxer that reads each, with their names
# for people. An upload is read only as the container its take declared: left to guess, ffmpeg
# takes a text file that begins "#EXTM3U" for an HLS playlist and reads every file (or address)
# it names into the answer. Only local files may be opened at all, as a second fence.
CONTAINERS = {"matroska": "WebM", "mov": "MP4", "ogg": "Ogg"}
PROTOCOLS = "file"


def input_options(container: str | None) -> dict[str, str]:
    """ffmpeg's options that read the next input as `container` from a local file, and as
    nothing else; a container we do not read is refused."""
    if container not in CONTAINERS:
        raise MediaError(f"Recordings in the {container or 'undeclared'} format are not accepted.")
    return {"f": container, "protocol_whitelist": PROTOCOLS}


def input_args(container: str | None) -> list[str]:
    """input_options as command-line arguments, to go just before the input's -i."""
    return [arg for k, v in input_options(container).items() for arg in (f"-{k}", v)]


def open_input(path: Path, container: str | None):
    """PyAV's reader of `path` as `container` from a local file, as input_args reads it."""
    import av

    options = input_options(container)
    return av.open(str(path), format=options.pop("f"), options=options)


@dataclass(frozen=True)
class ProbeResult:
    format_name: str
    duration_s: float | None
    video_codec: str | None
    audio_codec: str | None
    # The picture as it is shown: a phone held upright records portrait, either as portrait
    # frames (Chrome on Android) or as landscape frames with a display matrix that turns them
    # (Safari on iOS), and both are width < height here.
    width: int | None
    height: int | None
    # The earliest timestamp in the file (ffmpeg's start_time), which ffmpeg's outputs begin at:
    # a WebM from a browser can start a few ms before or after zero.
    start_s: float = 0.0
    # How far the display matrix turns the stored frames counterclockwise to show them (0, 90,
    # 180 or 270; ffprobe's and PyAV's sign). ffmpeg turns them when it encodes them again
    # (autorotate) and keeps the matrix when it copies them; a player turns them either way.
    rotation: int = 0

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def probe(path: Path, *, container: str | None, timeout: float = 60) -> ProbeResult:
    """Describe `path`, read as `container` (input_args); anything else, and anything that is not
    audio or video, is refused with a clear reason."""
    args = input_args(container)
    try:
        proc = run(["ffprobe", "-v", "error", *args, "-print_format", "json", "-show_format",
                    "-show_streams", str(path)], timeout, "Reading the recording")
    except MediaError:
        raise MediaError(f"The recording is not a readable {CONTAINERS[container]} file, though "
                         "the browser declared it as one.") from None
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
    rotation = _rotation(video) if video else 0
    width = int(video["width"]) if video and video.get("width") else None
    height = int(video["height"]) if video and video.get("height") else None
    return ProbeResult(
        format_name=fmt.get("format_name", ""),
        duration_s=float(duration) if duration not in (None, "N/A") else None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        **_shown(width, height, rotation),
        start_s=float(start) if start not in (None, "N/A") else 0.0,
    )


# A sound or picture packet as ffprobe lists it (-of compact): its time (pts, else dts) and length.
_PACKET = re.compile(rb"^codec_type=(?:audio|video)\|pts_time=([^|\n]*)\|dts_time=([^|\n]*)"
                     rb"\|duration_time=([^|\n]*)", re.MULTILINE)


def play_length(path: Path, *, container: str | None, timeout: float = 600) -> float:
    """How long `path` plays: from its first sound or picture packet's time to its last one's
    end, read without decoding (a browser's WebM has no duration in its header, and a header can
    say anything). It costs little beside the transcode, mostly ffprobe's time, and grows with
    the file (bench/README.md, "Figures behind the defaults").

    Packets without a time are skipped (ffmpeg gives them one when it converts: the transcode
    checks its output's length too). Should ffprobe ever list the fields otherwise, no packet
    matches and the recording is refused, never passed unmeasured."""
    proc = run(["ffprobe", "-v", "error", *input_args(container), "-show_entries",
                "packet=codec_type,pts_time,dts_time,duration_time", "-of", "compact=p=0",
                str(path)], timeout, "Measuring the recording")
    first = last = None
    for pts, dts, duration in _PACKET.findall(proc.stdout):
        at = pts if pts != b"N/A" else dts
        if at == b"N/A":
            continue
        at = float(at)
        end = at + (float(duration) if duration != b"N/A" else 0.0)
        first = at if first is None else min(first, at)
        last = end if last is None else max(last, end)
    if first is None:
        raise MediaError("The recording holds no audio or video.")
    return last - first


def _rotation(stream: dict) -> int:
    """The turn of a stream's display matrix as ffprobe prints it, as 0, 90, 180 or 270."""
    for side in stream.get("side_data_list") or []:
        if side.get("side_data_type") == "Display Matrix" and side.get("rotation") is not None:
            return quarter_turn(float(side["rotation"]))
    return 0


def quarter_turn(degrees: float | None) -> int:
    """A turn in degrees (NaN or None: none) as the nearest of 0, 90, 180 and 270."""
    if degrees is None or degrees != degrees:
        return 0
    return round(degrees / 90) % 4 * 90


def _shown(width: int | None, height: int | None, rotation: int) -> dict:
    """The size as shown, for frames stored at width x height and turned by `rotation`."""
    if rotation in (90, 270):
        width, height = height, width
    return {"width": width, "height": height, "rotation": rotation}


def describe(path: Path) -> ProbeResult:
    """The same description of a file we have just written ourselves, read in this process
    (PyAV) instead of by an ffprobe process, whose start-up alone costs more than this."""
    import av

    try:
        with av.open(str(path)) as c:
            video = c.streams.video[0] if c.streams.video else None
            audio = c.streams.audio[0] if c.streams.audio else None
            if video is None and audio is None:
                raise MediaError("The file holds no audio or video.")
            size = {"width": None, "height": None}
            if video is not None:
                # PyAV shows the display matrix on decoded frames only: the first says it.
                first = next(c.decode(video), None)
                size = _shown(video.codec_context.width or None, video.codec_context.height or None,
                              quarter_turn(first.rotation) if first is not None else 0)
            return ProbeResult(
                format_name=c.format.name,
                duration_s=c.duration / av.time_base if c.duration is not None else None,
                video_codec=video.codec_context.name if video else None,
                audio_codec=audio.codec_context.name if audio else None,
                **size,
                start_s=c.start_time / av.time_base if c.start_time is not None else 0.0,
            )
    except av.error.FFmpegError:
        raise MediaError("The file is not a readable audio or video recording.") from None
