"""Training speed and memory, psy vs TRL's SFTTrainer + PEFT, on the CPU (issue 20).

  .reference/venv/bin/python bench/baselines/trl_speed.py [--runs 3] [--steps 6] [--max-seq-len 512]
      [--micro-batch 4] [--model DIR] [--data FILE] [--out DIR] [--psy PSY] [--threads 2] [--lora-dropout P]

Same model (the real SmolLM2-135M-Instruct of .reference/models/), same samples (the real English
Psy-Insight CoT samples, task observation_reasoning_dialog, built once by `psy data build --export`;
TRL reads that file's token ids and loss weights), same order, same settings (LoRA r 16 / alpha 32 /
no dropout on q,k,v,o,gate,up,down, both from one initial adapter made by PEFT; completion-only loss; AdamW lr 1e-3, cosine, clip 1.0; fp32).
--lora-dropout P gives both LoRA dropout P (the quickstart's and the paper's 0.05): the masks then differ, so
the losses are printed but not compared.
Each run starts, in turn: psy (its defaults: padding-free micro-batches, the samples in TRL's order),
TRL (right-padded batches), psy with packing (train.packing=true: rows filled to max_seq_len in its own
order, so its losses are not compared) and, with --padded, psy with right-padded batches as TRL's. Every
process is timed alone in its own child process; peak RSS is the child's own (wait4's ru_maxrss).
tokens/s counts real (non-padding) tokens over the steps after the first (steady state: the
first step pays for allocation and the thread pools). Prints one line per process, then the
medians over runs, psy/TRL ratios and the largest relative loss difference psy (padded) vs TRL.
Skips with a message when the model or the data is absent. Never fails on speed.

  trl_speed.py trl BASE SAMPLES OUT SETTINGS_JSON       (internal: TRL's side of one run)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def trl_side(base, samples, out, settings_json):
    import torch
    torch.set_num_threads(int(os.environ.get("PSY_THREADS", "2")))
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
    per_step = s["micro_batch"] * s["grad_accum"]
    rows = rows[: per_step * s["steps"]]
    lengths = [len(r["input_ids"]) for r in rows]
    dataset = datasets.Dataset.from_list(rows)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation=s["attn"])
    model = PeftModel.from_pretrained(model, s["init_adapter"], is_trainable=True)

    class InOrder(SFTTrainer):
        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    steps = []

    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                steps.append({"step": state.global_step, "loss": logs["loss"], "t": time.perf_counter()})

    config = SFTConfig(
        output_dir=str(Path(out) / "trainer"), per_device_train_batch_size=s["micro_batch"],
        gradient_accumulation_steps=s["grad_accum"], learning_rate=s["lr"], lr_scheduler_type="cosine",
        warmup_steps=s["warmup_steps"], max_grad_norm=1.0, weight_decay=0.01, optim="adamw_torch",
        max_steps=s["steps"], logging_steps=1, completion_only_loss=True, max_length=None, packing=False,
        padding_free=False, seed=s["seed"], data_seed=s["seed"], report_to=[], save_strategy="no", use_cpu=True,
        bf16=False, fp16=False, dataloader_num_workers=0, remove_unused_columns=True, logging_nan_inf_filter=False)
    trainer = InOrder(model=model, args=config, train_dataset=dataset, callbacks=[Record()])
    trainer.train()
    for k, st in enumerate(steps):
        st["tokens"] = sum(lengths[: per_step * (k + 1)])
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "steps.json").write_text(json.dumps(steps))


def run_child(cmd, env, log):
    """Runs cmd; returns (exit code, wall seconds, peak RSS MB of that child alone)."""
    start = time.perf_counter()
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024.0


def steady_tokens_per_s(points):
    """points: [(cumulative real tokens, time)] per step; tokens/s after the first step."""
    if len(points) < 2:
        return float("nan")
    (t0, s0), (t1, s1) = points[0], points[-1]
    return (t1 - t0) / (s1 - s0) if s1 > s0 else float("nan")


def uptime():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "trl":
        trl_side(*sys.argv[2:6])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--attn", default="sdpa", help="TRL's attention (sdpa is its fastest on CPU; eager)")
    ap.add_argument("--model", default=str(ROOT / ".reference/models/smollm2-135m-instruct"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/psy-insight/en_data_version7.json"))
    ap.add_argument("--psy", default=os.environ.get("PSY_EXE", str(ROOT / "build/trainers/psy")))
    ap.add_argument("--out", default="")
    ap.add_argument("--no-packed", action="store_true", help="skip the psy run with packing")
    ap.add_argument("--padded", action="store_true", help="also run psy with right-padded batches (padding_free=false)")
    ap.add_argument("--lora-dropout", type=float, default=0.0, help="LoRA dropout for both (losses then not compared)")
    a = ap.parse_args()
    for what, path in (("model", a.model), ("data", a.data), ("psy", a.psy)):
        if not Path(path).exists():
            print(f"trl_speed: SKIPPED: no {what} at {path}")
            return
    out = Path(a.out or f"/tmp/psy-trl-speed-{os.getpid()}")
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               TQDM_DISABLE="1", OMP_WAIT_POLICY="PASSIVE", PSY_THREADS=str(a.threads),
               OMP_NUM_THREADS=str(a.threads))
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    ga, seed, lr, warmup = 1, 66, 1.0e-3, 1
    common = [f"model.path={a.model}", "model.dtype=fp32", f"data.path=[{a.data}]", "data.prompt_loss_weight=0",
              f"data.max_seq_len={a.max_seq_len}", "data.test_fraction=0", f"seed={seed}", f"threads={a.threads}",
              "data.task=observation_reasoning_dialog"]
    samples = out / "samples.jsonl"
    subprocess.run([a.psy, "data", "build", str(ROOT / "recipes/quickstart.yaml"), *common, "--export", str(samples),
                    "--split", "train"], env=env, check=True, stdout=subprocess.DEVNULL)
    lengths = [len(json.loads(l)["input_ids"]) for l in samples.read_text().splitlines()]
    used = lengths[: a.micro_batch * ga * a.steps]
    q = statistics.quantiles(lengths, n=10)
    sys.stdout.flush()
    print(f"samples: {len(lengths)} (max_seq_len {a.max_seq_len}): length median {statistics.median(lengths):.0f}, "
          f"p10 {q[0]:.0f}, p90 {q[-1]:.0f}; the {len(used)} used: {sum(used)} real tokens, "
          f"padded to each micro-batch's longest {sum(max(used[i:i + a.micro_batch]) * len(used[i:i + a.micro_batch]) for i in range(0, len(used), a.micro_batch))}")
    init_adapter = out / "init_adapter"  # PEFT's init, which both start from (psy: lora.init_adapter)
    subprocess.run([sys.executable, str(ROOT / "bench/baselines/trl_parity.py"), "init", a.model, str(init_adapter), "16",
                    "32", ",".join(targets), str(seed)], env=env, check=True, stderr=subprocess.DEVNULL)
    if a.lora_dropout > 0:  # TRL's PeftModel takes its dropout from the adapter's config
        config_path = init_adapter / "adapter_config.json"
        adapter_config = json.loads(config_path.read_text())
        adapter_config["lora_dropout"] = a.lora_dropout
        config_path.write_text(json.dumps(adapter_config))
    settings = {"init_adapter": str(init_adapter), "micro_batch": a.micro_batch, "grad_accum": ga, "lr": lr, "warmup_steps": warmup, "steps": a.steps,
                "seed": seed, "r": 16, "alpha": 32, "targets": targets, "attn": a.attn}
    (out / "settings.json").write_text(json.dumps(settings))

    def psy_cmd(run_dir, packing, padding_free=True):
        return [a.psy, "train", str(ROOT / "recipes/quickstart.yaml"), *common, f"output={run_dir}", "lora.r=16",
                f"lora.alpha=32", f"lora.dropout={a.lora_dropout}", f"lora.init_adapter={init_adapter}", f"lora.targets=[{','.join(targets)}]",
                f"train.micro_batch={a.micro_batch}", f"train.grad_accum={ga}", f"train.lr={lr}",
                "train.schedule=cosine", f"train.warmup_steps={warmup}", f"train.max_steps={a.steps}",
                "train.weight_decay=0.01", "train.max_grad_norm=1.0", "train.shuffle=false",
                "train.group_by_length=false", f"train.packing={'true' if packing else 'false'}",
                f"train.padding_free={'true' if padding_free else 'false'}", "train.eval_every=0",
                "train.save_every=0", "train.log_every=1", "train.plw_normalization=weight_sum", "--overwrite", "--quiet"]

    def psy_points(run_dir):
        rows = [json.loads(l) for l in (Path(run_dir) / "log.jsonl").read_text().splitlines() if l.strip()]
        rows = [r for r in rows if "loss" in r and "tokens" in r]
        return [(r["tokens"], r["elapsed_s"]) for r in rows], [r["loss"] for r in rows]

    results = {"psy": [], "trl": [], "psy_packed": [], "psy_padded": []}
    losses = {}
    print(f"load at start: {' '.join(uptime())}")
    for run in range(a.runs):
        kinds = ["psy", "trl"] + ([] if a.no_packed else ["psy_packed"]) + (["psy_padded"] if a.padded else [])
        for kind in kinds:
            d = out / f"{kind}-{run}"
            if kind == "trl":
                cmd = [sys.executable, __file__, "trl", a.model, str(samples), str(d), str(out / "settings.json")]
            else:
                cmd = psy_cmd(d, kind == "psy_packed", kind != "psy_padded")
            load = uptime()[0]
            rc, wall, rss = run_child(cmd, env, out / f"{kind}-{run}.log")
            if rc != 0:
                print(f"run {run} {kind}: FAILED (exit {rc}), see {out}/{kind}-{run}.log")
                continue
            if kind == "trl":
                st = json.loads((d / "steps.json").read_text())
                points, loss = [(s["tokens"], s["t"]) for s in st], [s["loss"] for s in st]
            else:
                points, loss = psy_points(d)
            tps = steady_tokens_per_s(points)
            losses[kind] = loss
            results[kind].append((tps, rss, wall))
            print(f"run {run} {kind:10s}: {tps:8.1f} real tokens/s (steps 2-{len(points)}), peak RSS {rss:7.1f} MB, "
                  f"wall {wall:6.1f} s, load {load}, losses {' '.join(f'{x:.4f}' for x in loss)}")
            sys.stdout.flush()
    print(f"load at end: {' '.join(uptime())}")
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in results.items() if v}
    for k, (tps, rss) in med.items():
        print(f"median {k:10s}: {tps:8.1f} tokens/s, peak RSS {rss:7.1f} MB ({len(results[k])} runs)")
    if "psy" in med and "trl" in med:
        for k in ("psy", "psy_packed", "psy_padded"):
            if k in med:
                print(f"{k} / TRL: {med[k][0] / med['trl'][0]:.2f}x tokens/s, {med[k][1] / med['trl'][1]:.2f}x peak RSS")
    if a.lora_dropout > 0:
        print(f"losses not compared: LoRA dropout {a.lora_dropout} draws different masks in psy and TRL")
    elif "psy" in losses and "trl" in losses:
        n = min(len(losses["psy"]), len(losses["trl"]))
        rel = max(abs(losses["psy"][i] - losses["trl"][i]) / abs(losses["trl"][i]) for i in range(n))
        print(f"loss psy vs TRL over {n} steps: max relative difference {rel:.2e}")


main()
