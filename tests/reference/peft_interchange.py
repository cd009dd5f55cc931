"""PEFT's side of psy's adapter interchange tests (tests/interchange/test_peft_interchange.cpp).

  peft_interchange.py make BASE OUT
      Writes OUT/inputs.json (token ids in psy logits' input form) and, for each LoRA config in
      CONFIGS, an adapter made by PEFT itself with random A and B (init_lora_weights=False,
      seeded) in OUT/<name>/, plus OUT/<name>.expected.safetensors: PeftModel's logits
      (fp32, eager attention) for the inputs, as "logits.<b>" [T, vocab]. OUT/configs.json lists
      the names and which ones psy must refuse.
  peft_interchange.py logits BASE ADAPTER INPUTS OUT
      PeftModel.from_pretrained(BASE, ADAPTER) logits for INPUTS, written to OUT the same way:
      the check that an adapter psy wrote loads in PEFT unchanged.
  peft_interchange.py merged MODEL INPUTS OUT
      Plain transformers logits of MODEL (e.g. psy merge's output), written the same way.
  peft_interchange.py bf16-copy MODEL OUT
      MODEL saved again with bf16 weights (config and tokenizer files copied): a bf16 base.
  peft_interchange.py fit-vocab MODEL OUT
      MODEL with its embeddings resized to its tokenizer's vocabulary (transformers'
      resize_token_embeddings), saved with the tokenizer files: a tiny model psy can train.
  peft_interchange.py batch JOBS
      Runs each command of JOBS (a JSON list of argument lists) in this one process.
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CONFIGS = [
    # name, LoraConfig kwargs, psy must refuse it
    ("r8_a16_all", dict(r=8, lora_alpha=16, target_modules=ALL), False),
    ("r4_a32_rslora_qv", dict(r=4, lora_alpha=32, use_rslora=True, target_modules=["q_proj", "v_proj"]), False),
    ("r16_a8_all_lm_head", dict(r=16, lora_alpha=8, target_modules=ALL + ["lm_head"]), False),
    ("r2_a2_o_down", dict(r=2, lora_alpha=2, target_modules=["o_proj", "down_proj"]), False),
    ("all_linear", dict(r=4, lora_alpha=8, target_modules="all-linear"), False),
    ("modules_to_save", dict(r=4, lora_alpha=8, target_modules=["q_proj"], modules_to_save=["lm_head"]), True),
    ("dora", dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], use_dora=True), True),
]


def load_base(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()


def write_logits(model, inputs_file, out):
    ids = json.loads(Path(inputs_file).read_text())["input_ids"]
    tensors = {}
    with torch.no_grad():
        for b, row in enumerate(ids):
            logits = model(torch.tensor([row])).logits[0].float()
            tensors[f"logits.{b}"] = logits.contiguous()
    save_file(tensors, out)


def make(base, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_base(base)
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(66)
    ids = torch.randint(3, vocab, (2, 12), generator=g).tolist()
    (out / "inputs.json").write_text(json.dumps({"input_ids": ids}))
    listed = []
    for name, kwargs, refused in CONFIGS:
        torch.manual_seed(66)
        peft_model = get_peft_model(load_base(base), LoraConfig(init_lora_weights=False, lora_dropout=0.0, **kwargs))
        peft_model.eval()
        peft_model.save_pretrained(out / name)
        write_logits(peft_model, out / "inputs.json", str(out / f"{name}.expected.safetensors"))
        listed.append({"name": name, "refused": refused})
    (out / "configs.json").write_text(json.dumps(listed))


def bf16_copy(model_dir, out):
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    model.save_pretrained(out)
    copy_tokenizer_files(model_dir, out)


def copy_tokenizer_files(model_dir, out):
    for f in Path(model_dir).iterdir():
        if f.name.startswith("tokenizer") or f.name == "special_tokens_map.json":
            shutil.copy(f, Path(out) / f.name)


def fit_vocab(model_dir, out):
    from transformers import AutoTokenizer
    torch.manual_seed(66)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.resize_token_embeddings(len(AutoTokenizer.from_pretrained(model_dir)))
    model.save_pretrained(out)
    copy_tokenizer_files(model_dir, out)


def run(args):
    cmd = args[0]
    if cmd == "make":
        make(args[1], args[2])
    elif cmd == "logits":
        model = PeftModel.from_pretrained(load_base(args[1]), args[2]).eval()
        write_logits(model, args[3], args[4])
    elif cmd == "merged":
        write_logits(load_base(args[1]), args[2], args[3])
    elif cmd == "bf16-copy":
        bf16_copy(args[1], args[2])
    elif cmd == "fit-vocab":
        fit_vocab(args[1], args[2])
    elif cmd == "batch":
        for job in json.loads(Path(args[1]).read_text()):
            run(job)
    else:
        sys.exit(f"unknown command {cmd}")


run(sys.argv[1:])
