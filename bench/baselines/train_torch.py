#!/usr/bin/env python3
"""Baseline for bench_train: the same LoRA training step as psy's, written in Python with PyTorch
(Debian's python3-torch, the same LibTorch 1.13 underneath). A Llama-shaped decoder (RMSNorm,
rotate-half RoPE, grouped-query attention with a causal mask, SwiGLU MLP, untied lm_head) with
LoRA (r, alpha, no dropout) on q,k,v,o,gate,up,down; loss = sum(w*CE)/sum(w); global-norm clip;
torch.optim.AdamW. Optional per-layer gradient checkpointing with torch.utils.checkpoint.
Prints one JSON line: median tokens/s over the measured steps and the peak RSS (ru_maxrss)."""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class LoraLinear(torch.nn.Module):
    def __init__(self, i, o, r, alpha):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(o, i) * 0.02, requires_grad=False)
        self.r = r
        if r:
            self.lora_A = torch.nn.Parameter(torch.empty(r, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
            self.lora_B = torch.nn.Parameter(torch.zeros(o, r))
            self.scaling = alpha / r

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.r:
            y = y + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling
        return y


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, c, r, alpha):
        super().__init__()
        d, hd = c["hidden"], c["head_dim"]
        self.h, self.kv, self.hd = c["heads"], c["kv_heads"], hd
        self.q = LoraLinear(d, self.h * hd, r, alpha)
        self.k = LoraLinear(d, self.kv * hd, r, alpha)
        self.v = LoraLinear(d, self.kv * hd, r, alpha)
        self.o = LoraLinear(self.h * hd, d, r, alpha)
        self.gate = LoraLinear(d, c["inter"], r, alpha)
        self.up = LoraLinear(d, c["inter"], r, alpha)
        self.down = LoraLinear(c["inter"], d, r, alpha)
        self.n1 = RMSNorm(d, 1e-5)
        self.n2 = RMSNorm(d, 1e-5)

    def forward(self, h, cos, sin, mask):
        B, T, _ = h.shape
        x = self.n1(h)
        q = self.q(x).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.h // self.kv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        a = torch.matmul(torch.softmax(s.float(), dim=-1).to(q.dtype), v)
        h = h + self.o(a.transpose(1, 2).reshape(B, T, -1))
        x = self.n2(h)
        return h + self.down(F.silu(self.gate(x)) * self.up(x))


class Model(torch.nn.Module):
    def __init__(self, c, r, alpha):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Parameter(torch.randn(c["vocab"], c["hidden"]) * 0.02, requires_grad=False)
        self.layers = torch.nn.ModuleList([Layer(c, r, alpha) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"], 1e-5)
        self.lm_head = LoraLinear(c["hidden"], c["vocab"], 0, 0)

    def forward(self, ids, ckpt):
        B, T = ids.shape
        hd = self.c["head_dim"]
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(torch.arange(T, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((T, T), float("-inf")).triu(1)[None, None]
        h = F.embedding(ids, self.embed)
        for layer in self.layers:
            if ckpt:
                h = checkpoint(layer, h, cos, sin, mask, use_reentrant=False)
            else:
                h = layer(h, cos, sin, mask)
        return self.lm_head(self.norm(h)).float()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--inter", type=int, default=1376)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--r", type=int, default=16)
    p.add_argument("--alpha", type=float, default=32)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = dict(hidden=a.hidden, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads, head_dim=a.hidden // a.heads,
             inter=a.inter, vocab=a.vocab)
    m = Model(c, a.r, a.alpha)
    params = [q for q in m.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(3, a.vocab, (a.batch, a.seq))
    w = torch.ones(a.batch, a.seq)
    w[:, : a.seq // 2] = 0.1
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = m(ids, bool(a.ckpt))
        ce = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1), reduction="none")
        ww = w[:, 1:].reshape(-1)
        loss = (ce * ww).sum() / ww.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    tps = a.batch * a.seq / statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"tokens_per_s": tps, "peak_rss_bytes": rss, "params": sum(q.numel() for q in m.parameters()),
                      "trainable": sum(q.numel() for q in params), "loss": float(loss)}))


if __name__ == "__main__":
    main()
