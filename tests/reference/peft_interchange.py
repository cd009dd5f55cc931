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
"""
import json
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


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], sys.argv[3])
    elif cmd == "logits":
        model = PeftModel.from_pretrained(load_base(sys.argv[2]), sys.argv[3]).eval()
        write_logits(model, sys.argv[4], sys.argv[5])
    elif cmd == "merged":
        write_logits(load_base(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {cmd}")


main()
