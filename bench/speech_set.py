"""Real human speech with reference transcripts, for the accuracy benchmark (bench/accuracy.py).

Nothing here is synthetic: the recordings come from two Debian packages, fetched with
`apt-get download` into a cache folder on first use (no other network is needed):

* `asterisk-core-sounds-en-g722` (with `asterisk-core-sounds-en` for the transcripts): the
  Asterisk PBX prompts read by Allison Smith, 16 kHz G.722, CC-BY-SA-3.0. Only the prompts of
  three words or more are used: 282 of them, about 21 minutes, 2,990 words.
* `pocketsphinx-testdata`: five LibriVox utterances (public domain) read by a man, with
  CMU's transcripts (BSD-2).

The prompts are put together into "answers" of about `seconds` each, in a fixed shuffled order,
with pauses of 0.4-1.2 s between them, as a candidate pauses between sentences.

Accented English comes from a folder given to the benchmark (`--accented`), since no package in
PyPI, Debian or npm ships any: **speechocean762** (Zhang et al., Interspeech 2021), 5,000 read
English sentences by 250 speakers whose first language is Mandarin, with their transcripts, "free
for both commercial and non-commercial purposes" (its README). Get it with
`git clone https://github.com/jimbozhang/speechocean762` or from https://www.openslr.org/101/
(the same WAVE/, train/ and test/ folders). Only its 128 adult speakers are used (aged 18-43,
most 19-25: the graduates the seeds' candidates are), each speaker's sentences making one answer
of up to `seconds`, as one candidate answers one question.
"""

from __future__ import annotations

import gzip
import itertools
import random
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGES = ("asterisk-core-sounds-en", "asterisk-core-sounds-en-g722", "pocketsphinx-testdata")
ASTERISK = "usr/share/asterisk/sounds/en_US_f_Allison"
ASTERISK_TEXT = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
LIBRIVOX = "usr/share/pocketsphinx/test/data/librivox"
RATE = 48000  # what the browser's Opus encoder works at


@dataclass
class Utterance:
    path: Path
    text: str
    speaker: str


@dataclass
class Answer:
    name: str
    wav: Path  # 48 kHz mono 16-bit: the "original recording"
    text: str  # the reference transcript
    seconds: float
    speakers: list[str]


def fetch(cache: Path) -> Path:
    """The packages' files under `cache`/root, downloaded and unpacked once."""
    root = cache / "root"
    if (root / ASTERISK_TEXT).exists() and (root / LIBRIVOX / "transcription").exists():
        return root
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True, capture_output=True,
                   timeout=600)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=300)
    return root


def utterances(root: Path) -> list[Utterance]:
    """Every usable recording with its transcript."""
    out = []
    with gzip.open(root / ASTERISK_TEXT, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = (x.strip() for x in line.split(":", 1))
            path = root / ASTERISK / f"{name}.g722"
            # "[beep tone]", "(8 seconds of silence)" and the like describe a sound, not words;
            # one- and two-word prompts ("Activated.") test nothing a sentence does not.
            if text[:1] in "[(<" or len(text.split()) < 3 or not path.exists():
                continue
            # Notes in brackets are not spoken; the keys are said as words.
            text = re.sub(r"\([^)]*\)", " ", text).replace("*", " star ").replace("#", " pound ")
            text = " ".join(text.split())
            out.append(Utterance(path, text, "asterisk-allison"))
    for line in (root / LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip())
        if m:
            out.append(Utterance(root / LIBRIVOX / f"{m.group(2)}.wav", m.group(1).strip(),
                                 "librivox-male"))
    return out


def _pcm(src: Path) -> bytes:
    """The recording as 48 kHz mono 16-bit samples."""
    return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(src), "-ac", "1",
                           "-ar", str(RATE), "-f", "s16le", "-"], check=True,
                          capture_output=True, timeout=120).stdout


def answers(root: Path, work: Path, seconds: float = 60.0, limit_s: float | None = None,
            seed: int = 20) -> list[Answer]:
    """The utterances joined into answers of about `seconds` (the last one may be shorter), up
    to `limit_s` of speech in all; the same every time for the same arguments."""
    items = utterances(root)
    random.Random(seed).shuffle(items)
    rng = random.Random(seed + 1)
    work.mkdir(parents=True, exist_ok=True)
    out: list[Answer] = []
    pcm, texts, speakers, total = bytearray(), [], set(), 0.0

    def flush() -> None:
        out.append(_answer(f"speech-{len(out):02d}", work, pcm, texts, speakers, seed + len(out)))

    pcm += b"\0\0" * int(RATE * 0.5)  # the candidate starts speaking a moment after recording
    for u in items:
        if limit_s is not None and total >= limit_s:
            break
        piece = _pcm(u.path)
        pause = b"\0\0" * int(RATE * rng.uniform(0.4, 1.2))
        if texts and len(pcm) / 2 / RATE + len(piece) / 2 / RATE > seconds:
            flush()
            pcm, texts, speakers = bytearray(b"\0\0" * int(RATE * 0.5)), [], set()
        pcm += piece + pause
        texts.append(u.text)
        speakers.add(u.speaker)
        total += len(piece) / 2 / RATE
    if texts:
        flush()
    return out


def _answer(name: str, work: Path, pcm: bytes | bytearray, texts: list[str], speakers,
            seed: int) -> Answer:
    """The samples written as an answer's original recording, over a room's noise floor (about
    -60 dBFS): a microphone never gives digital silence, and the pauses should not be easier to
    find than in a real recording."""
    wav = work / f"{name}.wav"
    samples = np.frombuffer(bytes(pcm), "<i2").astype(np.int32)
    samples += np.random.default_rng(seed).normal(0, 33, len(samples)).astype(np.int32)
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return Answer(name, wav, " ".join(texts), len(pcm) / 2 / RATE, sorted(speakers))


def _kaldi(folder: Path, name: str) -> dict[str, str]:
    """One of speechocean762's Kaldi-style tables (key, then the rest of the line), both splits."""
    out = {}
    for split in ("train", "test"):
        for line in (folder / split / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            key, *rest = line.split(None, 1)
            out[key] = rest[0].strip() if rest else ""
    return out


def accented_speakers(folder: Path, min_age: int = 18) -> dict[str, list[Utterance]]:
    """speechocean762's adult speakers, each with their utterances in the corpus's order."""
    age, gender, speaker = _kaldi(folder, "spk2age"), _kaldi(folder, "spk2gender"), _kaldi(folder, "utt2spk")
    texts, paths = _kaldi(folder, "text"), _kaldi(folder, "wav.scp")
    out: dict[str, list[Utterance]] = {}
    for utt in sorted(texts):
        spk = speaker[utt]
        if int(age[spk]) < min_age:
            continue
        out.setdefault(spk, []).append(
            Utterance(folder / paths[utt], " ".join(texts[utt].split()).lower(),
                      f"speechocean762-{spk}-{gender.get(spk, '?')}-{age[spk]}"))
    return out


def accented_answers(folder: Path, work: Path, seconds: float = 60.0,
                     limit_s: float | None = None, seed: int = 20) -> list[Answer]:
    """One answer per speaker (a fixed shuffled order of the adults, women and men taken in
    turn), of their sentences up to `seconds`, with the same pauses and noise floor as
    `answers`; up to `limit_s` of recording in all."""
    if not (folder / "WAVE").is_dir() or not (folder / "train" / "text").exists():
        raise FileNotFoundError(f"{folder} is not a speechocean762 folder (WAVE/, train/, test/): "
                                "git clone https://github.com/jimbozhang/speechocean762")
    speakers, gender = accented_speakers(folder), _kaldi(folder, "spk2gender")
    order = sorted(speakers)
    random.Random(seed).shuffle(order)
    women = [s for s in order if gender.get(s) == "f"]
    men = [s for s in order if s not in women]
    turns = [s for pair in itertools.zip_longest(women, men) for s in pair if s is not None]
    rng = random.Random(seed + 1)
    work.mkdir(parents=True, exist_ok=True)
    out: list[Answer] = []
    total = 0.0
    for spk in turns:
        if limit_s is not None and total >= limit_s:
            break
        pcm, texts = bytearray(b"\0\0" * int(RATE * 0.5)), []
        for u in speakers[spk]:
            piece = _pcm(u.path)
            if texts and len(pcm) / 2 / RATE + len(piece) / 2 / RATE > seconds:
                break
            pcm += piece + b"\0\0" * int(RATE * rng.uniform(0.4, 1.2))
            texts.append(u.text)
        out.append(_answer(f"accented-{len(out):02d}", work, pcm, texts,
                           {speakers[spk][0].speaker}, seed + 100 + len(out)))
        total += out[-1].seconds
    return out
