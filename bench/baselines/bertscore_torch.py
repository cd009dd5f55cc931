#!/usr/bin/env python3
"""Python baseline for bench_bertscore: the work of bert_score's score() after tokenisation, on
PyTorch (Debian's python3-torch, the same LibTorch 1.13 as psy), written for this benchmark.

Given token ids (from bench_bertscore, which tokenised with psy's sent_encode), it
  1. de-duplicates the sentences of hyps and refs and sorts them longest first (bert_score sorts
     by word count; token count here), and embeds them in padded batches of 64 with a RoBERTa
     encoder (post-LayerNorm, exact GELU, RoBERTa position ids) read from model.safetensors,
     keeping hidden_states[layer];
  2. matches pairs in padded batches of 64 as bert_score's greedy_cos_idf does (embeddings padded
     with 2.0, L2-normalised, masked cosine matrix, max over rows / columns, weights 1 except
     <s> and </s>, F = 2PR / (P + R)).
Prints nothing but errors; writes {"median_s", "runs_s", "median_cpu_s", "torch", "P", "R", "F"} to --out.
"""
import argparse
import json
import math
import struct
import statistics
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + b:base + e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


class Roberta:
    def __init__(self, model_dir, layers):
        with open(model_dir + "/config.json") as f:
            self.cfg = json.load(f)
        w = read_safetensors(model_dir + "/model.safetensors")
        self.w = {k.removeprefix("roberta."): v for k, v in w.items()}
        self.layers = layers
        self.heads = self.cfg["num_attention_heads"]
        self.eps = self.cfg["layer_norm_eps"]
        self.pad = self.cfg["pad_token_id"]

    def ln(self, x, prefix):
        return F.layer_norm(x, (x.shape[-1],), self.w[prefix + ".weight"], self.w[prefix + ".bias"], self.eps)

    def lin(self, x, prefix):
        return F.linear(x, self.w[prefix + ".weight"], self.w[prefix + ".bias"])

    def forward(self, ids, mask):
        w = self.w
        not_pad = ids.ne(self.pad).long()
        pos = torch.cumsum(not_pad, 1) * not_pad + self.pad
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][pos]
        x = self.ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        b, t, h = x.shape
        d = h // self.heads
        add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in range(self.layers):
            p = f"encoder.layer.{l}."
            q, k, v = (self.lin(x, p + "attention.self." + n).view(b, t, self.heads, d).transpose(1, 2)
                       for n in ("query", "key", "value"))
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + add, dim=-1)
            ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)
            a = self.ln(x + self.lin(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            x = self.ln(a + self.lin(F.gelu(self.lin(a, p + "intermediate.dense")), p + "output.dense"),
                        p + "output.LayerNorm")
        return x


def pad_stack(rows, value):
    t = max(r.shape[0] for r in rows)
    out = torch.full((len(rows), t) + tuple(rows[0].shape[1:]), value, dtype=rows[0].dtype)
    for i, r in enumerate(rows):
        out[i, :r.shape[0]] = r
    return out


def score(model, pairs, batch=64, cls=0, sep=2):
    sentences = sorted({tuple(p[s]) for p in pairs for s in ("hyp", "ref")}, key=len, reverse=True)
    emb = {}
    for i in range(0, len(sentences), batch):
        chunk = sentences[i:i + batch]
        ids = pad_stack([torch.tensor(s) for s in chunk], model.pad)
        mask = pad_stack([torch.ones(len(s), dtype=torch.long) for s in chunk], 0)
        out = model.forward(ids, mask)
        for j, s in enumerate(chunk):
            emb[s] = out[j, :len(s)]
    P, R, Fs = [], [], []
    for i in range(0, len(pairs), batch):
        chunk = pairs[i:i + batch]
        sides = {}
        for s in ("hyp", "ref"):
            e = pad_stack([emb[tuple(p[s])] for p in chunk], 2.0)
            m = pad_stack([torch.ones(len(p[s])) for p in chunk], 0.0)
            wts = pad_stack([torch.tensor([0.0 if t in (cls, sep) else 1.0 for t in p[s]]) for p in chunk], 0.0)
            sides[s] = (e / e.norm(dim=-1, keepdim=True), m, wts / wts.sum(1, keepdim=True))
        (he, hm, hw), (re, rm, rw) = sides["hyp"], sides["ref"]
        sim = torch.bmm(he, re.transpose(1, 2)) * torch.bmm(hm.unsqueeze(2), rm.unsqueeze(1))
        p = (sim.max(dim=2)[0] * hw).sum(1)
        r = (sim.max(dim=1)[0] * rw).sum(1)
        f = 2 * p * r / (p + r)
        f = f.masked_fill(torch.isnan(f), 0.0)
        P += p.tolist()
        R += r.tolist()
        Fs += f.tolist()
    return P, R, Fs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--layer", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.ids) as f:
        pairs = json.load(f)
    model = Roberta(args.model, args.layer)
    times, cpu = [], []
    with torch.no_grad():
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            P, R, Fs = score(model, pairs)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    with open(args.out, "w") as f:
        json.dump({"median_s": statistics.median(times), "runs_s": times, "median_cpu_s": statistics.median(cpu), "torch": torch.__version__,
                   "P": P, "R": R, "F": Fs}, f)


if __name__ == "__main__":
    main()
