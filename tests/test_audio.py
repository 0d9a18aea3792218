"""Cutting speech audio: from a given second of a WebM recording, and parts of our own WAV."""

from __future__ import annotations

import wave

import numpy as np

from app.media.audio import extract_speech, trim_wav


def _samples(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int32)


def test_speech_from_a_second_on_is_the_tail_of_the_whole(media_dir, tmp_path):
    whole = _samples(extract_speech(media_dir["long"], tmp_path / "whole.wav", container="matroska"))
    tail = _samples(extract_speech(media_dir["long"], tmp_path / "tail.wav", 2.5,
                                   container="matroska"))
    start = int(2.5 * 16000)
    # ffmpeg seeks in the input, which lands within a few ms of the cut made by decoding it
    # all (8 ms here: Opus' pre-skip); Whisper times words in 20 ms steps.
    step = 320
    assert abs(len(tail) - (len(whole) - start)) <= step
    probe = tail[step:step + 8000]  # the same samples, once the decoder has settled
    lags = range(-step, step + 1)
    diffs = [np.abs(whole[start + step + k:start + step + k + 8000] - probe).max() for k in lags]
    assert min(diffs) <= 2 and probe.std() > 100


def test_trim_wav_keeps_the_part_asked_for(media_dir, tmp_path):
    whole_path = extract_speech(media_dir["long"], tmp_path / "whole.wav", container="matroska")
    whole = _samples(whole_path)
    assert np.array_equal(_samples(trim_wav(whole_path, tmp_path / "a.wav", 1.0)), whole[:16000])
    assert np.array_equal(_samples(trim_wav(whole_path, tmp_path / "b.wav", None, start_s=2.0)),
                          whole[32000:])
    assert np.array_equal(_samples(trim_wav(whole_path, tmp_path / "c.wav", 3.0, start_s=1.5)),
                          whole[24000:48000])
