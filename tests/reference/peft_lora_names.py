"""The tensor names and shapes PEFT writes in adapter_model.safetensors for a LoRA on a model
folder (the live reference for psy's adapter writer). Offline; run with .reference/venv/bin/python.

    peft_lora_names.py MODEL_DIR R TARGET [TARGET ...]

stdout: one JSON object {"peft": version, "tensors": {name: [shape...]}} from PEFT's own
get_peft_model_state_dict on get_peft_model(model, LoraConfig(r=R, target_modules=TARGETS)).
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

transformers.logging.set_verbosity_error()


def main():
    model_dir, r, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    lora = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, task_type="CAUSAL_LM"))
    state = get_peft_model_state_dict(lora)
    json.dump({"peft": peft.__version__, "tensors": {k: list(v.shape) for k, v in state.items()}}, sys.stdout)


if __name__ == "__main__":
    main()
