"""bench/accuracy.py keeps working with an accented set: a folder laid out as speechocean762 (WAVE/,
train/ and test/ with Kaldi tables) gives one answer per adult speaker, never a child's, and the
benchmark reports each set's word error rates beside plain faster-whisper's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.speech_set import accented_answers
from tests.conftest import ROOT

pytestmark = [pytest.mark.processes, pytest.mark.slow]  # its own stack; the real pipeline

# (speaker, age, gender, espeak voice, sentences)
SPEAKERS = [
    ("0101", 21, "f", "en+f3", ["We call it bear.", "The train leaves at seven in the morning.",
                                "She wanted to get out of the room."]),
    ("0102", 24, "m", "en-us", ["He looked at me and smiled.", "It was tough for us at the time.",
                                "There was no way out of this room."]),
    ("0103", 8, "m", "en", ["Mark is going to see the elephant."]),
]


def _corpus(root: Path) -> Path:
    """A small folder in speechocean762's layout, its speech made by espeak-ng."""
    tables = {name: [] for name in ("text", "wav.scp", "utt2spk", "spk2age", "spk2gender")}
    for spk, age, gender, voice, sentences in SPEAKERS:
        folder = root / "WAVE" / f"SPEAKER{spk}"
        folder.mkdir(parents=True)
        for i, sentence in enumerate(sentences):
            utt = f"{spk}{i:05d}"
            raw = folder / f"{utt}-22k.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), sentence], check=True)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ar", "16000", "-ac", "1",
                            str(folder / f"{utt}.WAV")], check=True)
            raw.unlink()
            tables["text"].append(f"{utt}\t{sentence.upper().rstrip('.')}")
            tables["wav.scp"].append(f"{utt}\tWAVE/SPEAKER{spk}/{utt}.WAV")
            tables["utt2spk"].append(f"{utt}\t{spk}")
        tables["spk2age"].append(f"{spk}\t{age}")
        tables["spk2gender"].append(f"{spk}\t{gender}")
    for split in ("train", "test"):
        (root / split).mkdir()
    for name, lines in tables.items():  # everything in train; test has the tables, empty
        (root / "train" / name).write_text("\n".join(lines) + "\n")
        (root / "test" / name).write_text("")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _corpus(tmp_path_factory.mktemp("speechocean762"))


def test_one_answer_per_adult_speaker_women_and_men_in_turn(corpus, tmp_path):
    got = accented_answers(corpus, tmp_path, seconds=60)
    assert [a.speakers for a in got] == [["speechocean762-0101-f-21"], ["speechocean762-0102-m-24"]]
    assert got[0].text.startswith("we call it bear the train leaves")  # in the corpus's order
    assert all(a.wav.exists() and 3 < a.seconds < 60 for a in got)
    short = accented_answers(corpus, tmp_path / "short", seconds=4)  # a sentence or two each
    assert [len(a.text.split()) for a in short] < [len(a.text.split()) for a in got]
    with pytest.raises(FileNotFoundError, match="not a speechocean762 folder"):
        accented_answers(tmp_path, tmp_path / "none")


def test_accuracy_bench_reports_native_and_accented_sets(corpus, tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "accuracy.py"), "--models", "tiny.en", "--minutes",
         "0.2", "--answer-seconds", "12", "--accented", str(corpus), "--accented-minutes", "0.05",
         "--answer-timeout", "180"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["accented_set"]["speakers"] == ["speechocean762-0101-f-21"]  # 3 s: one answer
    figures = result["models"]["tiny.en"]
    for name in ("all", "native", "accented"):
        assert figures[name]["ready"] == figures[name]["answers"] >= 1, name
        assert 0 <= figures[name]["wer_ours"] < 0.5 and 0 <= figures[name]["wer_bare_fw"] < 0.5, name
    assert figures["all"]["answers"] == figures["native"]["answers"] + figures["accented"]["answers"]
