#!/usr/bin/env python3
"""Python baseline for bench/bench_lexical_metrics with the real reference packages (the venv of
scripts/setup-reference.sh: NLTK, rouge_score 0.1.2, sacrebleu 2.x), on the same pairs (JSON Lines
with "hyp" and "ref"), the standard protocol in English:
  BLEU-1..4  nltk sentence_bleu([ref], hyp, (1/n,)*n, SmoothingFunction().method1), whitespace tokens
  METEOR     nltk meteor_score([ref], hyp) with NLTK's WordNet reader over Debian's /usr/share/wordnet
  ROUGE      rouge_score RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"]).score(ref, hyp), F
  sacreBLEU  sacrebleu BLEU() (13a, exp smoothing).corpus_score(hyps, [refs])
  Distinct-2 plain corpus Distinct-2 over whitespace tokens
Prints one JSON object: per-run seconds and CPU seconds (scoring only; WordNet loaded before timing)
and the corpus values.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings


def load_wordnet(src):
    # Debian's files lack NLTK's "lexnames" index (METEOR does not use the names) and the
    # "WordNet 3.0 Copyright" line NLTK maps versions by; NLTK 3.10 refuses links out of the root.
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    scratch = tempfile.mkdtemp(prefix="psy-wn-")
    for name in os.listdir(src):
        shutil.copyfile(os.path.join(src, name), os.path.join(scratch, name))
    with open(os.path.join(scratch, "lexnames"), "w") as f:
        for i in range(45):
            f.write(f"{i:02d}\tlex{i}\t0\n")
    nltk.data.path.insert(0, scratch)

    class Reader(WordNetCorpusReader):
        def map_wn(self, version="3.0"):
            return {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wn = Reader(scratch, None)
    wn.synsets("dog")
    return wn


def score(pairs, wn):
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from nltk.translate.meteor_score import meteor_score
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU
    sf = SmoothingFunction().method1
    rs = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=False)
    names = ["bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge1", "rouge2", "rougeL", "rougeLsum"]
    sums = dict.fromkeys(names, 0.0)
    bigrams, total2 = set(), 0
    for hyp, ref in pairs:
        h, r = hyp.split(), ref.split()
        for n in range(1, 5):
            sums["bleu%d" % n] += sentence_bleu([r], h, weights=(1 / n,) * n, smoothing_function=sf)
        sums["meteor"] += meteor_score([r], h, wordnet=wn)
        s = rs.score(ref, hyp)
        for k in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            sums[k] += s[k].fmeasure
        grams = list(zip(h, h[1:]))
        bigrams.update(grams)
        total2 += len(grams)
    out = {k: v / len(pairs) for k, v in sums.items()}
    out["sacrebleu"] = BLEU().corpus_score([p[0] for p in pairs], [[p[1] for p in pairs]]).score
    out["distinct2"] = len(bigrams) / total2 if total2 else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--wordnet", default=os.environ.get("PSY_WORDNET_DIR", "/usr/share/wordnet"))
    a = ap.parse_args()
    pairs = []
    with open(a.pairs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                pairs.append((d["hyp"], d["ref"]))
    t0 = time.perf_counter()
    wn = load_wordnet(a.wordnet)
    load_s = time.perf_counter() - t0
    import nltk
    import rouge_score  # noqa: F401
    import sacrebleu
    seconds, cpu_seconds, values = [], [], None
    for _ in range(a.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        values = score(pairs, wn)
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
    print(json.dumps({"nltk": nltk.__version__ + ", rouge_score 0.1.2, sacrebleu " + sacrebleu.__version__,
                      "python": sys.version.split()[0], "pairs": len(pairs), "wordnet_load_s": load_s,
                      "seconds": seconds, "cpu_seconds": cpu_seconds, "values": values}))


if __name__ == "__main__":
    main()
