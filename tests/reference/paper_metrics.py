"""The Psy-Insight paper's auto-eval recipe (its main.py, per pair) with the real packages.

usage: paper_metrics.py DATA.json LANG PAIRS_OUT.jsonl [METEOR_EVERY]

Pairs: every two consecutive therapist ("Supporter") turns of a session, hyp = the earlier turn,
ref = the next one (both non-empty strings). They are written to PAIRS_OUT.jsonl (id, hyp, ref) so
that psy scores exactly these pairs. Per pair, as main.py computes them:
  bleu1..4  nltk sentence_bleu([ref_jieba_ws], hyp_jieba_ws, (1/n,)*n, SmoothingFunction().method1)
  meteor    nltk meteor_score([list(jieba.cut(hyp))], list(jieba.cut(ref)))   (swapped, spaces kept)
  rougeL    rouge_score RougeScorer(["rougeL"], use_stemmer=False).score(ref, hyp) F  (raw strings;
            HF evaluate's rouge does exactly this per pair)
  rougeL_jieba  the same with jieba_ws tokens (psy's Chinese reconstruction)
Corpus: lsy641/distinct's recipe on the raw hypotheses (and on " ".join(jieba.cut(hyp))): sacrebleu's
Tokenizer13a, nltk ngrams padded on the left with "<s>", pooled; Distinct-n = unique / all; EAD
with V = 32000; then divided by the number of pairs like every other key of main.py.
METEOR runs on every METEOR_EVERY-th pair (default 1 = all; NLTK's METEOR is the slow part).
Prints one JSON object.
"""
import json
import os
import shutil
import sys
import tempfile

import jieba
import nltk
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from nltk.translate.meteor_score import meteor_score
from nltk.util import ngrams
from rouge_score import rouge_scorer
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

jieba.setLogLevel(60)


def wordnet_reader():
    # Debian's wordnet-base (/usr/share/wordnet) lacks NLTK's "lexnames" index; METEOR only needs
    # synsets and lemma names, so a copy of the folder plus a generated lexnames file will do (NLTK
    # 3.10 refuses symbolic links that leave the corpus root).
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    src = os.environ.get("PSY_WORDNET_DIR", "/usr/share/wordnet")
    tmp = tempfile.mkdtemp(prefix="psy-wn-")
    for name in os.listdir(src):
        shutil.copyfile(os.path.join(src, name), os.path.join(tmp, name))
    with open(os.path.join(tmp, "lexnames"), "w") as f:
        for i in range(45):
            f.write(f"{i:02d}\tlex{i}\t0\n")
    nltk.data.path.insert(0, tmp)

    class Reader(WordNetCorpusReader):
        # Debian's files carry no "WordNet 3.0 Copyright" line, so NLTK would try to map them to
        # 3.0 through its own wordnet download (for multilingual data only): skip that.
        def map_wn(self, version="3.0"):
            return {}

    return Reader(tmp, None)


def therapist_pairs(path):
    data = json.load(open(path, encoding="utf-8"))
    out = []
    for s_index, s in enumerate(data):
        turns = [t for t in s.get("dialog") or []
                 if t.get("speaker") == "Supporter" and isinstance(t.get("content"), str) and t["content"].strip()]
        for k in range(len(turns) - 1):
            out.append((f"{s.get('dialog_id', s_index)}:{k}", turns[k]["content"], turns[k + 1]["content"]))
    return out


def lsy641(hyps, vocab_size=32000):
    tok = Tokenizer13a()
    grams = {1: [], 2: [], 3: []}
    for h in hyps:
        t = tok(h).split()
        for n in (1, 2, 3):
            grams[n].extend(ngrams(t, n, pad_left=True, left_pad_symbol="<s>"))
    c = len(grams[1])
    d = {f"Distinct-{n}": len(set(grams[n])) / len(grams[n]) for n in (1, 2, 3)}
    d["Expectation-Adjusted-Distinct"] = len(set(grams[1])) / (vocab_size * (1 - ((vocab_size - 1) / vocab_size) ** c))
    return d


def main():
    data, lang, pairs_out = sys.argv[1], sys.argv[2], sys.argv[3]
    meteor_every = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    pairs = therapist_pairs(data)
    with open(pairs_out, "w", encoding="utf-8") as f:
        for pid, h, r in pairs:
            f.write(json.dumps({"id": pid, "hyp": h, "ref": r}, ensure_ascii=False) + "\n")
    wn = wordnet_reader() if meteor_every > 0 else None
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)

    class JiebaWs:
        def tokenize(self, text):
            return " ".join(jieba.cut(text)).split()

    jscorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=JiebaWs())
    chencherry = SmoothingFunction()
    rows = []
    for i, (pid, h, r) in enumerate(pairs):
        hj, rj = list(jieba.cut(h)), list(jieba.cut(r))
        hw, rw = " ".join(hj).split(), " ".join(rj).split()
        row = {"id": pid}
        for n in (1, 2, 3, 4):
            row[f"bleu{n}"] = float(sentence_bleu([rw], hw, weights=(1.0 / n,) * n, smoothing_function=chencherry.method1))
        if meteor_every > 0 and i % meteor_every == 0:
            row["meteor"] = float(meteor_score([hj], rj, wordnet=wn))
        row["rougeL"] = scorer.score(r, h)["rougeL"].fmeasure
        row["rougeL_jieba"] = jscorer.score(r, h)["rougeL"].fmeasure
        rows.append(row)
    hyps = [h for _, h, _ in pairs]
    out = {
        "lang": lang,
        "n_pairs": len(pairs),
        "nltk": nltk.__version__,
        "rows": rows,
        "distinct_raw": lsy641(hyps),
        "distinct_jieba_joined": lsy641([" ".join(jieba.cut(h)) for h in hyps]),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
