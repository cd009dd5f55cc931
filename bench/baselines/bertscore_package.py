#!/usr/bin/env python3
"""Baseline for bench_bertscore: the real bert_score package (.reference/venv) on the same pairs
and encoder as psy's BertScorer.

usage: bertscore_package.py MODEL_DIR NUM_LAYERS PAIRS.jsonl OUT.json [--runs N] [--threads T] [--idf]

A bert_score.BERTScorer(model_type=MODEL_DIR, num_layers=NUM_LAYERS, idf=..., batch_size=64) is
built once (model loading is not timed; with --idf the idf weights come from the references, as
score() does); each run times scorer.score(hyps, refs) (tokenisation, embedding, greedy matching).
torch uses T threads. Writes {"median_s", "runs_s", "median_cpu_s", "P", "R", "F", "hash",
"bert_score", "torch"} to OUT.json.
"""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("layers", type=int)
    ap.add_argument("pairs")
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--idf", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    import bert_score
    pairs = [json.loads(l) for l in open(a.pairs, encoding="utf-8") if l.strip()]
    hyps = [p["hyp"] for p in pairs]
    refs = [p["ref"] for p in pairs]
    scorer = bert_score.BERTScorer(model_type=a.model, num_layers=a.layers, idf=a.idf,
                                   idf_sents=refs if a.idf else None, batch_size=64, device="cpu")
    secs, cpu = [], []
    for _ in range(a.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        p, r, f = scorer.score(hyps, refs)
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    json.dump({"median_s": statistics.median(secs), "runs_s": secs, "median_cpu_s": statistics.median(cpu),
               "P": p.tolist(), "R": r.tolist(), "F": f.tolist(), "hash": scorer.hash,
               "bert_score": bert_score.__version__, "torch": torch.__version__}, open(a.out, "w"))


if __name__ == "__main__":
    main()
