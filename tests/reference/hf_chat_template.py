"""Renders conversations with transformers' own apply_chat_template (the live reference for psy's
Jinja chat templates). Offline; run with .reference/venv/bin/python.

    hf_chat_template.py JOBS.json OUT.json

JOBS.json: {"conversations": [[{"role", "content", ["reasoning_content"]}, ...], ...],
            "jobs": [{"name": str, "model_dir": str, "template_file": str or null}, ...]}
Every conversation is rendered by every job, with add_generation_prompt False and then True.
template_file (optional) replaces the folder's own template (passed as chat_template=..., so the
folder still supplies bos_token, eos_token, ...).

OUT.json: {"transformers": version, "jobs": {name: {"texts": [[no_gen, gen], ...]}}}; a
rendering that raises gives {"error": message} in place of its text.
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
        texts = []
        for conv in conversations:
            pair = []
            for agp in (False, True):
                try:
                    pair.append(tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=agp,
                                                        chat_template=template))
                except Exception as e:  # the template's own raise_exception, etc.
                    pair.append({"error": f"{type(e).__name__}: {e}"})
            texts.append(pair)
        out["jobs"][job["name"]] = {"texts": texts}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
