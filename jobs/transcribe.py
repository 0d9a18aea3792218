"""Job: transcribe the answer's speech with WhisperX and store the transcript and WebVTT captions."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from app.media.words import join as join_words
from jobs import Steps, run_answer_stage

log = logging.getLogger(__name__)


def run(answer_id: int) -> None:
    run_answer_stage("transcribe", answer_id, _transcribe, _then)


def _transcribe(answer) -> None:
    from flask import current_app

    from app.captions import to_webvtt
    from app.media.speech_models import resolve_model
    from app.storage import answer_key, current_storage
    from jobs import spool

    if answer.transcript is not None and answer.captions_key:
        return
    spool.drop(answer.public_id)  # the recording is finished: its early passes are over
    cfg = current_app.config
    store, step = current_storage(), Steps()
    if answer.audio_key is None:
        result = {"language": None, "text": "", "segments": [], "model": None,
                  "method": "none", "note": "This recording has no audio track."}
    else:
        with tempfile.TemporaryDirectory(prefix="oneway-asr-") as tmp:
            wav = Path(tmp) / "speech.wav"
            with step("fetch"):
                store.download(answer.audio_key, wav)
            language = answer.question.interview.language or cfg["WHISPER_LANGUAGE"]
            model_dir = resolve_model(cfg["WHISPER_MODEL"], cfg["MODEL_CACHE_DIR"])
            with step("transcribe"):
                result = _transcribe_rest(store, answer, wav, model_dir, language, cfg)
    with step("store"):
        vtt = to_webvtt(result["segments"]).encode()
        put = store.put_bytes(answer_key(answer.public_id, "captions.vtt"), vtt, "text/vtt")
    log.info("transcription of answer %s: %s", answer.public_id, step)
    answer.transcript = result
    answer.captions_key = put.key


def _transcribe_rest(store, answer, wav: Path, model_dir: Path, language, cfg) -> dict:
    """Transcribe the answer, reusing what was settled while it was being recorded."""
    from app.media.audio import trim_wav
    from app.media.transcribe import shifted, transcribe
    from app.services.pipeline import settles_windows
    from jobs.early_state import EarlyTranscript

    early = None if cfg["WHISPER_ALIGN_MODEL"] else EarlyTranscript.load(store, answer.public_id)
    if early and early.windows and settles_windows(cfg):
        t = transcribe(wav, model_dir, language=language or early.language,
                       settled=early.settled_windows(), **asr_settings(cfg))
        result = t.to_dict()
        result["early_seconds"] = early.seconds
        return result
    start = float(early.until_s) if early and early.segments else 0.0
    if start > 0:
        wav = trim_wav(wav, wav.with_name("rest.wav"), None, start_s=start)
    t = transcribe(wav, model_dir, language=language or (early.language if early else None),
                   align_model=cfg["WHISPER_ALIGN_MODEL"], **asr_settings(cfg))
    if start <= 0:
        return t.to_dict()
    t.segments = shifted(t.segments, start)
    result = t.to_dict()
    result["segments"] = early.segments + result["segments"]
    result["text"] = join_words(s["text"] for s in result["segments"])
    result["method"] = f"{t.method}, {start:.1f}s settled while recording"
    result["early_seconds"] = early.seconds
    return result


def asr_settings(cfg) -> dict:
    """The transcribe() settings every transcription job takes from the configuration."""
    onnx_vad = cfg["WHISPER_VAD_RUNTIME"] == "onnx"
    return {"threads": cfg["WHISPER_THREADS"], "model_name": cfg["WHISPER_MODEL"],
            "vad_cache": Path(cfg["MODEL_CACHE_DIR"]) if onnx_vad else None,
            "decoding": cfg["WHISPER_DECODING"], "device": cfg["WHISPER_DEVICE"],
            "vad": cfg["WHISPER_VAD"]}


def _then(answer, _result: None) -> None:
    from app.services import pipeline

    pipeline.maybe_ready(answer.id)
