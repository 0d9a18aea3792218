"""Transcription of speech with the shipped tiny.en model: decoded sequentially as plain
faster-whisper does (app/media/sequential.py, the default), or by WhisperX's batched pass with
word times from the same encoder output (app/media/batched.py); speech found by faster-whisper's
Silero model (the default) or WhisperX's pyannote model (app/media/vad.py)."""

from __future__ import annotations

import itertools
import wave

import pytest

from app.media.audio import extract_speech
from app.media.batched import TimedWord, lines
from app.media.speech_models import resolve_model
from app.media.transcribe import load_pipeline, transcribe
from tests.media import LONG_SENTENCES

pytestmark = pytest.mark.slow


def _norm(text: str) -> str:
    """The words as transcripts are scored (bench/accuracy.py): Whisper's English normaliser, so
    that "five" and "5", which the same model writes either way on different CPUs, are one word."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return " ".join(EnglishTextNormalizer({})(text).split())


@pytest.fixture(scope="module")
def speech(media_dir, tmp_path_factory):
    """The three-sentence answer as 16 kHz WAV, and when each sentence really starts."""
    out = tmp_path_factory.mktemp("asr")
    wav = extract_speech(media_dir["long"], out / "long.wav", container="matroska")
    starts, t = [], 0.0
    for i, _ in enumerate(LONG_SENTENCES):
        part = media_dir["long"].parent / f"long-{i}.wav"
        with wave.open(str(part)) as w:
            spoken = w.getnframes() / w.getframerate()
        starts.append(t)
        t += spoken + 1.5
    return wav, starts, t


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return resolve_model("tiny.en", tmp_path_factory.mktemp("models"))


def _timed_where_spoken(ours, starts, total) -> None:
    """A word starts where each sentence is heard (espeak's own timing), the first line with the
    first sentence, and line and word times are well-formed and in order. How the model cuts
    lines differs by CPU: on some it writes a comma between two sentences and keeps them on one
    line, so lines are not counted."""
    assert len(starts) == len(LONG_SENTENCES) and 1 <= len(ours.segments) <= len(LONG_SENTENCES)
    assert abs(ours.segments[0].start - starts[0]) < 0.6, (ours.segments[0].start, starts[0])
    for seg in ours.segments:
        assert seg.words and seg.start == seg.words[0].start and seg.end == seg.words[-1].end
    words = [w for s in ours.segments for w in s.words]
    for start in starts:
        assert any(abs(w.start - start) < 0.6 for w in words), (start, [w.start for w in words])
    assert all(0 <= w.start <= w.end <= total + 0.5 for w in words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert all(w.word == w.word.strip() and w.word for w in words)
    assert all(0.0 <= w.score <= 1.0 for w in words)
    # Punctuation stays with its word, as in the captions.
    assert words[-1].word.endswith(".")


def test_same_words_as_plain_faster_whisper_with_times_where_they_are_spoken(speech, model_dir):
    from faster_whisper import WhisperModel

    wav, starts, total = speech
    ours = transcribe(wav, model_dir, language="en", threads=2, model_name="tiny.en")
    assert ours.method == "faster-whisper-sequential"
    segments, _ = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                               cpu_threads=2).transcribe(str(wav), beam_size=5, language="en")
    # Plain faster-whisper's text, word for word: only the lines and word times are ours.
    assert _norm(ours.text) == _norm(" ".join(s.text for s in segments))
    assert "python" in _norm(ours.text) and "testing software" in _norm(ours.text)
    _timed_where_spoken(ours, starts, total)


def test_same_words_as_whisperx_batched_with_times_where_they_are_spoken(speech, model_dir,
                                                                           tmp_path):
    import whisperx

    wav, starts, total = speech
    ours = transcribe(wav, model_dir, language="en", threads=2, model_name="tiny.en",
                      vad_cache=tmp_path, decoding="batched", vad="pyannote")
    # WhisperX as shipped: its VAD on PyTorch, where ours runs the same model on ONNX Runtime.
    theirs = load_pipeline(model_dir, "en", 2, vad="pyannote").transcribe(
        whisperx.load_audio(str(wav)), batch_size=8, language="en")
    assert _onnx_vad(load_pipeline(model_dir, "en", 2, tmp_path, vad="pyannote"))
    assert not _onnx_vad(load_pipeline(model_dir, "en", 2, vad="pyannote"))
    assert ours.method == "whisperx-batched-words"
    # The text is WhisperX's own, word for word: only the timing is added.
    assert _norm(ours.text) == _norm(" ".join(s["text"] for s in theirs["segments"]))
    assert "python" in _norm(ours.text) and "testing software" in _norm(ours.text)
    _timed_where_spoken(ours, starts, total)


def test_with_silero_the_same_words_as_whisperx_over_the_same_windows(speech, model_dir):
    """The default VAD (faster-whisper's Silero model): its windows are faster-whisper's own
    speech spans (cut at pauses of 0.5 s) merged as WhisperX merges them, a window starts where
    speech does, and the batched words are WhisperX's own pass over those windows, timed where
    they are spoken."""
    import whisperx
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from app.media.batched import windows
    from app.media.transcribe import load_wav
    from app.media.vad import Silero

    wav, starts, total = speech
    pipe = load_pipeline(model_dir, "en", 2)
    assert isinstance(pipe.vad_model, Silero)
    audio = load_wav(wav)
    spans = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=30, speech_pad_ms=200,
                                                    min_silence_duration_ms=500), sampling_rate=16000)
    assert spans
    ours = windows(pipe, audio)
    assert ours[0]["start"] == spans[0]["start"] / 16000
    assert ours[-1]["end"] == spans[-1]["end"] / 16000
    assert all(w["end"] - w["start"] <= 30 for w in ours)
    assert all(any(w["start"] <= s < w["end"] for w in ours) for s in starts)
    t = transcribe(wav, model_dir, language="en", threads=2, model_name="tiny.en",
                   decoding="batched")
    theirs = pipe.transcribe(whisperx.load_audio(str(wav)), batch_size=8, language="en")
    assert _norm(t.text) == _norm(" ".join(s["text"] for s in theirs["segments"]))
    assert "python" in _norm(t.text) and "testing software" in _norm(t.text)
    _timed_where_spoken(t, starts, total)


@pytest.fixture(scope="module")
def longer(speech, tmp_path_factory):
    """The three-sentence answer four times over (about 50 s): more than one window."""
    from app.media.transcribe import load_wav

    wav = tmp_path_factory.mktemp("asr-longer") / "longer.wav"
    audio = (load_wav(speech[0]) * 32768).astype("<i2")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(audio.tobytes() * 4)
    return wav


def _prefix(wav, seconds: float, out):
    with wave.open(str(wav)) as src, wave.open(str(out), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(int(seconds * 16000)))
    return out


def test_windows_settled_on_arriving_audio_are_the_whole_recordings(longer, model_dir, tmp_path):
    """While a recording arrives, the windows settled so far are always the first windows of the
    whole recording, cut at the same samples; decoding them early and the rest at the end gives
    the whole recording's transcript, line for line."""
    from app.media.batched import same_window, settled_windows, windows
    from app.media.transcribe import load_wav, settle

    pipe = load_pipeline(model_dir, "en", 2)
    audio = load_wav(longer)
    whole = windows(pipe, audio)
    assert len(whole) >= 2
    seen = []
    for n in range(2, int(len(audio) / 16000) + 1, 2):
        got = settled_windows(pipe, audio[:n * 16000])
        assert len(got) < len(whole) and all(map(same_window, got, whole)), (n, got, whole)
        seen.append(len(got))
    assert seen[0] == 0 and max(seen) == len(whole) - 1 and seen == sorted(seen)
    settled = []
    for n in (20, 35, 45):
        settled, language = settle(_prefix(longer, n, tmp_path / f"p{n}.wav"), model_dir, settled,
                                   "en", threads=2)
    assert language == "en" and len(settled) == len(whole) - 1
    kw = {"language": "en", "threads": 2, "model_name": "tiny.en", "decoding": "batched"}
    alone = transcribe(longer, model_dir, **kw)
    after = transcribe(longer, model_dir, settled=settled, **kw)
    assert after.method == (f"whisperx-batched-words, {len(settled)} of {len(whole)} windows "
                            "settled while recording")
    assert after.segments == alone.segments and after.text == alone.text
    assert _norm(after.text).count("python") == 4


def test_a_settled_window_cut_elsewhere_is_decoded_again(longer, model_dir):
    from app.media.transcribe import Segment, SettledWindow

    kw = {"language": "en", "threads": 2, "model_name": "tiny.en", "decoding": "batched"}
    alone = transcribe(longer, model_dir, **kw)
    first = alone.segments[0]
    moved = SettledWindow(first.start - 0.4, first.end + 3.0, [Segment(first.start, first.end, "Not said.")])
    after = transcribe(longer, model_dir, settled=[moved], **kw)
    assert after.method.startswith("whisperx-batched-words, 0 of ")
    assert after.segments == alone.segments
    with pytest.raises(ValueError, match="batched"):
        transcribe(longer, model_dir, settled=[moved], **{**kw, "decoding": "sequential"})


def test_a_vad_that_looks_ahead_settles_nothing(longer, model_dir):
    from app.media.batched import settled_windows
    from app.media.transcribe import load_wav

    pipe = load_pipeline(model_dir, "en", 2, vad="pyannote")
    assert settled_windows(pipe, load_wav(longer)) == []


def test_an_unknown_vad_is_refused(speech, model_dir):
    with pytest.raises(ValueError, match="unknown WHISPER_VAD"):
        transcribe(speech[0], model_dir, language="en", vad="webrtc")


@pytest.mark.parametrize("vad", ["silero", "pyannote"])
@pytest.mark.parametrize("decoding", ["sequential", "batched"])
def test_silence_gives_no_words(tmp_path, model_dir, decoding, vad):
    import subprocess

    wav = tmp_path / "quiet.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
                    "-t", "4", "-c:a", "pcm_s16le", str(wav)], check=True)
    t = transcribe(wav, model_dir, language="en", threads=2, decoding=decoding, vad=vad)
    assert t.segments == [] and t.text == ""


def test_a_gpu_worker_without_a_gpu_says_so(speech, model_dir):
    import ctranslate2

    if ctranslate2.get_cuda_device_count():
        pytest.skip("this machine has a CUDA device: bench/accuracy.py measures it there")
    with pytest.raises(RuntimeError, match="finds no CUDA device"):
        transcribe(speech[0], model_dir, language="en", device="cuda")
    with pytest.raises(ValueError, match="unknown WHISPER_DEVICE"):
        transcribe(speech[0], model_dir, language="en", device="tpu")


def test_an_unknown_decoding_is_refused(speech, model_dir):
    with pytest.raises(ValueError, match="unknown decoding"):
        transcribe(speech[0], model_dir, language="en", decoding="fastest")


def _w(word, start, end):
    return TimedWord(word, start, end, 0.9)


def test_lines_break_after_sentences_and_long_silences():
    words = [_w("Hello", 0.0, 0.4), _w("there.", 0.5, 0.9), _w("I", 1.0, 1.1),
             _w("paused", 1.2, 1.6), _w("here", 3.0, 3.4)]
    assert [[w.word for w in line] for line in lines(words)] == [
        ["Hello", "there."], ["I", "paused"], ["here"]]


def test_a_line_longer_than_twelve_seconds_is_split_at_its_longest_gap():
    words = [_w(f"w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(20)]
    words += [_w(f"x{i}", 10.5 + i * 0.5, 10.9 + i * 0.5) for i in range(10)]
    out = lines(words)
    assert [len(line) for line in out] == [20, 10]
    assert all(line[-1].end - line[0].start <= 12.0 for line in out)


def _onnx_vad(pipe) -> bool:
    return bool(getattr(pipe.vad_model.vad_pipeline._segmentation, "oneway_onnx", False))


def test_onnx_vad_finds_the_same_speech_windows_as_pytorch(speech, model_dir, tmp_path):
    from app.media.batched import windows
    from app.media.transcribe import load_wav

    audio = load_wav(speech[0])
    ours = windows(load_pipeline(model_dir, "en", 2, tmp_path, vad="pyannote"), audio)
    theirs = windows(load_pipeline(model_dir, "en", 2, vad="pyannote"), audio)
    assert ours
    assert [(round(w["start"], 3), round(w["end"], 3)) for w in ours] == \
        [(round(w["start"], 3), round(w["end"], 3)) for w in theirs]
    assert list(tmp_path.glob("vad-segmentation-*.onnx"))


def test_a_damaged_onnx_export_is_made_again(model_dir, tmp_path):
    from app.media.vad import accelerate, export

    pipe = load_pipeline(model_dir, "en", 2, vad="pyannote")
    model = pipe.vad_model.vad_pipeline._segmentation.model
    path = export(model, tmp_path)
    path.write_bytes(b"not an onnx file")
    fresh = load_pipeline(model_dir, "en", 1, tmp_path, vad="pyannote")  # a new session
    assert _onnx_vad(fresh)
    assert path.stat().st_size > 100_000
    assert accelerate(fresh, tmp_path, 1)  # already on ONNX: nothing to do


def test_vad_stays_on_pytorch_when_the_export_disagrees(speech, model_dir, tmp_path, monkeypatch,
                                                        caplog):
    import app.media.vad as vad

    monkeypatch.setattr(vad, "MAX_SCORE_DIFF", -1.0)  # no export can agree this closely
    pipe = load_pipeline(model_dir, "en", 1, tmp_path, vad="pyannote")
    assert not _onnx_vad(pipe)
    assert "VAD stays on PyTorch" in caplog.text
    t = transcribe(speech[0], model_dir, language="en", threads=1, vad_cache=tmp_path,
                   vad="pyannote")
    assert "python" in _norm(t.text)
