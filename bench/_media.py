"""Benchmark helpers: browser-like test answers, the bare-tool baselines, and RSS sampling.

Run as a script (`python bench/_media.py whisperx MODEL_DIR THREADS LANG`), this file is the
bare-WhisperX server: it loads the model once, then for each WAV path read on stdin times only
the transcription and answers one `RESULT {json}` line.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

SENTENCES = (
    "Thank you for the chance to tell you a little about myself and my work.",
    "In my last role I looked after the payment service and its nightly reports.",
    "One morning the queue of invoices stopped moving, and customers started to call.",
    "I read the logs, found a lock that was never released, and wrote a small fix.",
    "Afterwards we added a test and an alert, so the same problem would show itself early.",
    "I enjoy building tools that make other engineers faster and calmer.",
    "Python is my favourite programming language, though I also write some Go.",
    "I would like to join your team because the product helps people find good work.",
)
# What Chromium's MediaRecorder roughly spends on video (bits per second) at each height.
VIDEO_BITRATE = {480: "1000k", 720: "2500k"}
CONTENT_TYPES = {"h264": "video/webm;codecs=h264,opus", "vp8": "video/webm;codecs=vp8,opus"}
AUDIO_BITRATE = "96k"  # the recorder's audioBitsPerSecond (app/static/js/recorder.js)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _run(args: list[str], timeout: float = 1800) -> None:
    proc = subprocess.run(args, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-800:]}")


def make_speech(work: Path, duration: float) -> Path:
    """`duration` seconds of espeak-ng speech at 48 kHz mono: the sentences in turn, 0.4 s apart."""
    parts = work / "sentences"
    parts.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, text in enumerate(SENTENCES):
        clip = parts / f"s{i}.wav"
        if not clip.exists():
            raw = parts / f"s{i}-raw.wav"
            _run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text])
            _run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af", "apad=pad_dur=0.4",
                  "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(clip)])
        clips.append(clip)
        with wave.open(str(clip)) as w:
            _CLIP_S[i] = w.getnframes() / w.getframerate()
    listing = work / f"speech-{duration:g}.txt"
    clip_s = 4.0  # every clip is longer than this, so this many repeats always fill the time
    repeats = int(duration / clip_s) + 1
    listing.write_text("".join(f"file '{clips[i % len(clips)]}'\n" for i in range(repeats)))
    out = work / f"speech-{duration:g}.wav"
    _run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
          "-t", f"{duration:g}", "-c:a", "pcm_s16le", str(out)])
    return out


def spoken_text(duration: float) -> str:
    """What make_speech says in `duration` seconds: the sentences it starts, in turn (the last
    one may be cut short, which costs ours and the bare tools the same few words)."""
    said, t, i = [], 0.0, 0
    while t < duration:
        said.append(SENTENCES[i % len(SENTENCES)])
        t += _CLIP_S[i % len(SENTENCES)]
        i += 1
    return " ".join(said)


_CLIP_S: dict[int, float] = {}  # seconds of each sentence's clip, pause included


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate (substitutions + insertions + deletions over reference words), on
    lower-case words without punctuation."""
    import re

    def words(text: str) -> list[str]:
        return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()

    ref = words(reference)
    return round(edits(ref, words(hypothesis)) / max(1, len(ref)), 4)


def edits(ref: list[str], hyp: list[str]) -> int:
    """The fewest substitutions, insertions and deletions that turn `ref` into `hyp`."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def make_answer(work: Path, duration: float, resolution: str, codec: str,
                speech: Path | None = None) -> tuple[Path, str]:
    """A recording shaped like Chromium's MediaRecorder output: live Matroska/WebM, Opus audio
    at the recorder's bitrate, H.264 (written with the matroska muxer, as ffmpeg's webm muxer
    refuses H.264) or VP8. The sound is `speech` (a WAV) or else espeak-ng's."""
    width, height = (int(x) for x in resolution.split("x"))
    name = f"answer-{duration:g}s-{resolution}-{codec}" + (f"-{speech.stem}" if speech else "")
    speech = speech or make_speech(work, duration)
    out = work / f"{name}.webm"
    rate = VIDEO_BITRATE.get(height, "2500k")
    if codec == "h264":
        vargs = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                 "-profile:v", "baseline", "-b:v", rate, "-g", "100", "-pix_fmt", "yuv420p"]
    elif codec == "vp8":
        # Firefox's recorder (153 ESR, tests/test_browser_firefox.py) puts a keyframe every
        # 7.5 s, whatever keyframe interval it is asked for.
        vargs = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", rate,
                 "-g", "225"]
    else:
        raise ValueError(f"unknown codec {codec!r} (h264 or vp8)")
    _run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
          f"testsrc2=size={width}x{height}:rate=30", "-i", str(speech), "-t", f"{duration:g}",
          "-map", "0:v", "-map", "1:a", *vargs, "-c:a", "libopus", "-b:a", AUDIO_BITRATE,
          "-f", "matroska", "-live", "1", str(out)])
    return out, CONTENT_TYPES[codec]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bare_ffmpeg(src: Path, out_dir: Path, preset: str) -> tuple[float, float, Path]:
    """The very ffmpeg command our transcode stage builds to encode a recording whole
    (app/media/transcode.py build_command, at the worker's x264 preset), run as a plain
    subprocess on a local file: no S3, no database, no probing. Returns (wall seconds,
    CPU seconds, wav)."""
    from app.media.probe import probe
    from app.media.transcode import build_command

    out_dir.mkdir(parents=True, exist_ok=True)
    cmd, _media, wav, _copied = build_command(src, probe(src, container="matroska"), out_dir, preset,
                                              container="matroska")  # the bench's answers are WebM
    before = children_cpu_s()
    started = time.perf_counter()
    _run(cmd)
    return time.perf_counter() - started, children_cpu_s() - before, wav


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def machine_busy_cpu_s() -> float:
    """CPU seconds every process on the machine has spent so far (all cores; idle and I/O wait
    left out), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class OtherCpu:
    """CPU spent by processes outside the benchmark during a phase: the machine's busy CPU less
    what the named processes (and this one) spent. A phase in which other work took a fair share
    of the cores has wall times that say more about that work than about ours."""

    def __init__(self, *pids: int):
        self.pids = [os.getpid(), *pids]
        self.began = time.monotonic()
        self.machine = machine_busy_cpu_s()
        self.ours = self._ours()

    def _ours(self) -> float:
        return sum(process_cpu_s(p) or 0.0 for p in self.pids)

    def stop(self) -> dict:
        wall = time.monotonic() - self.began
        other = max(0.0, machine_busy_cpu_s() - self.machine - (self._ours() - self.ours))
        return {"cpu_s": round(other, 2), "cores": round(other / wall, 3) if wall > 0 else 0.0}


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds of a running process, all its threads and its finished children included."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: utime, stime, cutime, cstime are fields 14-17 of the line.
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds of a process and every process below it (gunicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += process_cpu_s(pid) or 0.0
        todo += children.get(pid, [])
    return total


class BareWhisperX:
    """A separate process holding the WhisperX pipeline warm, as our worker holds its own."""

    tool = "whisperx"

    def __init__(self, model_dir: Path, threads: int, language: str, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.tool, str(model_dir), str(threads), language],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def time(self, wav: Path) -> dict:
        """WhisperX's own `model.transcribe(audio, batch_size=8)` on this WAV, timed."""
        self.proc.stdin.write(f"{wav}\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        raise RuntimeError(f"bare whisperx process ended (code {self.proc.wait()})")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class BareFasterWhisper(BareWhisperX):
    """The same, holding plain faster-whisper: `transcribe(audio, beam_size=5)`, sequential."""

    tool = "faster-whisper"


def _faster_whisper_server(model_dir: str, threads: int, language: str) -> None:
    from faster_whisper import WhisperModel, decode_audio

    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    for line in sys.stdin:
        audio = decode_audio(line.rstrip("\n"))
        started, cpu = time.perf_counter(), time.process_time()
        segments, _info = model.transcribe(audio, beam_size=5, language=language or None)
        text = " ".join(s.text.strip() for s in segments)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print("RESULT " + json.dumps({"seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                                      "text": text}), flush=True)


def _whisperx_server(model_dir: str, threads: int, language: str) -> None:
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import whisperx

    model = whisperx.load_model(model_dir, device="cpu", compute_type="int8", language=language,
                                threads=threads)
    for line in sys.stdin:
        audio = whisperx.load_audio(line.rstrip("\n"))
        started, cpu = time.perf_counter(), time.process_time()
        result = model.transcribe(audio, batch_size=8)
        text = " ".join(s["text"].strip() for s in result["segments"])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print("RESULT " + json.dumps({"seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                                      "text": text}), flush=True)


def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    kb = _status_kb(pid, field)
    return None if kb is None else round(kb / 1024, 1)


class RssSampler:
    """Samples a process's VmRSS every 0.1 s; `reset()` starts a new peak window."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            kb = _status_kb(self.pid, "VmRSS")
            if kb is not None and kb > self.peak_kb:
                self.peak_kb = kb

    def reset(self) -> None:
        self.peak_kb = _status_kb(self.pid, "VmRSS") or 0

    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


if __name__ == "__main__" and sys.argv[1:2] == ["whisperx"]:
    _whisperx_server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
elif __name__ == "__main__" and sys.argv[1:2] == ["faster-whisper"]:
    _faster_whisper_server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
