"""Where transcription errors come from, measured one cause at a time (bench/accuracy.py --sources).

Every variant decodes the same answers in this process with the same model, and is scored with
the same normaliser; each differs from plain faster-whisper (beam 5, sequential, on the
original recording) in one thing: the decoding (WhisperX's batched pass, greedy search, no
context across windows, no temperature fallback, Silero VAD), the audio path (the browser's
Opus at the recorder's bitrate, then our WAV extraction), or the early passes' cuts; ours is
also decoded with each voice-activity model (WHISPER_VAD: Silero, the default, or pyannote).
"""

from __future__ import annotations

import subprocess
import time
import wave
from pathlib import Path

import numpy as np

from bench._media import log, make_answer

RATE = 16000


def _wav16(src: Path, dst: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(src), "-ac", "1", "-ar",
                    str(RATE), "-c:a", "pcm_s16le", str(dst)], check=True, timeout=300)
    return dst


def _write(samples: np.ndarray, dst: Path) -> Path:
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(samples, -1, 1 - 1 / 32768) * 32768).astype("<i2").tobytes())
    return dst


def cut_like_early_passes(wav: Path, every_s: float, work: Path, decode) -> str:
    """The answer decoded the way the early passes split it: every `every_s` of recording, from
    where the last pass stopped up to the last pause, then the rest; `decode(path, prompt)`
    gives a part's text (`prompt`: the text of the parts before)."""
    from app.media.audio import last_pause
    from app.media.transcribe import load_wav

    audio = load_wav(wav)
    pos, texts, t = 0, [], every_s
    while t < len(audio) / RATE:
        head = _write(audio[pos:int(t * RATE)], work / "head.wav")
        cut = last_pause(head)
        if cut is not None and cut >= 2.0:
            part = _write(audio[pos:pos + int(cut * RATE)], work / "part.wav")
            texts.append(decode(part, " ".join(texts) or None))
            pos += int(cut * RATE)
        t += every_s
    texts.append(decode(_write(audio[pos:], work / "rest.wav"), " ".join(texts) or None))
    return " ".join(x for x in texts if x)


def _logs_to_stderr() -> None:
    """WhisperX logs to stdout, where the benchmark's JSON goes."""
    import logging
    import sys

    import whisperx  # noqa: F401  (sets up its logger)

    for name in ("whisperx", *[n for n in logging.root.manager.loggerDict if n.startswith("whisperx")]):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


def sources(speech, work: Path, model_cache: Path, model: str, wer) -> dict:
    from app.media.audio import extract_speech
    from app.media.speech_models import resolve_model
    from app.media.transcribe import load_pipeline, load_wav, transcribe

    work.mkdir(parents=True, exist_ok=True)
    _logs_to_stderr()
    model_dir = resolve_model(model, model_cache)
    pipe = load_pipeline(model_dir, "en", None, model_cache)
    fw = pipe.model
    refs = [a.text for a in speech]
    original = [_wav16(a.wav, work / f"{a.name}-orig.wav") for a in speech]
    opus = []
    for a in speech:
        webm, _ = make_answer(work, a.seconds, "640x480", "h264", speech=a.wav)
        opus.append(extract_speech(webm, work / f"{a.name}-opus.wav", container="matroska"))

    def fw_text(path: Path, **kw) -> str:
        segments, _ = fw.transcribe(load_wav(path), language="en", **{"beam_size": 5, **kw})
        return " ".join(s.text.strip() for s in segments)

    def ours(decoding: str, vad: str = "silero"):
        return lambda path, _prompt=None: transcribe(path, model_dir, language="en",
                                                     vad_cache=model_cache, decoding=decoding,
                                                     vad=vad).text

    def fw_clips(path: Path, prompt: str | None = None) -> str:
        """Sequential over WhisperX's VAD windows, as ours, with the text before as a prompt."""
        from app.media.batched import windows

        audio = load_wav(path)
        clips = [t for s in windows(pipe, audio) for t in (s["start"], s["end"])]
        if not clips:
            return ""
        segments, _ = fw.transcribe(audio, language="en", beam_size=5, initial_prompt=prompt,
                                    clip_timestamps=clips)
        return " ".join(s.text.strip() for s in segments)

    def whisperx_text(path: Path) -> str:
        result = pipe.transcribe(load_wav(path), batch_size=8, language="en")
        return " ".join(s["text"].strip() for s in result["segments"])

    variants = {
        "fw_beam5_original": (original, fw_text),
        "fw_beam5_opus_extracted": (opus, fw_text),
        "fw_greedy": (original, lambda p: fw_text(p, beam_size=1)),
        "fw_no_context": (original, lambda p: fw_text(p, condition_on_previous_text=False)),
        "fw_no_fallback": (original, lambda p: fw_text(p, temperature=0.0)),
        "fw_silero_vad": (original, lambda p: fw_text(p, vad_filter=True)),
        "whisperx_batched_original": (original, whisperx_text),
        "whisperx_batched_opus_extracted": (opus, whisperx_text),
        "ours_batched_original": (original, ours("batched")),
        "ours_batched_pyannote_vad_original": (original, ours("batched", "pyannote")),
        "ours_sequential_original": (original, ours("sequential")),
        "ours_sequential_pyannote_vad_original": (original, ours("sequential", "pyannote")),
        "ours_sequential_opus_extracted": (opus, ours("sequential")),
        "ours_sequential_opus_cut_every_20s": (
            opus, lambda p: cut_like_early_passes(p, 20, work, ours("sequential"))),
        "sequential_opus_cut_every_20s_text_before_as_prompt": (
            opus, lambda p: cut_like_early_passes(p, 20, work, fw_clips)),
        "ours_batched_opus_cut_every_90s": (
            opus, lambda p: cut_like_early_passes(p, 90, work, ours("batched"))),
    }
    out = {"model": model, "answers": len(speech),
           "audio_minutes": round(sum(a.seconds for a in speech) / 60, 2)}
    for name, (inputs, decode) in variants.items():
        wall, cpu = time.perf_counter(), time.process_time()
        hyps = [decode(p) for p in inputs]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out[name] = {"wer": wer(refs, hyps),
                     "cpu_s_per_audio_minute": round(cpu / out["audio_minutes"], 2),
                     "wall_s": round(wall, 1), "loadavg_1m": round(__import__("os").getloadavg()[0], 2)}
        log(f"sources {name}: {out[name]}")
    return out
