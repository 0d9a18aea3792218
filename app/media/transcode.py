"""Turn a browser recording into a seekable MP4 (H.264/AAC, +faststart, at most 720p) and a 16 kHz WAV.

A recording whose video must be re-encoded (VP8/VP9 from Firefox, or more than 720p) can also be
done in parts while it is still being recorded (`encode_part`), and joined at the end with the
rest (`transcode_from_parts`), so that the wait after the last chunk does not grow with the
answer's length. Both ways give the same frames at the same times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from app.media.ffmpeg_run import run
from app.media.probe import ProbeResult, describe, input_args, input_options, open_input, probe

SHORT_SIDE = 720  # "at most 720p": 1280x720, or 720x1280 from a phone held upright
# Re-encoding (VP8/VP9 from Firefox) is the slow path: veryfast takes much longer than ultrafast,
# for a visibly better picture at the same bitrate cap, which is why it is mostly done while the
# candidate records (bench/README.md, "Figures behind the defaults"). The cap keeps files near a
# browser's bitrate.
PRESET = "veryfast"
MAXRATE, BUFSIZE = "2500k", "5000k"
# Parts encoded while recording are MPEG-TS, which keeps every frame's own timestamp, so parts
# joined byte for byte are one stream on the recording's timeline. They are written this many
# seconds late, so that no timestamp is negative (B-frames are decoded before the first frame
# is shown), and moved back when joined.
PART_TS_OFFSET = 10.0
# ffmpeg's default AAC coder ("twoloop") spends most of a copied answer's transcode; "fast"
# takes far less (bench/README.md, "Figures behind the defaults") and is plenty for speech at
# 128 kb/s.
AAC_CODER = "fast"
AAC_ARGS = {"c:a": "aac", "aac_coder": AAC_CODER, "b:a": "128k"}
WAV_ARGS = {"ac": 1, "ar": 16000, "c:a": "pcm_s16le"}
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y"]
# A part that ends at a keyframe of the recording ends this far before it: after the frame
# before it, however close (browsers' frames are at least a few ms apart), so that the next part
# starts decoding at that very keyframe instead of decoding again what the last one did.
KEY_CUT_S = 0.0005


@dataclass(frozen=True)
class TranscodeResult:
    media_path: Path
    media_content_type: str
    wav_path: Path | None
    duration_s: float
    width: int | None
    height: int | None
    video_copied: bool


def _scale(src: ProbeResult) -> tuple[int, int] | None:
    """ffmpeg's scale (width, height; -2: keep the shape) that brings a picture above 720p down
    to it, or None: the short side to SHORT_SIDE, so a phone held upright keeps its portrait
    720x1280 and 1080x1920 becomes that. ffmpeg turns frames by their display matrix before
    the filters see them, so the size as shown (ProbeResult's) is the one that counts."""
    if src.width is None or src.height is None or min(src.width, src.height) <= SHORT_SIDE:
        return None
    return (-2, SHORT_SIDE) if src.width >= src.height else (SHORT_SIDE, -2)


def _sound_args(info: ProbeResult) -> dict[str, str]:
    """The MP4's sound: AAC already (Safari's MP4, Chrome's) is copied as it is, which costs
    nothing and loses nothing; anything else (Opus from a WebM) is encoded to AAC."""
    return {"c:a": "copy"} if info.audio_codec == "aac" else AAC_ARGS


def needs_reencode(info: ProbeResult) -> bool:
    """Whether the video must be encoded again (anything but H.264 of at most 720p)."""
    return info.has_video and not (info.video_codec == "h264" and _scale(info) is None)


def _x264_args(preset: str) -> dict[str, str | int]:
    # A keyframe every second (counted from each part's first frame): quick seeking, and a cheap
    # keyframe-only scan for the poster. Variable frame rate: a browser's frames keep their
    # times, none is duplicated or dropped to fit a fixed rate. Those times are uneven (Firefox:
    # 4 to 66 ms apart at "30 fps"); in the encoder's default time base, 1/frame rate, each is
    # pushed onto that grid, up to a frame (33 ms) off, and differently for a part than for the
    # whole. Milliseconds, WebM's own unit, keep every frame where the browser put it (the
    # sound keeps its own time base: ":v").
    return {"c:v": "libx264", "preset": preset, "crf": 23, "maxrate": MAXRATE,
            "bufsize": BUFSIZE, "pix_fmt": "yuv420p", "fps_mode": "vfr",
            "enc_time_base:v": "1:1000", "force_key_frames": "expr:gte(t,n_forced*1)"}


def _flat(args: dict) -> list[str]:
    return [x for k, v in args.items() for x in (f"-{k}", str(v))]


def build_command(src: Path, info: ProbeResult, out_dir: Path, preset: str = PRESET, *,
                  container: str) -> tuple[list[str], Path, Path | None, bool]:
    """The single ffmpeg command that writes both outputs in one decode, reading `src` as
    `container` only (probe.input_args)."""
    inp = ffmpeg.input(str(src), **input_options(container))
    outputs = []
    copied = False
    if info.has_video:
        media = out_dir / "answer.mp4"
        streams = []
        scale = _scale(info)
        copied = info.video_codec == "h264" and scale is None
        if copied:  # the display matrix, if any, is copied with it
            streams.append(inp.video)
            vargs = {"c:v": "copy"}
        else:
            video = inp.video
            if scale:
                video = video.filter("scale", *scale)
            streams.append(video)
            vargs = _x264_args(preset)
        aargs = {}
        if info.has_audio:
            streams.append(inp.audio)
            aargs = _sound_args(info)
        outputs.append(ffmpeg.output(*streams, str(media), movflags="+faststart", **vargs, **aargs))
    else:
        media = out_dir / "answer.m4a"
        outputs.append(ffmpeg.output(inp.audio, str(media), movflags="+faststart",
                                     **_sound_args(info)))
    wav = None
    if info.has_audio:
        wav = out_dir / "answer.wav"
        outputs.append(ffmpeg.output(inp.audio, str(wav), **WAV_ARGS))
    cmd = ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-nostdin", "-y").compile()
    return cmd, media, wav, copied


def transcode(src: Path, out_dir: Path, info: ProbeResult | None = None,
              timeout: float = 1800, preset: str = PRESET, *, container: str) -> TranscodeResult:
    """Write the review MP4 (or M4A for audio-only answers) and the speech WAV into out_dir,
    reading `src` as `container` only."""
    info = info or probe(src, container=container)
    cmd, media, wav, copied = build_command(src, info, out_dir, preset, container=container)
    run(cmd, timeout, "Converting the recording")
    return _result(media, wav, info, copied)


def _result(media: Path, wav: Path | None, info: ProbeResult, copied: bool) -> TranscodeResult:
    out = describe(media)  # our own file: read in-process, no second ffprobe
    return TranscodeResult(
        media_path=media,
        media_content_type="video/mp4" if info.has_video else "audio/mp4",
        wav_path=wav,
        duration_s=out.duration_s or 0.0,
        width=out.width,
        height=out.height,
        video_copied=copied,
    )


@dataclass(frozen=True)
class Part:
    """What an MPEG-TS part holds: its frames (0: none), and their size."""

    frames: int
    width: int | None = None
    height: int | None = None

    @property
    def picture(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None


def encode_part(src: Path, dst: Path, info: ProbeResult, start_s: float, end_s: float | None,
                preset: str = PRESET, timeout: float = 1800,
                picture: tuple[int, int] | None = None, from_key: bool = False, *,
                container: str) -> Part:
    """Encode the video frames of `src` shown from `start_s` up to `end_s` (to the end when
    None), on the timeline the whole transcode gives them, into an MPEG-TS part. `src` may be a
    recording still being uploaded: ffmpeg reads what is there, so `end_s` must leave out its
    last, perhaps incomplete, frames.

    ffmpeg seeks to a keyframe (`from_key`: the one `start_s` was cut just before; otherwise one
    at least a second before `start_s`) and the trim filter keeps exactly the frames in the
    span, so parts that meet share no frame and miss none. `-itsoffset` moves the frames as
    the whole transcode does (by the file's start time) before the encoder sees them, so both
    round each frame to the same time. `picture` is the first part's size: a phone turned while
    recording changes the picture's size mid-stream, and the whole transcode keeps its first
    size for all of it (stretching the rest), so each part must too."""
    at = _seek_s(start_s, from_key)
    seek = ["-ss", f"{at:.4f}"] if at is not None else []
    span = f"trim=start={start_s:.4f}" + (f":end={end_s:.4f}" if end_s is not None else "")
    scale = _scale(info)
    vf = span + (f",scale={scale[0]}:{scale[1]}" if scale else "")
    if picture:
        vf += f",scale={picture[0]}:{picture[1]}"  # passes frames of that size through untouched
    run([*FFMPEG, "-copyts", "-noaccurate_seek", *seek, "-itsoffset", f"{-info.start_s:.6f}",
         *input_args(container), "-i", str(src), "-map", "0:v:0", "-vf", vf,
         *_flat(_x264_args(preset)), "-an", "-output_ts_offset", f"{PART_TS_OFFSET:g}",
         "-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", str(dst)],
        timeout, "Converting the video")
    return describe_part(dst)


def _seek_s(start_s: float, from_key: bool) -> float | None:
    """Where to seek (on the transcode's timeline) to decode the frames from `start_s`: the
    demuxer lands on the last keyframe at or before it. None: from the beginning."""
    if from_key:
        return start_s + 2 * KEY_CUT_S  # the keyframe start_s was cut just before
    return start_s - 1.0 if start_s > 1.0 else None


def describe_part(part: Path) -> Part:
    """How many video frames an MPEG-TS part holds, and their size (no frames when it holds
    none, or there is no such file)."""
    import av

    if not part.exists() or part.stat().st_size == 0:
        return Part(0)
    try:
        with av.open(str(part)) as c:
            if not c.streams.video:
                return Part(0)
            video = c.streams.video[0]
            frames = sum(1 for p in c.demux(video) if p.size)
            return Part(frames, video.codec_context.width or None, video.codec_context.height or None)
    except av.error.FFmpegError:
        return Part(0)


@dataclass(frozen=True)
class FrameScan:
    """The video packets a pass over a growing recording read, from the keyframe its decoding
    starts at (the seek's landing place): the keyframes' and all frames' times."""

    keys: tuple[float, ...] = ()
    times: tuple[float, ...] = ()

    @property
    def first_s(self) -> float | None:
        """The keyframe decoding starts from; None when no frame was read."""
        return self.times[0] if self.times else None

    @property
    def last_s(self) -> float | None:
        """The last frame read whole; None when no frame was read."""
        return max(self.times) if self.times else None

    def cut_before_key(self, earliest_s: float, latest_s: float) -> float | None:
        """A cut just before the last keyframe between the two times, if there is one."""
        keys = [k for k in self.keys if earliest_s + KEY_CUT_S <= k <= latest_s]
        return round(keys[-1] - KEY_CUT_S, 6) if keys else None

    def next_cut(self, after_s: float, min_part_s: float,
                 margin_s: float) -> tuple[float, bool] | None:
        """Where a part from `after_s` ends, and whether just before a keyframe: before the last
        keyframe that leaves `margin_s` before the last frame read (so the next part decodes
        nothing twice), else at a whole second; None while less than `min_part_s` is there."""
        if self.last_s is None:
            return None
        latest = self.last_s - margin_s
        end = self.cut_before_key(after_s + min_part_s, latest)
        at_key = end is not None
        if end is None:
            end = float(math.floor(latest))
        return (end, at_key) if end - after_s >= min_part_s else None

    def frames_between(self, start_s: float, end_s: float | None) -> int:
        """How many frames an encode of that span must hold: one per millisecond shown (the
        encoder counts in milliseconds and drops a frame that would share one)."""
        return len({round(t, 3) for t in self.times
                    if t >= start_s - 1e-6 and (end_s is None or t < end_s - 1e-6)})


def scan_frames(src: Path, info: ProbeResult, after_s: float = 0.0,
                from_key: bool = False, *, container: str) -> FrameScan:
    """Read (without decoding) the video packets of `src`, a recording perhaps still growing,
    from the keyframe encode_part would start decoding at for `after_s`; times are on the
    transcode's timeline."""
    import av

    keys: list[float] = []
    times: list[float] = []
    try:
        with open_input(src, container) as c:
            if not c.streams.video:
                return FrameScan()
            v = c.streams.video[0]
            at = _seek_s(after_s, from_key)
            if at is not None and at > 0 and v.time_base:
                c.seek(int((at + info.start_s) / v.time_base), stream=v, backward=True)
            for packet in c.demux(v):
                if packet.pts is not None and packet.size:
                    t = float(packet.pts * v.time_base) - info.start_s
                    times.append(t)
                    if packet.is_keyframe:
                        keys.append(t)
    except av.error.FFmpegError:
        pass  # the cut-off end of a growing file: what was read before it stands
    return FrameScan(tuple(sorted(keys)), tuple(times))


def transcode_from_parts(src: Path, out_dir: Path, info: ProbeResult, parts: list[Path],
                         parts_end_s: float, timeout: float = 1800, preset: str = PRESET,
                         picture: tuple[int, int] | None = None,
                         from_key: bool = False, *, container: str) -> TranscodeResult:
    """The whole transcode's outputs for a recording whose video up to `parts_end_s` was
    already encoded into `parts` of that `picture` size (see encode_part; `from_key`: the last
    one ended just before a keyframe): encode the rest of the video and, side by side, the
    sound (whole: AAC in pieces would click at each join) and the speech WAV; then join the
    video parts with the sound, both copied.

    The two encodes run at once because the sound's encoder has one thread, which the whole
    transcode runs beside libx264's: one after the other, the sound alone kept one core busy
    while the other idled (bench/README.md, "Figures behind the defaults"). The sound waits in
    an M4A, which keeps its packets and their times (the encoder's priming included) exactly
    as the MP4 gets them."""
    from concurrent.futures import ThreadPoolExecutor

    from app.media import MediaError

    tail = out_dir / "tail.ts"
    sound = out_dir / "sound.m4a" if info.has_audio else None
    wav = out_dir / "answer.wav" if info.has_audio else None
    with ThreadPoolExecutor(2) as pool:  # each thread waits on its own ffmpeg process
        audio = pool.submit(_encode_sound, src, info, sound, wav, timeout,
                            container) if sound else None
        made = encode_part(src, tail, info, parts_end_s, None, preset, timeout, picture, from_key,
                           container=container)
        expected = scan_frames(src, info, parts_end_s, from_key,
                               container=container).frames_between(parts_end_s, None)
        if audio is not None:
            audio.result()
    if made.frames != expected:
        raise MediaError(f"the rest of the video after {parts_end_s:.1f} s came out as "
                         f"{made.frames} frames, not {expected}")
    if made.frames:
        parts = [*parts, tail]
    media = out_dir / "answer.mp4"
    cmd = [*FFMPEG, "-copyts", "-itsoffset", f"{-PART_TS_OFFSET:g}",
           "-i", "concat:" + "|".join(map(str, parts))]
    if sound is not None:
        cmd += ["-i", str(sound)]
    cmd += ["-map", "0:v:0", *(["-map", "1:a"] if sound is not None else []), "-c", "copy",
            "-movflags", "+faststart", str(media)]
    run(cmd, timeout, "Converting the recording")
    return _result(media, wav, info, copied=False)


def _encode_sound(src: Path, info: ProbeResult, sound: Path, wav: Path, timeout: float,
                  container: str) -> None:
    """The recording's sound as AAC (copied where it is AAC already) in an M4A, and as the
    speech WAV, on the transcode's timeline (moved by the file's start time, as its video is)."""
    run([*FFMPEG, "-copyts", "-itsoffset", f"{-info.start_s:.6f}", *input_args(container),
         "-i", str(src),
         "-map", "0:a", *_flat(_sound_args(info)), "-f", "mp4", str(sound),
         "-map", "0:a", *_flat(WAV_ARGS), str(wav)], timeout, "Converting the sound")
