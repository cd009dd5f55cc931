"""Sentence embeddings from sentence-transformers itself (the live reference for psy's
SentenceEncoder). Offline; run with .reference/venv/bin/python.

    st_embeddings.py MODEL_DIR TEXTS.json OUT.json

TEXTS.json: a list of strings. OUT.json: {"sentence_transformers": version,
"max_seq_length": int, "embeddings": [[float, ...], ...]} in input order (float32 values, as
SentenceTransformer.encode returns them, with the model's own modules: pooling, Normalize).
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main() -> None:
    model_dir, texts_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(1)
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    model = SentenceTransformer(model_dir, device="cpu")
    emb = model.encode(texts, batch_size=32, convert_to_numpy=True)
    out = {"sentence_transformers": sentence_transformers.__version__,
           "max_seq_length": model.max_seq_length,
           "embeddings": [[float(x) for x in row] for row in emb]}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
