"""Accuracy on real human speech: Oneway's transcripts against plain faster-whisper's.

Real recordings with reference transcripts (bench/speech_set.py: Debian's Asterisk prompts and
five LibriVox utterances, fetched with apt-get on first use) are joined into answers of about a
minute, made into browser-like WebM (H.264 and Opus at the recorder's 96 kb/s) and sent through
the same upload API and worker as bench/pipeline.py, paced a chunk a second. The yardstick is
plain faster-whisper (`transcribe(audio, beam_size=5)`, sequential, same model and language) on
the original recordings. Prints ONE JSON object on stdout; logs go to stderr.

    .venv/bin/python bench/accuracy.py [--models base] [--minutes 21] [--sources 6]
        [--accented PATH [--accented-minutes 12]]

--accented adds non-native English: speechocean762's adult speakers (Mandarin first language),
one answer per speaker, read from a copy of that corpus (bench/speech_set.py says where to get
it); each model's figures then come per set ("native", "accented") and over both ("all").

--sources N also measures, in this process and on N minutes of the set, where errors come
from: the decoding (batched or sequential, beam, context, temperature fallback, VAD), the
audio path (Opus, extraction) and the early passes' cuts (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ONEWAY_ENV"] = "testing"  # read when the app is imported

from bench._media import BareFasterWhisper, edits, log, make_answer  # noqa: E402
from bench.pipeline import Bench, machine  # noqa: E402
from bench.speech_set import Answer, accented_answers, answers, fetch  # noqa: E402

TARGETS = {"wer_ratio_max": 1.0, "ready_60s_within_s": 6.0}
CACHE = Path(os.environ.get("ONEWAY_BENCH_CACHE", ROOT / "var" / "bench-cache"))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="base", help="WHISPER_MODEL values, comma-separated")
    p.add_argument("--minutes", type=float, default=None,
                   help="speech to send through the worker (default: the whole set, ~21 min)")
    p.add_argument("--answer-seconds", type=float, default=60.0)
    p.add_argument("--accented", type=Path, default=None,
                   help="a speechocean762 folder: adds accented (non-native) English")
    p.add_argument("--accented-minutes", type=float, default=12.0,
                   help="accented speech to send through the worker")
    p.add_argument("--sources", type=float, default=0.0,
                   help="minutes of the set to break the errors down on (0: skip)")
    p.add_argument("--decoding", default=None, help="WHISPER_DECODING for the worker")
    p.add_argument("--early-chunks", type=int, default=None, help="EARLY_TRANSCRIBE_CHUNKS")
    p.add_argument("--no-pace", action="store_true")
    p.add_argument("--answer-timeout", type=float, default=900)
    return p.parse_args(argv)


def normaliser():
    """Whisper's English normaliser (numbers, spellings, punctuation), as the papers score."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    norm = EnglishTextNormalizer({})
    return lambda text: norm(text).split()


def wer(refs: list[str], hyps: list[str]) -> float:
    """Corpus word error rate: all edits over all reference words, after normalising both."""
    words = normaliser()
    pairs = [(words(r), words(h)) for r, h in zip(refs, hyps, strict=True)]
    return round(sum(edits(r, h) for r, h in pairs) / max(1, sum(len(r) for r, _ in pairs)), 4)


def through_worker(model: str, sets: dict[str, list[Answer]], work: Path, args) -> dict:
    """Each answer of every set through the upload API and a worker, and plain faster-whisper
    on its original recording; figures per set and over all when there is more than one."""
    speech = [a for group in sets.values() for a in group]
    extra = {"MODEL_CACHE_DIR": str(CACHE / "models")}
    if args.decoding:
        extra["WHISPER_DECODING"] = args.decoding
    if args.early_chunks is not None:
        extra["EARLY_TRANSCRIBE_CHUNKS"] = args.early_chunks
    tmp = work / f"run-{model}"
    tmp.mkdir()
    bench = Bench(tmp, model, 0.0 if args.no_pace else 1.0, extra)
    rows = []
    try:
        bench.start()
        warm, ctype = make_answer(tmp, 5, "640x480", "h264")
        bench.process(warm, ctype, 5, args.answer_timeout)
        bench.measure_idle_cpu(5)
        bare = BareFasterWhisper(bench.model_dir, bench.threads, "en", bench.env)
        bench.bare = bare
        bare.time(speech[0].wav)  # warm
        for a in speech:
            webm, ctype = make_answer(tmp, a.seconds, "640x480", "h264", speech=a.wav)
            load = round(os.getloadavg()[0], 2)
            row = bench.process(webm, ctype, a.seconds, args.answer_timeout)
            theirs = bare.time(a.wav)
            out = {"answer": a.name, "seconds": round(a.seconds, 2), "status": row["status"],
                   "loadavg_1m": load, "ours": row["text"], "bare_fw": theirs["text"],
                   "worker_cpu_s": row["worker_cpu_s"], "bare_fw_cpu_s": theirs["cpu_s"],
                   "stages_s": row["stage_seconds"]}
            if row["status"] == "ready":
                out["ready_after_last_chunk_s"] = round(
                    row["ready_at"].timestamp() - row["last_chunk"], 3)
            rows.append(out)
            log(f"{model} {a.name}: ready {out.get('ready_after_last_chunk_s')} s, "
                f"WER ours {wer([a.text], [row['text']])} bare {wer([a.text], [theirs['text']])}")
    finally:
        bench.close()
    cfg = bench.app.config if getattr(bench, "app", None) else {}
    if len(sets) == 1:
        return summarise(speech, rows, cfg)
    return {"all": summarise(speech, rows, cfg)} | {
        name: summarise(group, [r for r in rows if r["answer"] in {a.name for a in group}], cfg)
        for name, group in sets.items()}


def summarise(speech: list[Answer], rows: list[dict], cfg) -> dict:
    by_name = {a.name: a for a in speech}
    done = [r for r in rows if r["status"] == "ready"]
    refs = [by_name[r["answer"]].text for r in done]
    minutes = sum(r["seconds"] for r in done) / 60
    ours, bare = wer(refs, [r["ours"] for r in done]), wer(refs, [r["bare_fw"] for r in done])
    sixty = [r["ready_after_last_chunk_s"] for r in done if 55 <= r["seconds"] <= 65]
    return {
        "decoding": cfg.get("WHISPER_DECODING"), "early_chunks": cfg.get("EARLY_TRANSCRIBE_CHUNKS"),
        "answers": len(rows), "ready": len(done), "audio_minutes": round(minutes, 2),
        "wer_ours": ours, "wer_bare_fw": bare, "wer_ratio": round(ours / bare, 3) if bare else None,
        "ready_after_last_chunk_s": {
            "median_60s": round(statistics.median(sixty), 3) if sixty else None,
            "max_60s": max(sixty) if sixty else None, "answers_60s": len(sixty)},
        "cpu_s_per_audio_minute": {
            "ours_worker": round(sum(r["worker_cpu_s"] for r in done) / minutes, 2) if minutes else None,
            "bare_fw": round(sum(r["bare_fw_cpu_s"] for r in done) / minutes, 2) if minutes else None},
        "loadavg_1m": [r["loadavg_1m"] for r in rows],
        "per_answer": [{k: v for k, v in r.items() if k not in ("ours", "bare_fw")}
                       | {"wer_ours": wer([by_name[r["answer"]].text], [r["ours"]]),
                          "wer_bare_fw": wer([by_name[r["answer"]].text], [r["bare_fw"]])}
                       for r in done],
    }


def _describe(speech: list[Answer]) -> dict:
    return {"answers": len(speech), "audio_minutes": round(sum(a.seconds for a in speech) / 60, 2),
            "words": sum(len(a.text.split()) for a in speech),
            "speakers": sorted({s for a in speech for s in a.speakers})}


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="oneway-accuracy-"))
    result = {"machine": machine(args.models), "targets": TARGETS, "models": {}}
    code = 0
    try:
        root = fetch(CACHE / "speech")
        speech = answers(root, work / "set", args.answer_seconds,
                         None if args.minutes is None else args.minutes * 60)
        result["set"] = _describe(speech)
        sets = {"native": speech}
        if args.accented is not None:
            sets["accented"] = accented_answers(args.accented, work / "accented",
                                                args.answer_seconds, args.accented_minutes * 60)
            result["accented_set"] = _describe(sets["accented"]) | {
                "source": "speechocean762, adult speakers (Mandarin first language)"}
        if args.sources:
            from bench.accuracy_sources import sources

            few = answers(root, work / "sources", args.answer_seconds, args.sources * 60)
            result["sources"] = sources(few, work / "sources-work", CACHE / "models",
                                        args.models.split(",")[0], wer)
            if args.accented is not None:
                few = accented_answers(args.accented, work / "sources-accented",
                                       args.answer_seconds, args.sources * 60)
                result["sources_accented"] = sources(few, work / "sources-accented-work",
                                                     CACHE / "models", args.models.split(",")[0], wer)
        for model in [m for m in args.models.split(",") if m]:
            log(f"model {model}: {sum(map(len, sets.values()))} answers through the worker")
            result["models"][model] = through_worker(model, sets, work, args)
    except Exception as exc:
        code = 1
        log("benchmark failed:\n" + traceback.format_exc())
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["machine"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    import json

    print(json.dumps(result, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
