"""TRL's side of psy's training-parity check (bench/baselines/trl_parity.sh runs both sides).

  trl_parity.py init BASE OUT R ALPHA TARGETS SEED
      The initial LoRA adapter, made by PEFT (its default init: A kaiming-uniform, B zero),
      saved to OUT for both trainers to start from (psy reads it through lora.init_adapter).
  trl_parity.py train BASE INIT SAMPLES OUT SETTINGS_JSON
      TRL's SFTTrainer on SAMPLES (psy data build --export, psy format: input_ids and
      loss_weights), completion-only loss (completion_mask = loss weight > 0) when psy's
      prompt_loss_weight is 0, the full sequence when it is 1, in the file's
      order (a sequential sampler: psy runs with train.shuffle=false, group_by_length=false),
      starting from INIT. Writes OUT/losses.json (the loss TRL logs at every optimizer step)
      and OUT/adapter/ (the final adapter).
  trl_parity.py compare PSY_RUN TRL_OUT
      One JSON line: both loss curves, their max relative difference, and the final adapters'.
Conventions matched, and why they agree (see bench/README.md "Training parity with TRL"):
  * labels: TRL shifts inside the model (logits[:, :-1] predict input_ids[:, 1:]); psy's
    weights are aligned with the labels, so weight j is token j's as a target. Same thing.
  * loss normalisation: transformers divides each micro-batch's summed CE by the number of
    target tokens of the WHOLE optimizer step (num_items_in_batch), psy by the step's weight sum
    (plw_normalization weight_sum; with 0/1 weights the same count).
  * padding: right padding with labels -100 (TRL) / weight 0 (psy): neither changes the loss.
  * AdamW: torch.optim.AdamW, betas (0.9, 0.999), eps 1e-8; weight decay on every LoRA matrix
    (transformers exempts only biases and norm weights, which LoRA has none of).
  * schedule: get_cosine_schedule_with_warmup evaluated at the count of updates already taken;
    warmup steps = ceil(ratio * total).
  * clipping: the global L2 norm over all LoRA gradients, before the update.
"""
import json
import sys
from pathlib import Path

import torch


def init(base, out, r, alpha, targets, seed):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(int(seed))
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=int(r), lora_alpha=float(alpha), lora_dropout=0.0,
                                                  target_modules=targets.split(","), task_type="CAUSAL_LM"))
    peft_model.save_pretrained(out)


def train(base, init_dir, samples, out, settings_json):
    import datasets
    from peft import PeftModel
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    s = json.loads(Path(settings_json).read_text())
    rows = []
    for line in Path(samples).read_text().splitlines():
        j = json.loads(line)
        rows.append({"input_ids": j["input_ids"], "completion_mask": [1 if w > 0 else 0 for w in j["loss_weights"]]})
    dataset = datasets.Dataset.from_list(rows)

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation="eager")
    model = PeftModel.from_pretrained(model, init_dir, is_trainable=True)

    class InOrder(SFTTrainer):
        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    losses = []

    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append({"step": state.global_step, "loss": logs["loss"], "grad_norm": logs.get("grad_norm"),
                               "lr": logs.get("learning_rate")})

    config = SFTConfig(
        output_dir=str(Path(out) / "trainer"), per_device_train_batch_size=s["micro_batch"],
        gradient_accumulation_steps=s["grad_accum"], learning_rate=s["lr"], lr_scheduler_type=s["schedule"],
        warmup_steps=s["warmup_steps"], max_grad_norm=s["max_grad_norm"], weight_decay=s["weight_decay"],
        adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, optim="adamw_torch", max_steps=s["steps"],
        logging_steps=1, completion_only_loss=s["completion_only"], max_length=None, packing=False, padding_free=False,
        seed=s["seed"], data_seed=s["seed"], report_to=[], save_strategy="no", use_cpu=True, bf16=False,
        fp16=False, dataloader_num_workers=0, remove_unused_columns=True, logging_nan_inf_filter=False,
        pad_token=s.get("pad_token"))
    trainer = InOrder(model=model, args=config, train_dataset=dataset, callbacks=[Record()])
    trainer.train()
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "losses.json").write_text(json.dumps(losses))
    model.save_pretrained(str(Path(out) / "adapter"))


def compare(psy_run, trl_out):
    """Prints one JSON line: per-step losses of both, the max relative loss difference, and the
    max relative difference of the final adapters (max |psy - trl| / max |trl| per tensor)."""
    from safetensors.torch import load_file
    ours = [json.loads(l) for l in Path(psy_run, "log.jsonl").read_text().splitlines() if l.strip()]
    ours = {r["step"]: r["loss"] for r in ours if "loss" in r and "step" in r}
    theirs = {r["step"]: r["loss"] for r in json.loads(Path(trl_out, "losses.json").read_text())}
    steps = sorted(set(ours) & set(theirs))
    loss_rel = max(abs(ours[s] - theirs[s]) / abs(theirs[s]) for s in steps)
    a = load_file(str(Path(psy_run, "adapter", "adapter_model.safetensors")))
    b = load_file(str(Path(trl_out, "adapter", "adapter_model.safetensors")))
    if set(a) != set(b):
        sys.exit(f"adapter tensors differ: psy only {sorted(set(a) - set(b))[:3]}, TRL only {sorted(set(b) - set(a))[:3]}")
    adapter_rel = max(((a[k] - b[k]).abs().max() / b[k].abs().max().clamp_min(1e-12)).item() for k in b)
    print(json.dumps({"steps": len(steps), "psy_steps": len(ours), "trl_steps": len(theirs),
                      "loss_max_rel_diff": loss_rel, "adapter_max_rel_diff": adapter_rel,
                      "psy_loss": [ours[s] for s in steps], "trl_loss": [theirs[s] for s in steps]}))


def main():
    torch.set_num_threads(int(__import__("os").environ.get("PSY_THREADS", "2")))
    if sys.argv[1] == "init":
        init(*sys.argv[2:8])
    elif sys.argv[1] == "train":
        train(*sys.argv[2:7])
    elif sys.argv[1] == "compare":
        compare(*sys.argv[2:4])
    else:
        sys.exit("usage: trl_parity.py init|train ...")


main()
