#!/usr/bin/env bash
# README command (1): set up, build, and run the main job on the built-in default (the
# quickstart recipe, recipes/quickstart.yaml) on the bundled sample data, on the CPU:
#   1. train a SentencePiece tokenizer on the sample sessions;
#   2. build a tiny random Llama-shaped base model with it;
#   3. warm the base up with full fine-tuning on the dialog task;
#   4. train a LoRA adapter on chain-of-thought targets (observation, reasoning, response) with
#      prompt-loss weighting -- the recipe itself;
#   5. evaluate the adapter on the held-out sessions (generation, CoT parsing, metrics);
#   6. write the report: a Markdown table and SVG plots of the loss curves and metrics.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root"
psy="${PSY_BUILD_DIR:-$root/build}/trainers/psy"
recipe=recipes/quickstart.yaml
base=runs/quickstart-base
warmup=runs/quickstart-warmup
run=runs/quickstart
start=$(date +%s)
"$psy" --version
echo
echo "== 1/6 tokenizer: SentencePiece BPE on the bundled sample =="
"$psy" tokenizer train --input data/sample/psy_insight_sample_en.json --vocab-size 512 --out "$base/tokenizer"
echo
echo "== 2/6 base: a tiny random Llama-shaped model =="
"$psy" init-model --config recipes/models/quickstart-tiny-llama.json --tokenizer "$base/tokenizer" \
  --out "$base/model" --seed 66
echo
echo "== 3/6 warm-up: full fine-tuning on the dialog task =="
"$psy" train "$recipe" name=quickstart-warmup output="$warmup" model.path="$base/model" \
  train.mode=full data.task=dialog train.epochs=1 train.lr=1.0e-3 --overwrite
echo
echo "== 4/6 LoRA: chain-of-thought targets with prompt-loss weighting (the recipe) =="
"$psy" train "$recipe" --overwrite
echo
echo "== 5/6 evaluation on the held-out sessions =="
"$psy" eval "$recipe" --overwrite
echo
echo "== 6/6 report =="
"$psy" report "$warmup" "$run" --ci --plots "$run/plots" --out "$run/report.md"
cat "$run/report.md"
echo
echo "quickstart: done in $(( $(date +%s) - start )) s. Outputs:"
echo "  $run/adapter/            the LoRA adapter (PEFT format)"
echo "  $run/log.jsonl           training log (loss, eval loss, lr, tokens/s, memory)"
echo "  $run/predictions.jsonl   generations with parsed observation/reasoning/response and scores"
echo "  $run/metrics.json        metrics with 95% confidence intervals"
echo "  $run/report.md           the table; $run/plots/loss.svg and metrics.svg the figures"
echo "A model this small, trained for seconds, writes mostly malformed chain-of-thought: the point"
echo "is the pipeline. For the paper's runs see recipes/paper/ and the README."
