"""Jobs: a hiring manager's prompt video through the answers' media steps: checked and converted
to an MP4 (or M4A) with a poster (media queue), then transcribed into captions (asr queue)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from jobs import Steps, run_media_stage

log = logging.getLogger(__name__)


def convert(media_id: int) -> None:
    _run("convert", media_id, _convert, _after_convert)


def transcribe(media_id: int) -> None:
    _run("transcribe", media_id, _transcribe, _after_transcribe)


def _run(step: str, media_id: int, fn, then) -> None:
    """As an answer's stages run (jobs.run_media_stage): a problem with the media fails the prompt
    at once with its reason, anything else is retried and fails it on the last attempt."""
    from app.models import PromptMedia
    from app.services import lifecycle

    run_media_stage(step, PromptMedia, media_id, fn, then, move=lifecycle.move_prompt_media, fail=_fail,
                    retry_note="Record or upload it again.")


def _fail(media_id: int, reason: str) -> None:
    from app.models import PromptMedia
    from app.services import lifecycle, pipeline

    pipeline.fail_media(PromptMedia, media_id, reason, lifecycle.move_prompt_media)


def _convert(media) -> None:
    """The answers' probe and transcode (app.media), the prompt's own length limit, and the
    poster from the answers' poster chooser."""
    from flask import current_app

    from app.media import MediaError
    from app.media.probe import play_length, probe
    from app.media.thumbnail import choose_poster
    from app.media.transcode import transcode
    from app.services.prompt_media import demuxer
    from app.storage import current_storage, prompt_key

    if media.mp4_key:
        return
    cfg = current_app.config
    store, step = current_storage(), Steps()
    container = demuxer(media)
    with tempfile.TemporaryDirectory(prefix="oneway-prompt-") as tmp:
        src = Path(tmp) / f"original{Path(media.original_key).suffix}"
        with step("fetch"):
            store.download(media.original_key, src)
        with step("probe"):
            info = probe(src, container=container)
            seconds = play_length(src, container=container, timeout=cfg["FFMPEG_TIMEOUT"])
        if seconds > cfg["PROMPT_MAX_SECONDS"]:
            raise MediaError(f"The video plays {seconds:.0f} s; a question's video may be at most "
                             f"{cfg['PROMPT_MAX_SECONDS']} s.")
        with step("encode"):
            out = transcode(src, Path(tmp), info, timeout=cfg["FFMPEG_TIMEOUT"],
                            preset=cfg["X264_PRESET"], container=container)
        if out.duration_s <= 0.1:
            raise MediaError("The video holds no playable sound or picture (it may be truncated).")
        with step("store"):
            put = store.put_file(prompt_key(media.public_id, f"prompt{out.media_path.suffix}"),
                                 out.media_path, out.media_content_type)
            if out.wav_path is not None:
                media.audio_key = store.put_file(prompt_key(media.public_id, "speech.wav"),
                                                 out.wav_path, "audio/wav").key
        if out.width is not None:
            with step("poster"):
                poster = choose_poster(out.media_path, Path(tmp) / "poster.jpg", out.width, out.height,
                                       out.duration_s)
                shot = store.put_file(prompt_key(media.public_id, "poster.jpg"), poster.path, "image/jpeg")
            media.poster_key, media.poster_size = shot.key, shot.size
    log.info("conversion of prompt %s: %s", media.public_id, step)
    media.mp4_key, media.mp4_size = put.key, put.size
    media.duration_s = round(out.duration_s, 3)
    media.width, media.height = out.width, out.height


def _after_convert(media, _result: None) -> None:
    from app.services.prompt_media import enqueue_step

    enqueue_step("transcribe", media.id)


def _transcribe(media) -> None:
    """The answers' transcription (the same model and settings), stored as WebVTT captions."""
    from flask import current_app

    from app.captions import to_webvtt
    from app.media.speech_models import resolve_model
    from app.media.transcribe import transcribe
    from app.storage import current_storage, prompt_key
    from jobs.transcribe import asr_settings

    if media.captions_key:
        return
    cfg = current_app.config
    store = current_storage()
    if media.audio_key is None:
        result = {"language": None, "text": "", "segments": [], "method": "none",
                  "note": "This video has no sound."}
    else:
        with tempfile.TemporaryDirectory(prefix="oneway-prompt-asr-") as tmp:
            wav = Path(tmp) / "speech.wav"
            store.download(media.audio_key, wav)
            model_dir = resolve_model(cfg["WHISPER_MODEL"], cfg["MODEL_CACHE_DIR"])
            language = media.interview.language or cfg["WHISPER_LANGUAGE"]
            result = transcribe(wav, model_dir, language=language, align_model=cfg["WHISPER_ALIGN_MODEL"],
                                **asr_settings(cfg)).to_dict()
    vtt = to_webvtt(result["segments"]).encode()
    media.captions_key = store.put_bytes(prompt_key(media.public_id, "captions.vtt"), vtt, "text/vtt").key
    media.transcript = result


def _after_transcribe(media, _result: None) -> None:
    from app.extensions import db
    from app.services import lifecycle
    from app.states import AnswerStatus

    if media.status == AnswerStatus.PROCESSING and media.mp4_key and media.captions_key:
        lifecycle.move_prompt_media(media, AnswerStatus.READY)
        db.session.commit()
