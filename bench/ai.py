"""AI evaluation figures (issue 18), one JSON object: per_answer_s for a 60 s answer, schema and
verbatim-quote shares, spearman against the labelled set (bench/data/ai_labelled.json), length_bias
within each label, consistency across reruns and name_invariance.

    .venv/bin/python bench/ai.py                        # the embedded default, 2 threads
    .venv/bin/python bench/ai.py --model smollm2-135m-instruct-q4_1 --limit 6
    .venv/bin/python bench/ai.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5:7b
    .venv/bin/python bench/ai.py --subset 12 --prompt eval-1 --reruns 0   # 4 answers a label
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


def _run(backend, answer, version: str) -> dict:
    request = evaluation.for_answer(backend.model, answer, version)
    began = time.perf_counter()
    raw = backend.complete(request.messages, request.schema, 700, evaluation.PROMPTS[version].weighted)
    seconds = time.perf_counter() - began
    out = {"seconds": round(seconds, 2), "raw": raw, "hash": request.input_hash, **_tokens(backend, raw)}
    try:
        result = evaluation.validate(raw, answer.transcript_text, True, version)
    except AIError as exc:
        out.update(valid=False, error=str(exc))
        try:
            quotes = json.loads(raw).get("quotes") or []
        except ValueError:
            quotes = []
    else:
        out.update(valid=True, mean=result.mean, scores=result.scores, expected=result.expected,
                   whole_mean=sum(result.scores.values()) / len(result.scores))
        quotes = result.quotes
    out["quotes"] = len(quotes)
    out["verbatim"] = sum(1 for q in quotes if isinstance(q, str) and q in answer.transcript_text)
    return out


def _tokens(backend, raw: str) -> dict:
    """The reply's length in the local model's tokens (what generation time grows with, whatever
    the machine's load), else in characters."""
    if isinstance(backend, backends.LocalBackend):
        llm = backends._llama(backend.path, backend.threads, backend.n_ctx)
        return {"reply_tokens": len(llm.tokenize(raw.encode(), add_bos=False, special=False))}
    return {"reply_chars": len(raw)}


def _length_bias(rows: list[dict]) -> dict:
    found = {}
    for label in RANK:
        same = [r for r in rows if r["label"] == label and r.get("valid")]
        found[label] = spearman([r["words"] for r in same], [r["mean"] for r in same])
    values = [v for v in found.values() if v is not None]
    return {"by_label": found, "mean": round(sum(values) / len(values), 3) if values else None}


def _chosen(data: dict, limit: int | None, subset: int | None) -> list[tuple[dict, dict]]:
    """(question, answer) pairs to evaluate: all, the first `limit`, or a `subset` balanced by label
    (one answer of each label per question, question by question; the second of each label on every
    other question, so both answers of a label are drawn on)."""
    pairs = [(q, a) for q in data["questions"] for a in q["answers"]]
    if subset is None:
        return pairs[:limit] if limit is not None else pairs
    chosen = []
    for n, question in enumerate(data["questions"]):
        for label in RANK:
            same = [a for a in question["answers"] if a["label"] == label]
            chosen.append((question, same[n % len(same)]))
    per_label = subset // len(RANK)
    kept = {label: [p for p in chosen if p[1]["label"] == label][:per_label] for label in RANK}
    return [p for p in chosen if p in kept[p[1]["label"]]]


def _labelled(backend, pairs: list[tuple[dict, dict]], version: str) -> list[dict]:
    rows = []
    for question, item in pairs:
        out = _run(backend, _answer(question, item["text"]), version)
        rows.append({**out, "question": question, "label": item["label"], "text": item["text"],
                     "words": len(item["text"].split())})
        print(f"{question['id']:>12} {item['label']:>6}: {out.get('scores', 'invalid')} "
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
        # The same replies ranked by the digits written (what an unweighted version scores).
        "spearman_whole_scores": spearman([RANK[r["label"]] for r in valid],
                                          [r["whole_mean"] for r in valid]),
        "weighted_share": (round(sum(1 for r in valid if r.get("expected")) / len(valid), 3)
                           if valid else None),
        "spearman_by_criterion": per_criterion,
        "length_bias": _length_bias(rows),
        "mean_by_label": {label: round(sum(r["mean"] for r in valid if r["label"] == label)
                                       / max(1, sum(1 for r in valid if r["label"] == label)), 2)
                          for label in RANK},
        "mean_answer_s": round(sum(r["seconds"] for r in rows) / len(rows), 2) if rows else None,
        "mean_reply_tokens": round(sum(r.get("reply_tokens", 0) for r in rows) / len(rows)) if rows else None,
    }


def _invariance(backend, data: dict, version: str) -> dict:
    """The same transcript under different candidate names: the same request, the same output."""
    question = data["questions"][0]
    text = question["answers"][0]["text"]
    outs = [_run(backend, _answer(question, text, name), version) for name in data["names"][:2]]
    hashes = {evaluation.for_answer(backend.model, _answer(question, text, n), version).input_hash
              for n in data["names"]}
    return {"name_invariance": len(hashes) == 1 and outs[0]["raw"] == outs[1]["raw"],
            "names_tried": len(data["names"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("LLM_MODEL") or QWEN)
    parser.add_argument("--base-url", default=os.environ.get("LLM_BASE_URL", ""))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N labelled answers")
    parser.add_argument("--subset", type=int, default=None,
                        help="N labelled answers balanced by label (N/3 strong, medium and weak)")
    parser.add_argument("--prompt", default=evaluation.PROMPT_VERSION, choices=sorted(evaluation.PROMPTS),
                        help="the prompt version to evaluate with")
    parser.add_argument("--no-invariance", action="store_true", help="skip the name-invariance runs")
    parser.add_argument("--reruns", type=int, default=3, help="answers evaluated twice for consistency")
    parser.add_argument("--cache", default=os.environ.get("MODEL_CACHE_DIR", str(ROOT / "var" / "models")))
    args = parser.parse_args()
    cfg = {"LLM_BASE_URL": args.base_url, "LLM_MODEL": args.model, "LLM_THREADS": args.threads,
           "LLM_API_KEY": os.environ.get("LLM_API_KEY"), "MODEL_CACHE_DIR": args.cache}
    backend = backends.from_config(cfg)
    data = json.loads((ROOT / "bench" / "data" / "ai_labelled.json").read_text())
    timing = data["timing_answer"]
    timed_q = next(q for q in data["questions"] if q["id"] == timing["question"])
    load_before = os.getloadavg()
    began = time.perf_counter()
    _run(backend, _answer(timed_q, "Warm-up: I load the model once."), args.prompt)
    load_s = time.perf_counter() - began
    timed = _run(backend, _answer(timed_q, timing["text"]), args.prompt)
    rows = _labelled(backend, _chosen(data, args.limit, args.subset), args.prompt)
    again = [_run(backend, _answer(r["question"], r["text"]), args.prompt) for r in rows[:args.reruns]]
    same = sum(1 for a, r in zip(again, rows, strict=False) if a["raw"] == r["raw"])
    invariance = {} if args.no_invariance else _invariance(backend, data, args.prompt)
    print(json.dumps({
        "model": backend.model, "threads": args.threads, "prompt_version": args.prompt,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "backend": type(backend).__name__, "load_and_warm_s": round(load_s, 2),
        "per_answer_s": timed["seconds"], "per_answer_words": len(timing["text"].split()),
        "per_answer_reply_tokens": timed.get("reply_tokens"),
        **_figures(rows), "rerun_identical_share": round(same / len(again), 3) if again else None,
        **invariance,
        "answers_evaluated": [{"question": r["question"]["id"], "label": r["label"], "words": r["words"],
                               "scores": r.get("scores"), "expected": r.get("expected"),
                               "seconds": r["seconds"],
                               "reply_tokens": r.get("reply_tokens")} for r in rows],
    }, indent=2))


if __name__ == "__main__":
    main()
