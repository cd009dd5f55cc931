"""BERTScore with the real bert_score package on a JSONL file of pairs ("hyp", "ref").

usage: bert_score_pairs.py MODEL_DIR NUM_LAYERS PAIRS.jsonl [idf|no-idf ...]

For each idf setting: bert_score.score(hyps, refs, model_type=MODEL_DIR, num_layers=NUM_LAYERS,
idf=..., batch_size=64, return_hash=True) on the CPU, one thread. Prints JSON:
{"idf": {"P": [...], "R": [...], "F": [...], "hash": str, "seconds": s}, "no-idf": {...},
 "bert_score": version, "transformers": version}
"""
import json
import sys
import time

import torch

torch.set_num_threads(int(__import__("os").environ.get("PSY_REF_THREADS", "1")))

import bert_score  # noqa: E402
import transformers  # noqa: E402


def main():
    model, layers, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    modes = sys.argv[4:] or ["no-idf", "idf"]
    pairs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    hyps = [p["hyp"] for p in pairs]
    refs = [p["ref"] for p in pairs]
    out = {"bert_score": bert_score.__version__, "transformers": transformers.__version__}
    for mode in modes:
        t = time.perf_counter()
        (p, r, f), h = bert_score.score(hyps, refs, model_type=model, num_layers=layers, idf=(mode == "idf"),
                                       batch_size=64, device="cpu", return_hash=True)
        out[mode] = {"P": p.tolist(), "R": r.tolist(), "F": f.tolist(), "hash": h,
                     "seconds": time.perf_counter() - t}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
