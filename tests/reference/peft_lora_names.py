"""The tensor names and shapes PEFT writes in adapter_model.safetensors for a LoRA on a model
folder (the live reference for psy's adapter writer). Offline; run with .reference/venv/bin/python.

    peft_lora_names.py R MODEL_DIR=TARGET,TARGET,... [MODEL_DIR=TARGET,... ...]

stdout: one JSON object {"peft": version, "models": {MODEL_DIR: {name: [shape...]}}} from PEFT's
own get_peft_model_state_dict on get_peft_model(model, LoraConfig(r=R, target_modules=TARGETS)),
every model in one process.
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
    r = int(sys.argv[1])
    models = {}
    for arg in sys.argv[2:]:
        model_dir, targets = arg.rsplit("=", 1)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        config = LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets.split(","), task_type="CAUSAL_LM")
        state = get_peft_model_state_dict(get_peft_model(model, config))
        models[model_dir] = {k: list(v.shape) for k, v in state.items()}
    json.dump({"peft": peft.__version__, "models": models}, sys.stdout)


if __name__ == "__main__":
    main()
