"""WhisperX's batched transcription, with word times taken from the same encoder pass.

WhisperX's own `transcribe` cuts the audio at voice activity into windows of up to 30 s and
decodes them in batches, but gives no word times (it leaves those to a wav2vec2 alignment model,
which cannot be downloaded here). This does the same VAD, windows, batches and decoding options,
then asks the Whisper decoder where each token was heard (cross-attention alignment, as
`faster-whisper`'s `word_timestamps` does) using the encoder output it already has: one cheap
decoder pass per window instead of a second transcription.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from app.media import WINDOW_S

SENTENCE_END = ".?!。！？"
PREPEND = "\"'“¿([{-"
APPEND = "\"'.。,，!！?？:：”)]}、"
MAX_SEGMENT_S = 12.0  # a transcript line longer than this is split at its longest pause
SPLIT_GAP_S = 1.0  # a silence this long starts a new line


@dataclass
class TimedWord:
    word: str
    start: float
    end: float
    probability: float


def windows(pipe, audio: np.ndarray, chunk_size: int = WINDOW_S) -> list[dict]:
    """WhisperX's voice-activity windows: speech only, merged up to `chunk_size` seconds."""
    from whisperx.audio import SAMPLE_RATE
    from whisperx.vads import Pyannote, Vad

    vad = pipe.vad_model
    if isinstance(vad, Vad):
        waveform, merge = vad.preprocess_audio(audio), vad.merge_chunks
    else:
        waveform, merge = Pyannote.preprocess_audio(audio), Pyannote.merge_chunks
    found = vad({"waveform": waveform, "sample_rate": SAMPLE_RATE})
    return merge(found, chunk_size, onset=pipe._vad_params["vad_onset"],
                 offset=pipe._vad_params["vad_offset"])


def settled_windows(pipe, audio: np.ndarray, chunk_size: int = WINDOW_S) -> list[dict]:
    """The windows of a recording still arriving (`audio`, what has arrived) that no later
    audio can change: the same windows, cut at the same samples, as windows() finds in the
    whole recording, so that what they decode to is what the whole recording's pass would
    decode (each window is decoded on its own, without the text of the others).

    That needs a voice-activity model that reads the audio forwards only (`settle_margin_s`,
    app/media/vad.Silero): a span that ended more than that before the end of what arrived is
    final. Windows are merged greedily from the first span, and one closes when the next span
    would take it past `chunk_size`; so all but the last window merged from the final spans
    are closed for good. A model that looks ahead (pyannote) settles nothing."""
    from whisperx.audio import SAMPLE_RATE

    vad = pipe.vad_model
    margin = getattr(vad, "settle_margin_s", None)
    if margin is None:
        return []
    end_s = len(audio) / SAMPLE_RATE
    final = [s for s in vad({"waveform": vad.preprocess_audio(audio), "sample_rate": SAMPLE_RATE})
             if s.end + margin <= end_s]
    return vad.merge_chunks(final, chunk_size, onset=pipe._vad_params["vad_onset"],
                            offset=pipe._vad_params["vad_offset"])[:-1]


def same_window(a: dict, b: dict) -> bool:
    """Whether two windows are cut at the same samples (their times are sample counts over the
    rate, so the same cut gives the same floats; a thousandth of a second is far below a
    32 ms VAD frame)."""
    return abs(a["start"] - b["start"]) < 1e-3 and abs(a["end"] - b["end"]) < 1e-3


def tokenizer_for(pipe, audio: np.ndarray, language: str | None):
    from faster_whisper.tokenizer import Tokenizer

    if language is None and pipe.tokenizer is not None:
        language = pipe.tokenizer.language_code
    language = language or pipe.detect_language(audio)
    model = pipe.model
    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                     language=language)


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def transcribe_words(pipe, audio: np.ndarray, language: str | None, batch_size: int = 8,
                     spans: list[dict] | None = None) -> tuple[list[list[TimedWord]], str]:
    """Per VAD window, its timed words (absolute seconds); and the language. `spans`: decode
    only these windows (windows() or settled_windows() of the same audio), not all of them."""
    from faster_whisper.transcribe import get_ctranslate2_storage
    from whisperx.audio import HOP_LENGTH, N_SAMPLES, SAMPLE_RATE, log_mel_spectrogram

    if spans is None:
        spans = windows(pipe, audio)
    if not spans:
        return [], language or "en"
    tok = tokenizer_for(pipe, audio, language)
    model, opts = pipe.model, pipe.options
    n_mels = model.feat_kwargs.get("feature_size") or 80
    prompt = model.get_prompt(tok, [], without_timestamps=True, prefix=opts.prefix,
                              hotwords=opts.hotwords)
    words: list[list[TimedWord]] = []
    for batch in _batches(spans, batch_size):
        pieces = [audio[int(s["start"] * SAMPLE_RATE):int(s["end"] * SAMPLE_RATE)] for s in batch]
        feats = np.stack([log_mel_spectrogram(p, n_mels=n_mels, padding=N_SAMPLES - p.shape[0])
                          .numpy() for p in pieces])
        encoded = model.model.encode(get_ctranslate2_storage(feats))
        results = model.model.generate(
            encoded, [prompt] * len(batch), beam_size=opts.beam_size, patience=opts.patience,
            length_penalty=opts.length_penalty, max_length=model.max_length,
            suppress_blank=opts.suppress_blank, suppress_tokens=opts.suppress_tokens,
            no_repeat_ngram_size=opts.no_repeat_ngram_size,
            repetition_penalty=opts.repetition_penalty)
        tokens = [[t for t in r.sequences_ids[0] if t < tok.eot] for r in results]
        frames = [min(N_SAMPLES, len(p)) // HOP_LENGTH for p in pieces]
        todo = [i for i, t in enumerate(tokens) if t]
        aligned = dict(zip(todo, model.model.align(
            encoded, tok.sot_sequence, [tokens[i] for i in todo], [frames[i] for i in todo],
            median_filter_width=7), strict=True)) if todo else {}
        for i, span in enumerate(batch):
            found = _words(tok, tokens[i], aligned[i], model.tokens_per_second) if i in aligned else []
            words.append([TimedWord(w.word, round(w.start + span["start"], 3),
                                    round(w.end + span["start"], 3), w.probability) for w in found])
    return words, tok.language_code


def _words(tok, text_tokens: list[int], alignment, tokens_per_second: float) -> list[TimedWord]:
    """Token alignment to words, with faster-whisper's own clean-ups (punctuation joined to its
    word, over-long words at sentence ends clipped to twice the median word)."""
    from faster_whisper.transcribe import merge_punctuations

    words, word_tokens = tok.split_to_word_tokens([*text_tokens, tok.eot])
    if len(word_tokens) <= 1:
        return []
    pairs = alignment.alignments
    text_idx = np.array([p[0] for p in pairs])
    time_idx = np.array([p[1] for p in pairs])
    bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / tokens_per_second
    probs = alignment.text_token_probs
    timing = [dict(word=w, tokens=t, start=float(jump_times[a]), end=float(jump_times[b]),
                   probability=float(np.mean(probs[a:b])) if b > a else 0.0)
              for w, t, a, b in zip(words[:-1], word_tokens[:-1], bounds[:-1], bounds[1:],
                                    strict=True)]  # the last "word" is end-of-text
    durations = np.array([t["end"] - t["start"] for t in timing])
    durations = durations[durations.nonzero()]
    if len(durations):
        longest = min(0.7, float(np.median(durations))) * 2
        for i in range(1, len(timing)):
            if timing[i]["end"] - timing[i]["start"] > longest:
                if timing[i]["word"] in SENTENCE_END:
                    timing[i]["end"] = timing[i]["start"] + longest
                elif timing[i - 1]["word"] in SENTENCE_END:
                    timing[i]["start"] = timing[i]["end"] - longest
    merge_punctuations(timing, PREPEND, APPEND)
    return [TimedWord(t["word"].strip(), t["start"], t["end"], round(t["probability"], 3))
            for t in timing if t["word"].strip()]


def lines(words: list[TimedWord]) -> list[list[TimedWord]]:
    """A window's words as transcript lines: a new line after a sentence ends or a long silence,
    and no line longer than MAX_SEGMENT_S (split at its longest gap)."""
    out: list[list[TimedWord]] = []
    cur: list[TimedWord] = []
    for w in words:
        if cur and (w.start - cur[-1].end >= SPLIT_GAP_S or cur[-1].word[-1:] in SENTENCE_END):
            out.append(cur)
            cur = []
        cur.append(w)
    if cur:
        out.append(cur)
    done: list[list[TimedWord]] = []
    while out:
        line = out.pop(0)
        if len(line) > 1 and line[-1].end - line[0].start > MAX_SEGMENT_S:
            cut = max(range(1, len(line)), key=lambda i: (line[i].start - line[i - 1].end,
                                                          -abs(i - len(line) / 2)))
            out[:0] = [line[:cut], line[cut:]]
            continue
        done.append(line)
    return done
