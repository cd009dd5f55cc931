#!/usr/bin/env python3
"""Python baseline for bench/bench_tokenizer: Hugging Face `tokenizers` encoding the same texts,
one at a time on one thread (Tokenizer.encode, RAYON_NUM_THREADS=1), as tokenizer(text) does.

    tokenize_hf.py TOKENIZER_JSON TEXTS.jsonl RUNS

TEXTS.jsonl: one {"text": ...} per line. Loading is not timed. Prints one JSON object:
{"runs_s": [...], "median_s": ..., "tokens": N} (N: ids of the last run, post-processor included).
Run with the reference venv (.reference/venv/bin/python), offline.
"""
import json
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tokenizers import Tokenizer  # noqa: E402


def main():
    path, texts_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(texts_path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    tok = Tokenizer.from_file(path)
    times = []
    tokens = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        n = 0
        for t in texts:
            n += len(tok.encode(t).ids)
        times.append(time.perf_counter() - t0)
        tokens = n
    s = sorted(times)
    print(json.dumps({"runs_s": times, "median_s": s[len(s) // 2], "tokens": tokens}))


if __name__ == "__main__":
    main()
