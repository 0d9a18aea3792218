"""Turn a browser recording into a seekable MP4 (H.264/AAC, +faststart, at most 720p) and a 16 kHz WAV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from app.media.ffmpeg_run import run
from app.media.probe import ProbeResult, describe, probe

MAX_HEIGHT = 720
# Re-encoding (VP8/VP9 from Firefox) is the slow path: ultrafast keeps a 60 s 720p answer to a
# few seconds on two cores, and the bitrate cap keeps its files near a browser's own bitrate.
PRESET = "ultrafast"
MAXRATE, BUFSIZE = "2500k", "5000k"
# ffmpeg's default AAC coder ("twoloop") spends most of a copied answer's transcode (3.6 s of
# 4.0 s for 180 s of speech); "fast" takes 40% less and is plenty for speech at 128 kb/s.
AAC_CODER = "fast"


@dataclass(frozen=True)
class TranscodeResult:
    media_path: Path
    media_content_type: str
    wav_path: Path | None
    duration_s: float
    width: int | None
    height: int | None
    video_copied: bool


def _target_height(src: ProbeResult) -> int | None:
    if src.height is None or src.height <= MAX_HEIGHT:
        return None
    return MAX_HEIGHT


def build_command(src: Path, info: ProbeResult, out_dir: Path,
                  preset: str = PRESET) -> tuple[list[str], Path, Path | None, bool]:
    """The single ffmpeg command that writes both outputs in one decode."""
    inp = ffmpeg.input(str(src))
    outputs = []
    copied = False
    if info.has_video:
        media = out_dir / "answer.mp4"
        streams = []
        target = _target_height(info)
        copied = info.video_codec == "h264" and target is None
        if copied:
            streams.append(inp.video)
            vargs = {"c:v": "copy"}
        else:
            video = inp.video
            if target:
                video = video.filter("scale", -2, target)
            streams.append(video)
            # A keyframe every second: quick seeking, and a cheap keyframe-only scan for the poster.
            vargs = {"c:v": "libx264", "preset": preset, "crf": 23, "maxrate": MAXRATE,
                     "bufsize": BUFSIZE, "pix_fmt": "yuv420p",
                     "force_key_frames": "expr:gte(t,n_forced*1)"}
        aargs = {}
        if info.has_audio:
            streams.append(inp.audio)
            aargs = {"c:a": "aac", "aac_coder": AAC_CODER, "b:a": "128k"}
        outputs.append(ffmpeg.output(*streams, str(media), movflags="+faststart", **vargs, **aargs))
    else:
        media = out_dir / "answer.m4a"
        outputs.append(ffmpeg.output(inp.audio, str(media), movflags="+faststart",
                                     **{"c:a": "aac", "aac_coder": AAC_CODER, "b:a": "128k"}))
    wav = None
    if info.has_audio:
        wav = out_dir / "answer.wav"
        outputs.append(ffmpeg.output(inp.audio, str(wav), ac=1, ar=16000, **{"c:a": "pcm_s16le"}))
    cmd = ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-nostdin", "-y").compile()
    return cmd, media, wav, copied


def transcode(src: Path, out_dir: Path, info: ProbeResult | None = None,
              timeout: float = 1800, preset: str = PRESET) -> TranscodeResult:
    """Write the review MP4 (or M4A for audio-only answers) and the speech WAV into out_dir."""
    info = info or probe(src)
    cmd, media, wav, copied = build_command(src, info, out_dir, preset)
    run(cmd, timeout, "Converting the recording")
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
