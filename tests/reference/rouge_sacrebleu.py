"""ROUGE (rouge_score) and corpus BLEU (sacrebleu) on a JSONL file of pairs ("hyp", "ref").

usage: rouge_sacrebleu.py PAIRS.jsonl LANG [PAIRS.jsonl LANG ...]

Prints a JSON list, one object per (file, language):
  rouge: {variant: [[r1p, r1r, r1f, r2p, r2r, r2f, Lp, Lr, Lf, Lsum_p, Lsum_r, Lsum_f] per pair]}
         variants: en: "nostem", "stem" (rouge_score's default tokenizer);
                   zh: "jieba" (" ".join(jieba.cut(t)).split()), "char" (list("".join(t.split())))
         scorer.score(ref, hyp) with rouge types rouge1, rouge2, rougeL, rougeLsum.
  sacrebleu: {"TOK/SMOOTH[/VALUE]": {"score": corpus BLEU, "signature": str(metric.get_signature())}}
         BLEU(tokenize=TOK, smooth_method=SMOOTH, smooth_value=VALUE).corpus_score(hyps, [refs])
  version: sacrebleu.__version__
"""
import json
import sys

import jieba
import sacrebleu
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

jieba.setLogLevel(60)
TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


class JiebaWs:
    def tokenize(self, text):
        return " ".join(jieba.cut(text)).split()


class Chars:
    def tokenize(self, text):
        return list("".join(text.split()))


def one(path, lang):
    pairs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    hyps = [p["hyp"] for p in pairs]
    refs = [p["ref"] for p in pairs]
    if lang == "en":
        scorers = {"nostem": rouge_scorer.RougeScorer(TYPES, use_stemmer=False),
                   "stem": rouge_scorer.RougeScorer(TYPES, use_stemmer=True)}
    else:
        scorers = {"jieba": rouge_scorer.RougeScorer(TYPES, tokenizer=JiebaWs()),
                   "char": rouge_scorer.RougeScorer(TYPES, tokenizer=Chars())}
    rouge = {}
    for name, sc in scorers.items():
        rows = []
        for h, r in zip(hyps, refs):
            s = sc.score(r, h)
            row = []
            for t in TYPES:
                row += [float(s[t].precision), float(s[t].recall), float(s[t].fmeasure)]
            rows.append(row)
        rouge[name] = rows
    bleu = {}
    for tok in ("13a", "zh"):
        for smooth, value in (("exp", None), ("floor", None), ("add-k", None), ("none", None),
                              ("floor", 0.2), ("add-k", 2.0)):
            m = BLEU(tokenize=tok, smooth_method=smooth, smooth_value=value)
            score = m.corpus_score(hyps, [refs])
            key = f"{tok}/{smooth}" + ("" if value is None else f"/{value}")
            bleu[key] = {"score": float(score.score), "signature": str(m.get_signature())}
    return {"rouge": rouge, "sacrebleu": bleu, "version": sacrebleu.__version__}


def main():
    args = sys.argv[1:]
    json.dump([one(args[i], args[i + 1]) for i in range(0, len(args), 2)], sys.stdout)


if __name__ == "__main__":
    main()
