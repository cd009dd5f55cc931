"""Logits and greedy continuations from transformers itself (fp32, eager attention), the live
reference for psy's decoder families. Offline; run with .reference/venv/bin/python.

    hf_logits.py JOBS.json DATA_JSON [COUNT [GREEDY [POSITIONS]]]

JOBS.json: [{"name", "model", "tokenizer", "out"}, ...]: one Python process for every model (the
imports cost more than the tiny models).

Prompts: COUNT (default 20) client turns of Psy-Insight sessions (DATA_JSON, the v7 file), taken
from the last sessions of the file (the end a seeded split is least likely to train on; psy's
split is by session), each rendered as one user message with TOKENIZER_DIR's chat template
(add_generation_prompt) and tokenized by transformers, or plain-tokenized where the tokenizer has
no template. A turn is cut to 300 characters. Token ids >= the model's vocab_size (tiny random
checkpoints with a cut vocabulary) are folded into range with id % vocab_size.

Each job's "out" (.safetensors): for prompt i, "logits.i" [P, vocab] fp32 at "positions.i" [P] int64: POSITIONS
(default 8) positions spread over the prompt, the last one included (whole-vocabulary logits at
every position would be hundreds of MB for a real model).

stdout: one JSON object {"transformers", "jobs": {name: {"vocab_size", "prompts": [[ids]], "greedy": [[ids]]}}}:
GREEDY (default 64) new tokens per prompt by model.generate(do_sample=False) on all prompts as one
left-padded batch, EOS disabled so every row has GREEDY tokens.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

transformers.logging.set_verbosity_error()


def client_turns(data_path, count):
    with open(data_path, encoding="utf-8") as f:
        sessions = json.load(f)
    turns = []
    for session in reversed(sessions):
        for turn in session.get("dialog") or []:
            if turn.get("speaker") == "Seeker" and isinstance(turn.get("content"), str) and turn["content"].strip():
                turns.append(turn["content"].strip()[:300])
                break
        if len(turns) == count:
            break
    return turns


def main():
    jobs_path, data_path = sys.argv[1:3]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    greedy = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    n_positions = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)
    texts = client_turns(data_path, count)
    out = {"transformers": transformers.__version__, "jobs": {}}
    for job in jobs:
        start = time.time()
        out["jobs"][job["name"]] = run(job["model"], job["tokenizer"], texts, job["out"], greedy, n_positions)
        print(f"hf_logits: {job['name']}: {time.time() - start:.1f} s", file=sys.stderr)
    json.dump(out, sys.stdout)


def run(model_dir, tok_dir, texts, out_path, greedy, n_positions):
    torch.manual_seed(0)
    try:
        tok = AutoTokenizer.from_pretrained(tok_dir)
    except ImportError:
        # A folder whose config.json says mistral makes transformers try mistral-common's
        # tokenizer, whose dependencies the reference venv leaves out; tokenizer.json and
        # tokenizer_config.json (with the chat template) are read directly instead.
        tok = PreTrainedTokenizerFast.from_pretrained(tok_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    torch.set_num_threads(1)  # measured: 2 threads on the 2 shared cores of the test machine ran 10x slower
    vocab = model.config.vocab_size

    prompts = []
    for text in texts:
        if getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=True,
                                          add_generation_prompt=True, return_dict=False)
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
        else:
            ids = tok(text)["input_ids"]
        prompts.append([int(i) % vocab for i in ids])

    tensors = {}
    continuations = []
    gen = model.generation_config
    gen.eos_token_id = None
    gen.pad_token_id = 0
    gen.do_sample = False
    gen.temperature = None
    gen.top_p = None
    gen.top_k = None
    with torch.no_grad():
        for i, ids in enumerate(prompts):
            x = torch.tensor([ids], dtype=torch.long)
            logits = model(input_ids=x).logits[0].float()  # [T, V]
            t = len(ids)
            k = min(n_positions, t)
            positions = sorted({round(j * (t - 1) / max(1, k - 1)) for j in range(k)})
            pos = torch.tensor(positions, dtype=torch.long)
            tensors[f"logits.{i}"] = logits.index_select(0, pos).contiguous()
            tensors[f"positions.{i}"] = pos
        if greedy > 0 and prompts:
            # One left-padded batch (generate derives position ids from the attention mask).
            width = max(len(p) for p in prompts)
            x = torch.zeros((len(prompts), width), dtype=torch.long)
            mask = torch.zeros_like(x)
            for i, ids in enumerate(prompts):
                x[i, width - len(ids):] = torch.tensor(ids)
                mask[i, width - len(ids):] = 1
            out = model.generate(input_ids=x, attention_mask=mask, max_new_tokens=greedy, min_new_tokens=greedy,
                                 generation_config=gen)
            continuations = [[int(v) for v in row[width:]] for row in out]
    save_file(tensors, out_path)
    return {"vocab_size": vocab, "prompts": prompts, "greedy": continuations}


if __name__ == "__main__":
    main()
