"""Renders conversations with transformers' own apply_chat_template (the live reference for psy's
Jinja chat templates). Offline; run with .reference/venv/bin/python.

    hf_chat_template.py JOBS.json OUT.json

JOBS.json: {"conversations": [[{"role", "content", ["reasoning_content"]}, ...], ...],
            "jobs": [{"name": str, "model_dir": str, "template_file": str or null}, ...]}
Every conversation is rendered by every job, with add_generation_prompt False and then True.
template_file (optional) replaces the folder's own template (passed as chat_template=..., so the
folder still supplies bos_token, eos_token, ...). "ids_stride": N also gives the ids of
apply_chat_template(..., tokenize=True) for every Nth conversation (null for the others).

OUT.json: {"transformers": version, "jobs": {name: {"texts": [[no_gen, gen], ...], "ids": [[...], ...]}}};
a rendering that raises gives {"error": message} in place of its text (and null ids).
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402


def main() -> None:
    jobs_path, out_path = sys.argv[1], sys.argv[2]
    with open(jobs_path, encoding="utf-8") as f:
        spec = json.load(f)
    conversations = spec["conversations"]
    out = {"transformers": transformers.__version__, "jobs": {}}
    for job in spec["jobs"]:
        tok = AutoTokenizer.from_pretrained(job["model_dir"])
        template = None
        if job.get("template_file"):
            with open(job["template_file"], encoding="utf-8") as f:
                template = f.read()
        texts, ids = [], []
        stride = job.get("ids_stride") or 0
        for index, conv in enumerate(conversations):
            pair, id_pair = [], []
            for agp in (False, True):
                try:
                    pair.append(tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=agp,
                                                        chat_template=template))
                    if stride and index % stride == 0:
                        id_pair.append(tok.apply_chat_template(conv, tokenize=True, add_generation_prompt=agp,
                                                               chat_template=template, return_dict=False))
                except Exception as e:  # the template's own raise_exception, etc.
                    pair.append({"error": f"{type(e).__name__}: {e}"})
                if len(id_pair) < len(pair):
                    id_pair.append(None)
            texts.append(pair)
            ids.append(id_pair)
        out["jobs"][job["name"]] = {"texts": texts}
        if stride:
            out["jobs"][job["name"]]["ids"] = ids
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
