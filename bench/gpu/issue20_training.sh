#!/usr/bin/env bash
# Issue 20's GPU checks as ONE script for the lent GPU machine (../shared/device/README.md).
# PREPARED, NOT RUN YET (the session that wrote it had no GPU). From the repository root:
#   run(command="source .devdeps/unpack-deps.sh .devdeps /opt/psydeps && bench/gpu/issue20_training.sh",
#       carry=[".devdeps"], timeout_s=560)
# It builds a CUDA build of only the targets it needs (~2-3 min on 16 cores), then, each step with
# its own time limit so that one hang cannot eat the budget:
#   1. the packing / chunked-loss equality tests with PSY_TEST_DEVICE=cuda (fused attention per
#      segment: flash/SDPA with is_causal on each packed sample);
#   2. the chunked vs plain loss inside a training step: bench_train --loss chunked|plain on the
#      Mistral-7B shape, paper LoRA (r 256 on all linear + lm_head), bf16, checkpointing, 2 x 4096;
#   3. the same psy step vs HF transformers + PEFT (bench/baselines/train_hf_peft.py, SDPA) on the
#      Mistral-7B and Qwen2.5-7B shapes: tokens/s and the CUDA allocator's peak.
# Everything lands in $OUT (summary.txt first). Numbers: one H100/H200; say which in the report.
set -uo pipefail
OUT="${OUT:-/tmp/psy-issue20-gpu}"
source bench/gpu/common.sh
gpu_start "torch, transformers, peft"
gpu_build test_train_packing bench_train bench_loss_memory
export OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 PSY_BENCH_PYTHON=python3
PSY_TEST_DEVICE=cuda timeout 120 $B/tests/train/test_train_packing >"$OUT/test_train_packing_cuda.txt" 2>&1
log "test_train_packing on cuda: exit $? ($(tail -2 "$OUT/test_train_packing_cuda.txt" | tr '\n' ' '))"
for loss in chunked plain; do
  timeout 150 $B/bench/bench_train --device cuda --shape mistral-7b --dtype bf16 --lora paper --ckpt-only \
    --batch 2 --seq 4096 --steps 3 --warmup 1 --runs 1 --no-python --loss $loss >"$OUT/bench_train_mistral_$loss.txt" 2>&1
  log "psy mistral-7b loss=$loss: exit $?; $(tail -1 "$OUT/bench_train_mistral_$loss.txt")"
done
for shape in mistral-7b qwen2.5-7b; do
  timeout 200 $B/bench/bench_train --device cuda --shape $shape --dtype bf16 --lora paper --ckpt-only \
    --batch 2 --seq 4096 --steps 3 --warmup 1 --runs 1 >"$OUT/bench_train_vs_hf_$shape.txt" 2>&1
  log "psy vs HF+PEFT $shape: exit $?"
  tail -3 "$OUT/bench_train_vs_hf_$shape.txt" >>"$OUT/summary.txt"
done
log "done"
