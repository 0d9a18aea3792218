"""Tiny test media, made at the start of a run with ffmpeg and espeak-ng (nothing binary is committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SENTENCE = "My favourite programming language is Python."
KEYWORDS = ("python", "programming", "language")
# Stems of the sentence as a fake microphone loops it: a take of a few seconds starts anywhere
# in the loop, and Whisper may drop a sentence cut at the start, so any one of them shows the
# take was heard.
HEARD = ("favo", "program", "language", "python")
LONG_SENTENCES = ("My favourite programming language is Python.",
                  "I have five years of experience building web applications.",
                  "I enjoy testing software every day.")
# Mandarin for espeak-ng, in pinyin with tones (its Chinese-character dictionary in Debian reads many
# characters as English letters): "I like studying Chinese. I work every day." Whisper "base" hears
# "每天" (every day) in it; espeak's Mandarin is too robotic for much more.
CHINESE_PINYIN = "wo3 xi3 huan1 xue2 xi2 zhong1 wen2. wo3 mei3 tian1 gong1 zuo4."
CHINESE_WORD = "每天"


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def make_media(out: Path) -> dict[str, Path]:
    raw = out / "speech-raw.wav"
    _run(["espeak-ng", "-s", "140", "-w", str(raw), SENTENCE])
    speech = out / "speech.wav"
    # 48 kHz mono 16-bit with a second of silence after it: what Chromium's fake microphone plays.
    _run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af", "apad=pad_dur=1",
          "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(speech)])
    y4m = out / "camera.y4m"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-t", "2", "-pix_fmt", "yuv420p", str(y4m)])
    webm = out / "answer.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime",
          "-c:a", "libopus", "-b:a", "48k", str(webm)])
    mp4 = out / "answer.mp4"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
          "-c:a", "aac", str(mp4)])
    silent = out / "silent.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "3", "-c:v", "libvpx",
          "-deadline", "realtime", "-c:a", "libopus", str(silent)])
    black = out / "black.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:size=320x240:rate=15",
          "-i", str(speech), "-shortest", "-c:v", "libvpx", "-deadline", "realtime",
          "-c:a", "libopus", str(black)])
    long_wav = out / "long.wav"
    parts = []
    for i, sentence in enumerate(LONG_SENTENCES):
        part = out / f"long-{i}.wav"
        _run(["espeak-ng", "-s", "140", "-w", str(part), sentence])
        parts += ["-i", str(part)]
    n = len(LONG_SENTENCES)
    pads = "".join(f"[{i}:a]aresample=48000,apad=pad_dur=1.5[a{i}];" for i in range(n))
    _run(["ffmpeg", "-v", "error", "-y", *parts, "-filter_complex",
          pads + "".join(f"[a{i}]" for i in range(n)) + f"concat=n={n}:v=0:a=1[out]",
          "-map", "[out]", "-ac", "1", str(long_wav)])
    long_webm = out / "long.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-i", str(long_wav), "-shortest", "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime",
          "-g", "15", "-c:a", "libopus", "-b:a", "48k", "-cluster_time_limit", "1000", str(long_webm)])
    not_media = out / "not-media.webm"
    not_media.write_text("This is a text file with a video file's name.\n" * 50)
    return {"speech": speech, "y4m": y4m, "webm": webm, "mp4": mp4, "not_media": not_media,
            "silent": silent, "black": black, "long": long_webm}


def chinese_webm(out: Path) -> Path:
    """A short WebM answer spoken in Mandarin (espeak-ng), as the recorder would send it."""
    raw = out / "chinese-raw.wav"
    _run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "120", "-w", str(raw), CHINESE_PINYIN])
    webm = out / "chinese.webm"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
          "-i", str(raw), "-af", "apad=pad_dur=1", "-shortest", "-c:v", "libvpx", "-b:v", "200k",
          "-deadline", "realtime", "-c:a", "libopus", "-b:a", "48k", str(webm)])
    return webm


def face_png(out: Path) -> Path:
    """A real photograph of a face (NASA's astronaut, public domain, in scikit-image's wheel)."""
    import cv2
    from skimage.data import astronaut

    path = out / "face.png"
    if not path.exists():
        cv2.imwrite(str(path), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    return path


def turn(src: Path, out: Path, degrees: int) -> Path:
    """`src` remuxed (nothing encoded again) with a display matrix that turns its video
    `degrees` counterclockwise when shown (PyAV's own FFmpeg writes it, whatever the ffmpeg
    command line's version): into a fragmented MP4 as Safari's recorder sends it, or, for a
    `.webm` out, a WebM whose track says it (ProjectionPoseRoll) as Chrome's does on a tablet."""
    import av

    if out.suffix == ".webm":
        kind = {"format": "webm"}
    else:
        kind = {"options": {"movflags": "frag_keyframe+empty_moov+default_base_moof"}}
    with av.open(str(src)) as inp, av.open(str(out), "w", **kind) as dst:
        streams = {}
        for s in inp.streams:
            streams[s.index] = dst.add_stream_from_template(s)
            if s.type == "video":
                streams[s.index].set_display_rotation(degrees)
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    return out


def upright_phone_mp4(out: Path, speech: Path, size: str = "1280x720") -> Path:
    """What Safari records on an iPhone held upright: H.264 and AAC in MP4, landscape frames
    of `size` holding the picture turned a quarter counterclockwise, and a display matrix that
    turns them back (-90: a quarter clockwise) to portrait. The picture is a face, so a check on
    frames that were not turned upright would miss it."""
    w, h = (int(x) for x in size.split("x"))
    stored = out / f"phone-stored-{size}.mp4"
    _run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "15", "-i", str(face_png(out)),
          "-i", str(speech), "-shortest", "-vf",
          f"scale={h}:{h},pad={h}:{w}:0:({w}-{h})/2,transpose=cclock,setsar=1",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p",
          "-c:a", "aac", str(stored)])
    return turn(stored, out / f"phone-upright-{size}.mp4", -90)


def pattern_mp4(out: Path, seconds: int) -> bytes:
    """A test pattern with a tone, H.264/AAC with the index up front, as a review MP4 is."""
    _run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-f", "lavfi",
          "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
          "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(out)])
    return out.read_bytes()
