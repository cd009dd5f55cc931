#!/usr/bin/env python3
"""Python baseline for bench/bench_lexical_metrics: the same metrics with the reference
implementations, on the same pairs (JSON Lines with "hyp" and "ref").

  BLEU-1..4  nltk.translate.bleu_score.sentence_bleu (SmoothingFunction().method1), whitespace tokens
  METEOR     nltk.translate.meteor_score.meteor_score([ref], hyp) with NLTK's WordNet reader over
             Debian's /usr/share/wordnet (plus the standard lexnames file NLTK 3.8 insists on)
  ROUGE-L    rouge_score is not packaged in Debian, so its ROUGE-L is re-implemented here line for
             line (tokenize.py's default tokenizer, rouge_scorer._score_lcs with the full LCS table)
  Distinct-2 plain corpus Distinct-2 over whitespace tokens (set of bigrams / number of bigrams)

Prints one JSON object: per-run seconds (scoring only, WordNet loaded before timing) and the means.
Needs python3-nltk (Debian): apt-get install python3-nltk.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time

LEXNAMES = """adj.all 3
adj.pert 3
adv.all 4
noun.Tops 1
noun.act 1
noun.animal 1
noun.artifact 1
noun.attribute 1
noun.body 1
noun.cognition 1
noun.communication 1
noun.event 1
noun.feeling 1
noun.food 1
noun.group 1
noun.location 1
noun.motive 1
noun.object 1
noun.person 1
noun.phenomenon 1
noun.plant 1
noun.possession 1
noun.process 1
noun.quantity 1
noun.relation 1
noun.shape 1
noun.state 1
noun.substance 1
noun.time 1
verb.body 2
verb.change 2
verb.cognition 2
verb.communication 2
verb.competition 2
verb.consumption 2
verb.contact 2
verb.creation 2
verb.emotion 2
verb.motion 2
verb.perception 2
verb.possession 2
verb.social 2
verb.stative 2
verb.weather 2
adj.ppl 3""".splitlines()


def load_wordnet(src):
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    scratch = tempfile.mkdtemp(prefix="psy-wn-")
    for name in os.listdir(src):
        os.symlink(os.path.join(src, name), os.path.join(scratch, name))
    if not os.path.exists(os.path.join(scratch, "lexnames")):
        with open(os.path.join(scratch, "lexnames"), "w") as f:
            for i, line in enumerate(LEXNAMES):
                name, cat = line.split()
                f.write("%02d\t%s\t%s\n" % (i, name, cat))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wn = WordNetCorpusReader(scratch, None)
    wn.synsets("dog")  # force loading before timing
    return wn


# rouge_score 0.1.2 tokenize.py (default tokenizer, no stemmer) and rouge_scorer._score_lcs.
NON_ALNUM = re.compile(r"[^a-z0-9]+")
SPACES = re.compile(r"\s+")
VALID = re.compile(r"^[a-z0-9]+$")


def rouge_tokenize(text):
    text = NON_ALNUM.sub(" ", text.lower())
    return [x for x in SPACES.split(text) if VALID.match(x)]


def lcs_table(ref, can):
    rows, cols = len(ref), len(can)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if ref[i - 1] == can[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table


def rouge_l_f(target, prediction):
    t, p = rouge_tokenize(target), rouge_tokenize(prediction)
    if not t or not p:
        return 0.0
    lcs = lcs_table(t, p)[-1][-1]
    prec, rec = lcs / len(p), lcs / len(t)
    return 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0


def score(pairs, wn):
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from nltk.translate.meteor_score import meteor_score
    sf = SmoothingFunction().method1
    sums = {"bleu1": 0.0, "bleu2": 0.0, "bleu3": 0.0, "bleu4": 0.0, "meteor": 0.0, "rougeL": 0.0}
    bigrams, total2 = set(), 0
    for hyp, ref in pairs:
        h, r = hyp.split(), ref.split()
        for n in range(1, 5):
            sums["bleu%d" % n] += sentence_bleu([r], h, weights=(1 / n,) * n, smoothing_function=sf)
        sums["meteor"] += meteor_score([r], h, wordnet=wn)
        sums["rougeL"] += rouge_l_f(ref, hyp)
        grams = list(zip(h, h[1:]))
        bigrams.update(grams)
        total2 += len(grams)
    out = {k: v / len(pairs) for k, v in sums.items()}
    out["distinct2"] = len(bigrams) / total2 if total2 else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--runs", type=int, default=3)
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
    seconds, cpu_seconds, values = [], [], None
    for _ in range(a.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        values = score(pairs, wn)
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
    print(json.dumps({"nltk": nltk.__version__, "python": sys.version.split()[0], "pairs": len(pairs),
                      "wordnet_load_s": load_s, "seconds": seconds, "cpu_seconds": cpu_seconds, "values": values}))


if __name__ == "__main__":
    main()
