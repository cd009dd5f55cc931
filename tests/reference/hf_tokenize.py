"""Token ids from Hugging Face `tokenizers` for a batch of texts (the reference psy's tokenizer.json
back end is compared with; see tests/text/test_tokenizer_json_live.cpp).

    hf_tokenize.py TOKENIZER_JSON TEXTS.jsonl [--transformers MODEL_DIR]

TEXTS.jsonl: one {"text": ...} per line. Prints one JSON line per text:
    {"hf": [...], "safe": [...], "decoded": "..."}
hf: tokenizer.encode(text).ids (added and special tokens in the text split out, post-processor
applied: what tokenizer(text)["input_ids"] gives); safe: the same with encode_special_tokens=True
and add_special_tokens=False (special tokens spelled in the text stay text); decoded: decode(safe)
with skip_special_tokens=False. With --transformers, also "tf": AutoTokenizer(MODEL_DIR)(text)["input_ids"].
Offline only.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tokenizers import Tokenizer  # noqa: E402


def main():
    path, texts_path = sys.argv[1], sys.argv[2]
    tf_dir = None
    if len(sys.argv) > 4 and sys.argv[3] == "--transformers":
        tf_dir = sys.argv[4]
    with open(texts_path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    hf = Tokenizer.from_file(path)
    safe = Tokenizer.from_file(path)
    safe.encode_special_tokens = True
    tf = None
    if tf_dir:
        from transformers import AutoTokenizer
        tf = AutoTokenizer.from_pretrained(tf_dir)
    out = sys.stdout
    for t in texts:
        row = {"hf": hf.encode(t).ids}
        s = safe.encode(t, add_special_tokens=False).ids
        row["safe"] = s
        row["decoded"] = safe.decode(s, skip_special_tokens=False)
        if tf is not None:
            row["tf"] = tf(t)["input_ids"]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
