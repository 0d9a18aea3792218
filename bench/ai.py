"""AI evaluation figures (issue 18), one JSON object: per_answer_s for a 60 s answer, schema and
verbatim-quote shares, spearman against the labelled set (bench/data/ai_labelled.json), length_bias
within each label, consistency across reruns and name_invariance.

    .venv/bin/python bench/ai.py                        # the embedded default, 2 threads
    .venv/bin/python bench/ai.py --model smollm2-135m-instruct-q4_1 --limit 6
    .venv/bin/python bench/ai.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5:7b
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ai import AIError, backends, evaluation  # noqa: E402
from app.ai.model_files import QWEN  # noqa: E402
from app.services.ai_evaluation import spearman  # noqa: E402

RANK = {"weak": 1, "medium": 2, "strong": 3}


def _answer(question: dict, text: str, name: str = "Candidate"):
    """An answer shaped like the stored one (the job reads it the same way), with a candidate name
    that must not matter."""
    q = SimpleNamespace(prompt=question["prompt"], ideal_answer=question["ideal_answer"],
                        criteria=question.get("criteria"))
    return SimpleNamespace(question=q, transcript_text=text, candidate=SimpleNamespace(name=name))


def _run(backend, answer) -> dict:
    request = evaluation.for_answer(backend.model, answer)
    began = time.perf_counter()
    raw = backend.complete(request.messages, request.schema, 700)
    seconds = time.perf_counter() - began
    out = {"seconds": round(seconds, 2), "raw": raw, "hash": request.input_hash}
    try:
        result = evaluation.validate(raw, answer.transcript_text, True)
    except AIError as exc:
        out.update(valid=False, error=str(exc))
        try:
            quotes = json.loads(raw).get("quotes") or []
        except ValueError:
            quotes = []
    else:
        out.update(valid=True, mean=result.mean, scores=result.scores)
        quotes = result.quotes
    out["quotes"] = len(quotes)
    out["verbatim"] = sum(1 for q in quotes if isinstance(q, str) and q in answer.transcript_text)
    return out


def _length_bias(rows: list[dict]) -> dict:
    found = {}
    for label in RANK:
        same = [r for r in rows if r["label"] == label and r.get("valid")]
        found[label] = spearman([r["words"] for r in same], [r["mean"] for r in same])
    values = [v for v in found.values() if v is not None]
    return {"by_label": found, "mean": round(sum(values) / len(values), 3) if values else None}


def _labelled(backend, data: dict, limit: int | None) -> list[dict]:
    rows = []
    for question in data["questions"]:
        for item in question["answers"]:
            if limit is not None and len(rows) >= limit:
                return rows
            out = _run(backend, _answer(question, item["text"]))
            rows.append({**out, "question": question, "label": item["label"], "text": item["text"],
                         "words": len(item["text"].split())})
            print(f"{question['id']:>12} {item['label']:>6}: {out.get('mean', 'invalid')} "
                  f"in {out['seconds']}s", file=sys.stderr, flush=True)
    return rows


def _figures(rows: list[dict]) -> dict:
    valid = [r for r in rows if r.get("valid")]
    quotes = sum(r["quotes"] for r in rows)
    per_criterion = {c: spearman([RANK[r["label"]] for r in valid], [r["scores"][c] for r in valid])
                     for c in evaluation.CRITERIA}
    return {
        "answers": len(rows),
        "schema_valid_share": round(len(valid) / len(rows), 3) if rows else None,
        "quote_verbatim_share": round(sum(r["verbatim"] for r in rows) / quotes, 3) if quotes else None,
        "spearman": spearman([RANK[r["label"]] for r in valid], [r["mean"] for r in valid]),
        "spearman_by_criterion": per_criterion,
        "length_bias": _length_bias(rows),
        "mean_by_label": {label: round(sum(r["mean"] for r in valid if r["label"] == label)
                                       / max(1, sum(1 for r in valid if r["label"] == label)), 2)
                          for label in RANK},
        "mean_answer_s": round(sum(r["seconds"] for r in rows) / len(rows), 2) if rows else None,
    }


def _invariance(backend, data: dict) -> dict:
    """The same transcript under different candidate names: the same request, the same output."""
    question = data["questions"][0]
    text = question["answers"][0]["text"]
    outs = [_run(backend, _answer(question, text, name)) for name in data["names"][:2]]
    hashes = {evaluation.for_answer(backend.model, _answer(question, text, n)).input_hash
              for n in data["names"]}
    return {"name_invariance": len(hashes) == 1 and outs[0]["raw"] == outs[1]["raw"],
            "names_tried": len(data["names"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("LLM_MODEL") or QWEN)
    parser.add_argument("--base-url", default=os.environ.get("LLM_BASE_URL", ""))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N labelled answers")
    parser.add_argument("--reruns", type=int, default=3, help="answers evaluated twice for consistency")
    parser.add_argument("--cache", default=os.environ.get("MODEL_CACHE_DIR", str(ROOT / "var" / "models")))
    args = parser.parse_args()
    cfg = {"LLM_BASE_URL": args.base_url, "LLM_MODEL": args.model, "LLM_THREADS": args.threads,
           "LLM_API_KEY": os.environ.get("LLM_API_KEY"), "MODEL_CACHE_DIR": args.cache}
    backend = backends.from_config(cfg)
    data = json.loads((ROOT / "bench" / "data" / "ai_labelled.json").read_text())
    timing = data["timing_answer"]
    timed_q = next(q for q in data["questions"] if q["id"] == timing["question"])
    began = time.perf_counter()
    _run(backend, _answer(timed_q, "Warm-up: I load the model once."))
    load_s = time.perf_counter() - began
    timed = _run(backend, _answer(timed_q, timing["text"]))
    rows = _labelled(backend, data, args.limit)
    again = [_run(backend, _answer(r["question"], r["text"])) for r in rows[:args.reruns]]
    same = sum(1 for a, r in zip(again, rows, strict=False) if a["raw"] == r["raw"])
    print(json.dumps({
        "model": backend.model, "threads": args.threads, "prompt_version": evaluation.PROMPT_VERSION,
        "backend": type(backend).__name__, "load_and_warm_s": round(load_s, 2),
        "per_answer_s": timed["seconds"], "per_answer_words": len(timing["text"].split()),
        **_figures(rows), "rerun_identical_share": round(same / len(again), 3) if again else None,
        **_invariance(backend, data),
    }, indent=2))


if __name__ == "__main__":
    main()
