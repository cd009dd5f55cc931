#!/usr/bin/env python3
"""GPU baseline for bench_train: the same LoRA training step as psy's, with Hugging Face
transformers + PEFT, the stack the paper's authors (and LLaMA-Factory, TRL) train with.
A Mistral-7B-shaped MistralForCausalLM with random bf16 weights (SDPA attention), PEFT LoRA
(r, alpha, dropout, targets as psy's `--lora paper`), per-layer gradient checkpointing
(non-reentrant), loss = sum(w*CE)/sum(w) over fp32 logits, global-norm clip, torch.optim.AdamW.
Prints one JSON line: median tokens/s over the measured steps and the CUDA allocator's peak."""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, MistralConfig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--ckpt", type=int, default=1)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--shape", default="mistral-7b")
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--lora", default="paper")
    a = ap.parse_args()
    dev = torch.device(a.device)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    if a.shape == "mistral-7b":
        cfg = MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                            num_attention_heads=32, num_key_value_heads=8, rms_norm_eps=1e-5, rope_theta=1e6,
                            max_position_embeddings=32768, tie_word_embeddings=False, sliding_window=None)
    elif a.shape == "qwen2.5-7b":
        from transformers import Qwen2Config
        cfg = Qwen2Config(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                          num_attention_heads=28, num_key_value_heads=4, rms_norm_eps=1e-6, rope_theta=1e6,
                          max_position_embeddings=32768, tie_word_embeddings=False)
    else:
        cfg = MistralConfig(vocab_size=32000, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                            num_attention_heads=8, num_key_value_heads=8, rms_norm_eps=1e-5,
                            max_position_embeddings=2048, tie_word_embeddings=False, sliding_window=None)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    with dev:
        model = AutoModelForCausalLM.from_config(cfg)
    torch.set_default_dtype(torch.float32)
    model.config.use_cache = False
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    if a.lora == "paper":
        lc = LoraConfig(r=256, lora_alpha=128, lora_dropout=0.05, target_modules=targets + ["lm_head"])
    else:
        lc = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=targets)
    model = get_peft_model(model, lc)
    for n, p in model.named_parameters():  # LoRA weights in fp32, as psy keeps them
        if p.requires_grad:
            p.data = p.data.float()
    if a.ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(3, cfg.vocab_size, (a.batch, a.seq), device=dev)
    mask = torch.ones_like(ids)
    w = torch.ones(a.batch, a.seq, device=dev)
    w[:, : a.seq // 2] = 0.1
    clip = 0.3 if a.lora == "paper" else 1.0
    torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for s in range(a.warmup + a.steps):
        torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
            logits = model(input_ids=ids, attention_mask=mask).logits
        logits = logits[:, :-1].float()
        ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), reduction="none")
        wt = w[:, 1:].reshape(-1)
        loss = (ce * wt).sum() / wt.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        torch.cuda.synchronize(dev)
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"tokens_per_s": a.batch * a.seq / statistics.median(times),
                      "cuda_peak_allocated_bytes": torch.cuda.max_memory_allocated(dev),
                      "trainable": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
