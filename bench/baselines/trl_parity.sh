#!/usr/bin/env bash
# Training parity with TRL: psy train and TRL's SFTTrainer (+ PEFT) on the same samples in the
# same order, from the same initial adapter (made by PEFT), with the same optimiser settings;
# prints the loss at every step of both and the largest relative differences (loss, final adapter).
#   bench/baselines/trl_parity.sh [--model HF_DIR] [--data FILE] [--steps N] [--out DIR] [--plw 0|1]
#                                 [--max-seq-len N] [--chat-template NAME]
# Without --model, a tiny Llama-shaped base psy can train is made (psy tokenizer train + init-model).
# Needs the reference venv (scripts/setup-reference.sh) and a built psy (scripts/build.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
psy="${PSY_EXE:-${PSY_BUILD_DIR:-$root/build}/trainers/psy}"
py="${PSY_REFERENCE:-$root/.reference}/venv/bin/python"
model="" data="" steps=30 out="" plw=0 template="" max_len=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --plw) plw="$2"; shift 2 ;;
    --chat-template) template="$2"; shift 2 ;;
    --max-seq-len) max_len="$2"; shift 2 ;;
    *) echo "trl_parity: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$py" ] || { echo "trl_parity: no reference venv ($py): run scripts/setup-reference.sh" >&2; exit 1; }
out="${out:-$(mktemp -d "${TMPDIR:-/tmp}/psy-trl-parity-XXXXXX")}"
mkdir -p "$out"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false TQDM_DISABLE=1
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # as psy does (libpsy/runtime/openmp_wait_policy.h)
if [ -z "$data" ]; then
  shared="${PSY_SHARED:-$root/../shared}/data/psy-insight/en_data_version7.json"
  if [ -f "$shared" ]; then data="$shared"; else data="$root/data/sample/psy_insight_sample_en.json"; fi
fi
if [ -z "$model" ]; then
  "$psy" tokenizer train --input "$root/data/sample/psy_insight_sample_en.json" --vocab-size 512 --out "$out/tokenizer" >/dev/null
  "$psy" init-model --config "$root/recipes/models/quickstart-tiny-llama.json" --tokenizer "$out/tokenizer" \
    --out "$out/base" --seed 7 >/dev/null
  model="$out/base"
  [ -n "$template" ] || template=mistral  # psy's own base has no chat template of its own
fi
r=8 alpha=16 mb=2 ga=2 lr=1.0e-3 wd=0.01 clip=1.0 seed=66 warmup_ratio=0.1
targets=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
common=(model.path="$model" model.dtype=fp32 data.path="[$data]" data.prompt_loss_weight="$plw" data.max_seq_len="$max_len"
        data.test_fraction=0.02 seed="$seed" threads=2)  # a small held-out set: its loss is not compared
[ -n "$template" ] && common+=(model.chat_template="$template")
"$psy" data build "$root/recipes/quickstart.yaml" "${common[@]}" --export "$out/samples.jsonl" --split train >/dev/null
n=$(wc -l < "$out/samples.jsonl")
# Stay inside the first epoch: at an epoch's end transformers makes a shorter accumulation step.
max_steps=$(( n / (mb * ga) ))
[ "$steps" -gt "$max_steps" ] && steps=$max_steps
if [ "$steps" -lt 1 ]; then
  echo "trl_parity: only $n training samples fit data.max_seq_len $max_len (a step takes $((mb * ga))): raise --max-seq-len" >&2
  exit 2
fi
case "$plw" in 0|1) ;; *) echo "trl_parity: --plw is 0 (TRL's completion-only loss) or 1 (its full-sequence loss)" >&2; exit 2 ;; esac
warmup=$(python3 -c "import math; print(math.ceil($warmup_ratio * $steps))")
"$py" "$root/bench/baselines/trl_parity.py" init "$model" "$out/init_adapter" "$r" "$alpha" "$targets" "$seed" 2>/dev/null
"$psy" train "$root/recipes/quickstart.yaml" "${common[@]}" output="$out/psy" lora.r=$r lora.alpha=$alpha lora.dropout=0 \
  lora.targets="[$targets]" lora.init_adapter="$out/init_adapter" train.micro_batch=$mb train.grad_accum=$ga \
  train.lr=$lr train.schedule=cosine train.warmup_steps=$warmup train.max_steps=$steps train.weight_decay=$wd \
  train.max_grad_norm=$clip train.shuffle=false train.group_by_length=false train.packing=false train.eval_every=0 \
  train.save_every=0 train.log_every=1 train.plw_normalization=weight_sum --overwrite --quiet 2>"$out/psy.err" ||
  { cat "$out/psy.err" >&2; exit 1; }
cat > "$out/settings.json" <<JSON
{"micro_batch": $mb, "grad_accum": $ga, "lr": $lr, "schedule": "cosine", "warmup_steps": $warmup,
 "max_grad_norm": $clip, "weight_decay": $wd, "steps": $steps, "seed": $seed,
 "completion_only": $([ "$plw" = 0 ] && echo true || echo false)}
JSON
"$py" "$root/bench/baselines/trl_parity.py" train "$model" "$out/init_adapter" "$out/samples.jsonl" "$out/trl" \
  "$out/settings.json" 2>"$out/trl.err" || { tail -20 "$out/trl.err" >&2; exit 1; }
"$py" "$root/bench/baselines/trl_parity.py" compare "$out/psy" "$out/trl"
