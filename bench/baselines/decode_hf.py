"""Batch-1 greedy decode speed of Hugging Face transformers on a model *shape* (random weights), the
baseline beside `bench_decoder --shape 7b` (issue 19's GPU check, bench/gpu/issue19_decode.sh).
Offline; run with the Python that has torch + transformers.

    decode_hf.py [--shape mistral-7b] [--device cuda] [--dtype bf16|fp32] [--steps 64] [--runs 3]
                 [--cache dynamic|static]

Prints one line: tokens/s of `generate` (32-token prompt, `steps` new tokens, no EOS stop), median
of `runs`, and the same as a fraction of the copy bound (a 1 GB device copy, read + write bytes,
best of 5, against the weights' bytes).
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402

SHAPES = {
    # Mistral-7B-Instruct-v0.2, as libpsy/dist/memory_plan.cpp's known_model_shape("mistral-7b").
    "mistral-7b": dict(model_type="mistral", vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                       num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                       max_position_embeddings=32768, rope_theta=1e6, rms_norm_eps=1e-5, sliding_window=None,
                       tie_word_embeddings=False),
    # bench_decoder's "small" shape (a ~106M-parameter Llama), for a check on the CPU.
    "small": dict(model_type="llama", vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=8,
                  num_attention_heads=12, num_key_value_heads=4, head_dim=64, max_position_embeddings=2048,
                  tie_word_embeddings=False),
}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def copy_bandwidth_gbs(device):
    n = (256 if device.type == "cuda" else 64) * 1024 * 1024
    a = torch.ones(n, device=device)
    b = torch.empty_like(a)
    best = 0.0
    for _ in range(5):
        sync(device)
        t0 = time.perf_counter()
        b.copy_(a)
        sync(device)
        best = max(best, 2 * 4 * n / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="mistral-7b", choices=sorted(SHAPES))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", default="dynamic", choices=["dynamic", "static"])
    a = ap.parse_args()
    device = torch.device(a.device)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    spec = dict(SHAPES[a.shape])
    config = transformers.AutoConfig.for_model(spec.pop("model_type"), **spec)
    torch.manual_seed(0)
    with torch.device(device):  # fp32 init, then cast: the dtype argument's name differs between versions
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").to(dtype)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    bandwidth = copy_bandwidth_gbs(device)
    ids = torch.randint(3, config.vocab_size, (1, 32), device=device)
    kwargs = dict(max_new_tokens=a.steps, min_new_tokens=a.steps, do_sample=False, num_beams=1,
                  pad_token_id=0, eos_token_id=None)
    if a.cache == "static":
        kwargs["cache_implementation"] = "static"
    rates = []
    with torch.inference_mode():
        model.generate(ids, **dict(kwargs, max_new_tokens=4, min_new_tokens=4))  # warm-up
        for _ in range(a.runs):
            sync(device)
            t0 = time.perf_counter()
            out = model.generate(ids, **kwargs)
            sync(device)
            rates.append((out.shape[1] - ids.shape[1]) / (time.perf_counter() - t0))
    rate = statistics.median(rates)
    bound = bandwidth * 1e9 / (params * (2 if a.dtype == "bf16" else 4))
    print(f"transformers {transformers.__version__} torch {torch.__version__} {a.shape} {a.dtype} {a.device} "
          f"cache={a.cache}: {params / 1e6:.0f}M params; decode {rate:.1f} tok/s (median of {a.runs} x {a.steps} steps, "
          f"32-token prompt) = {100 * rate / bound:.1f}% of the copy bound ({bandwidth:.0f} GB/s)")


if __name__ == "__main__":
    main()
