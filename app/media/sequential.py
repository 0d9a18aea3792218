"""Sequential decoding: faster-whisper's own transcribe, with word times.

WhisperX's batched pass decodes each voice-activity window on its own: no text of the window
before it as context, one temperature (no fallback when a window's text repeats itself or is
unlikely), and windows cut wherever the merged voice activity reaches 30 s. On real speech that
costs accuracy (bench/README.md, "Accuracy on real speech"). This decodes the way plain
faster-whisper does: 30 s windows one after another, each moved on by the timestamps Whisper
predicts, each conditioned on the text before it, beam search with the temperature fallback,
and word times from the decoder's cross-attention.

An answer transcribed in parts (the early passes) starts each part without the text of the
part before as its prompt: measured, a prompt made Whisper put a part's speech in one long
segment and then run on past its end, repeating earlier sentences (bench/README.md,
"Accuracy on real speech").

Only speech is decoded: the same voice-activity windows as the batched pass (WHISPER_VAD's
spans merged as WhisperX merges them, app/media/batched.py windows) are given to faster-whisper
as the clips to decode, one after another, the context carried across them. Plain
faster-whisper decodes the silences too, and on a pause of a few seconds Whisper may "hear"
words that nobody said.
"""

from __future__ import annotations

import numpy as np

from app.media.batched import TimedWord

BEAM_SIZE = 5


def transcribe_words(pipe, audio: np.ndarray, language: str | None,
                     beam_size: int = BEAM_SIZE) -> tuple[list[TimedWord], str]:
    """The timed words (seconds from the start of `audio`) and the language."""
    from app.media.batched import windows

    spans = windows(pipe, audio)
    if language is None and pipe.tokenizer is not None:
        language = pipe.tokenizer.language_code
    if not spans:
        return [], language or "en"
    model = pipe.model  # WhisperX's subclass of faster_whisper.WhisperModel
    clips = [round(t, 3) for s in spans for t in (s["start"], s["end"])]
    segments, info = model.transcribe(
        audio, language=language, beam_size=beam_size, word_timestamps=True,
        condition_on_previous_text=True, clip_timestamps=clips)
    words = [TimedWord(w.word.strip(), round(w.start, 3), round(w.end, 3), round(w.probability, 3))
             for s in segments for w in (s.words or []) if w.word.strip()]
    return words, info.language

