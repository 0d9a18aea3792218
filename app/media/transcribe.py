"""Speech to text with WhisperX: segments and timed words. The model is loaded once per process."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.media.words import join as join_words

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_lock = threading.Lock()
_pipelines: dict[tuple, object] = {}
_aligners: dict[tuple, tuple] = {}
COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}
DECODINGS = ("sequential", "batched")


@dataclass
class Word:
    word: str
    start: float
    end: float
    score: float | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class SettledWindow:
    """A voice-activity window decoded while the recording was still arriving
    (app/media/batched.settled_windows), with its transcript lines."""

    start: float
    end: float
    segments: list[Segment]


@dataclass
class Transcript:
    language: str
    text: str
    segments: list[Segment]
    model: str
    method: str

    def to_dict(self) -> dict:
        return asdict(self)


def load_pipeline(model_dir: Path, language: str | None, threads: int | None,
                  vad_cache: Path | None = None, device: str = "cpu", vad: str = "silero"):
    """The WhisperX pipeline for this model, created once per process (never before a fork).
    `vad` finds the speech: "silero" (faster-whisper's bundled model) or "pyannote" (WhisperX's;
    with `vad_cache` it runs on ONNX Runtime, on the CPU only: on a GPU the PyTorch model is
    already fast); app/media/vad.py. `device` is "cpu" (int8) or "cuda" (float16)."""
    from app.media.vad import VADS

    if device not in COMPUTE_TYPES:
        raise ValueError(f"unknown WHISPER_DEVICE {device!r}: one of {', '.join(COMPUTE_TYPES)}")
    if vad not in VADS:
        raise ValueError(f"unknown WHISPER_VAD {vad!r}: one of {', '.join(VADS)}")
    if device == "cuda":
        import ctranslate2

        if ctranslate2.get_cuda_device_count() < 1:
            raise RuntimeError("WHISPER_DEVICE is cuda, but CTranslate2 finds no CUDA device "
                               "(an NVIDIA GPU with its driver); use cpu on this machine")
    if vad != "pyannote":
        vad_cache = None  # only pyannote's ONNX export is cached: one pipeline per Silero setting
    key = (str(model_dir), language, threads, str(vad_cache), device, vad)
    with _lock:
        if key not in _pipelines:
            import whisperx

            from app.media.vad import Silero

            threads = threads or os.cpu_count() or 2
            # WhisperX print()s that a given VAD model replaces its own: keep stdout for the
            # caller (a benchmark prints its JSON there).
            with contextlib.redirect_stdout(sys.stderr):
                pipe = whisperx.load_model(str(model_dir), device=device,
                                           compute_type=COMPUTE_TYPES[device],
                                           language=language, threads=threads,
                                           vad_model=Silero() if vad == "silero" else None)
            if vad_cache is not None and device == "cpu":
                from app.media.vad import accelerate

                accelerate(pipe, Path(vad_cache), threads)
            _pipelines[key] = pipe
        return _pipelines[key]


def _load_aligner(language: str, align_model: str, device: str = "cpu"):
    key = (language, align_model, device)
    with _lock:
        if key not in _aligners:
            import whisperx

            _aligners[key] = whisperx.load_align_model(language_code=language, device=device,
                                                      model_name=align_model)
        return _aligners[key]


def load_wav(wav: Path):
    """Samples in [-1, 1] as float32, read straight from our own 16 kHz mono 16-bit WAV (what
    whisperx.load_audio would get from an ffmpeg process); any other file goes through it."""
    import wave

    import numpy as np

    try:
        with wave.open(str(wav), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2):
                return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
    except (wave.Error, EOFError):
        pass
    import whisperx

    return whisperx.load_audio(str(wav))


def _r(x) -> float:
    return round(float(x), 3)


def transcribe(wav: Path, model_dir: Path, language: str | None = None,
               align_model: str | None = None, threads: int | None = None,
               model_name: str | None = None, batch_size: int = 8,
               vad_cache: Path | None = None, decoding: str = "sequential",
               device: str = "cpu", vad: str = "silero",
               settled: list[SettledWindow] | None = None) -> Transcript:
    """Transcribe a 16 kHz mono WAV into segments with word times.

    `decoding` "sequential" (the default) decodes as plain faster-whisper does, each window
    conditioned on the text before it, beam search with the temperature fallback
    (app/media/sequential.py); "batched" is WhisperX's batched pass over its voice-activity
    windows, faster (app/media/batched.py). Either way Whisper's own cross-attention times the
    words. With a wav2vec2 alignment model (none can be downloaded here), WhisperX's batched
    pass is aligned by it instead.

    `settled` (batched decoding only): windows of this recording decoded while it was still
    arriving (settle()). Those the whole recording's windows begin with, cut at the same
    samples, are taken as they are; only the rest is decoded.
    """
    if decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {decoding!r}: one of {', '.join(DECODINGS)}")
    if settled and (decoding != "batched" or align_model):
        raise ValueError("settled windows are only for batched decoding without an alignment model")
    pipe = load_pipeline(model_dir, language, threads, vad_cache, device, vad)
    audio = load_wav(wav)
    if settled:
        return _transcribe_after(pipe, audio, settled, language, batch_size, model_name or model_dir.name)
    if align_model:
        result = pipe.transcribe(audio, batch_size=batch_size, language=language)
        lang = result["language"]
        import whisperx

        model_a, metadata = _load_aligner(lang, align_model, device)
        aligned = whisperx.align(result["segments"], model_a, metadata, audio, device)
        segments = [
            Segment(_r(s["start"]), _r(s["end"]), s["text"].strip(),
                    [Word(w["word"], _r(w["start"]), _r(w["end"]), w.get("score"))
                     for w in s.get("words", []) if "start" in w])
            for s in aligned["segments"]
        ]
        method = "whisperx-align"
    else:
        if decoding == "sequential":
            from app.media.sequential import transcribe_words

            words, lang = transcribe_words(pipe, audio, language)
            per_window = [words]
            method = "faster-whisper-sequential"
        else:
            from app.media.batched import transcribe_words

            per_window, lang = transcribe_words(pipe, audio, language, batch_size=batch_size)
            method = "whisperx-batched-words"
        segments = [s for words in per_window for s in _segments(words)]
    text = join_words(s.text for s in segments)
    return Transcript(language=lang, text=text, segments=segments, model=model_name or model_dir.name,
                      method=method)


def _segments(words) -> list[Segment]:
    """One window's timed words (app/media/batched.TimedWord) as transcript lines."""
    from app.media.batched import lines

    return [Segment(line[0].start, line[-1].end, join_words(w.word for w in line),
                    [Word(w.word, w.start, w.end, w.probability) for w in line])
            for line in lines(words)]


def _still_cut_the_same(settled: list[SettledWindow], spans: list[dict]) -> int:
    """How many of the settled windows the windows found now begin with, cut at the same samples."""
    from app.media.batched import same_window

    kept = 0
    while kept < min(len(settled), len(spans)) and same_window(vars(settled[kept]), spans[kept]):
        kept += 1
    return kept


def _transcribe_after(pipe, audio, settled: list[SettledWindow], language: str | None,
                      batch_size: int, model: str) -> Transcript:
    from app.media.batched import transcribe_words, windows

    spans = windows(pipe, audio)
    kept = _still_cut_the_same(settled, spans)
    per_window, lang = transcribe_words(pipe, audio, language, batch_size=batch_size,
                                        spans=spans[kept:]) if spans[kept:] else ([], language)
    segments = [s for w in settled[:kept] for s in w.segments]
    segments += [s for words in per_window for s in _segments(words)]
    return Transcript(language=lang or language or "en", text=join_words(s.text for s in segments),
                      segments=segments, model=model,
                      method=f"whisperx-batched-words, {kept} of {len(spans)} windows settled "
                             "while recording")


def settle(wav: Path, model_dir: Path, settled: list[SettledWindow], language: str | None = None,
           threads: int | None = None, batch_size: int = 8, device: str = "cpu",
           vad: str = "silero") -> tuple[list[SettledWindow], str | None]:
    """The windows of a recording still arriving (`wav`: what has arrived, from its start) that
    no later audio can change, decoded: those in `settled` (an earlier pass's) kept where they
    are still cut the same, the newly settled ones decoded now (app/media/batched.settled_windows).
    Returns them and the language (None while nothing was decoded and none was given)."""
    from app.media.batched import settled_windows, transcribe_words

    pipe = load_pipeline(model_dir, language, threads, None, device, vad)
    audio = load_wav(wav)
    spans = settled_windows(pipe, audio)
    kept = _still_cut_the_same(settled, spans)
    out = list(settled[:kept])
    if len(spans) > kept:
        per_window, language = transcribe_words(pipe, audio, language, batch_size=batch_size,
                                                spans=spans[kept:])
        out += [SettledWindow(_r(span["start"]), _r(span["end"]), _segments(words))
                for span, words in zip(spans[kept:], per_window, strict=True)]
    return out, language


def shifted(segments: list[Segment], offset: float) -> list[Segment]:
    """The same segments, their times moved by `offset` seconds."""
    return [Segment(_r(s.start + offset), _r(s.end + offset), s.text,
                    [Word(w.word, _r(w.start + offset), _r(w.end + offset), w.score) for w in s.words])
            for s in segments]
