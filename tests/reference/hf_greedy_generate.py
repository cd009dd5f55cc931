"""Greedy generation by transformers itself (fp32): the live reference for psy's decoding
(tests/generate/test_generate_parity.cpp) and the baseline of bench/bench_eval_generate.cpp.
Offline; run with .reference/venv/bin/python.

    hf_greedy_generate.py JOB.json

JOB.json: {"model": DIR, "prompts": [[ids]], "max_new_tokens": N, "eos_ids": [ids],
           "adapter": DIR or null          (a PEFT adapter to load on the model),
           "make_adapter": DIR or null     (first write a random PEFT LoRA adapter for the model there:
                                            r 8 on q_proj, v_proj, down_proj, seeded, B scaled so the
                                            outputs change but stay text-like),
           "batch_size": 1                 (rows per model.generate call, left-padded),
           "sort_by_length": false         (batch prompts of similar length together),
           "threads": 0                    (torch.set_num_threads when > 0),
           "device": "cpu", "dtype": "fp32" (where the model runs, in fp32 or bf16),
           "margins": true}                (return the top-2 logit margin of every step)

stdout: {"transformers", "outputs": [[new ids]] in prompt order (EOS included when produced),
"margins": [[top1 - top2 logit per step]], "seconds" (generation only), "new_tokens"}.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

transformers.logging.set_verbosity_error()


def make_adapter(model, out_dir):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1234)
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "down_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.mul_(0.05)
    peft_model.save_pretrained(out_dir)
    return peft_model


def main():
    job = json.load(open(sys.argv[1]))
    if job.get("threads", 0) > 0:
        torch.set_num_threads(job["threads"])
    dtype = torch.bfloat16 if job.get("dtype") == "bf16" else torch.float32
    device = torch.device(job.get("device", "cpu"))
    model = AutoModelForCausalLM.from_pretrained(job["model"], torch_dtype=dtype, attn_implementation="sdpa").to(device)
    model.eval()
    if job.get("make_adapter"):
        model = make_adapter(model, job["make_adapter"])
    elif job.get("adapter"):
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, job["adapter"])
    model.eval()
    prompts = job["prompts"]
    eos = job.get("eos_ids") or None
    pad = (eos or [0])[0]
    want_margins = job.get("margins", True)
    order = list(range(len(prompts)))
    if job.get("sort_by_length"):
        order.sort(key=lambda i: -len(prompts[i]))
    bsz = max(1, job.get("batch_size", 1))
    outputs, margins = [None] * len(prompts), [None] * len(prompts)
    new_tokens = 0
    start = time.perf_counter()
    with torch.inference_mode():
        for b in range(0, len(order), bsz):
            rows = order[b:b + bsz]
            longest = max(len(prompts[i]) for i in rows)
            ids = torch.full((len(rows), longest), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), longest), dtype=torch.long)
            for r, i in enumerate(rows):
                p = prompts[i]
                ids[r, longest - len(p):] = torch.tensor(p)
                mask[r, longest - len(p):] = 1
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False, num_beams=1,
                                 max_new_tokens=job["max_new_tokens"], eos_token_id=eos, pad_token_id=pad,
                                 output_scores=want_margins, return_dict_in_generate=True,
                                 temperature=None, top_p=None, top_k=None)
            seqs = out.sequences[:, longest:]
            for r, i in enumerate(rows):
                row = seqs[r].tolist()
                if eos:  # cut after the first EOS (later columns are padding)
                    for k, t in enumerate(row):
                        if t in eos:
                            row = row[:k + 1]
                            break
                outputs[i] = row
                new_tokens += len(row)
                if want_margins:
                    steps = []
                    for k in range(len(row)):
                        top = torch.topk(out.scores[k][r].float(), 2).values
                        steps.append(float(top[0] - top[1]))
                    margins[i] = steps
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    json.dump({"transformers": transformers.__version__, "outputs": outputs, "margins": margins if want_margins else None,
               "seconds": seconds, "new_tokens": new_tokens}, sys.stdout)


if __name__ == "__main__":
    main()
