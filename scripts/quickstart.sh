#!/usr/bin/env bash
# README command (1): set up, build, and run the main job on the built-in default (the
# quickstart recipe, recipes/quickstart.yaml) on the bundled sample data, on the CPU:
#   1. evaluate the base model, SmolLM2-135M-Instruct, on the held-out sessions (generation in
#      its own chat template, chain-of-thought parsing, metrics);
#   2. train a LoRA adapter on chain-of-thought targets (observation, reasoning, response) --
#      the recipe itself;
#   3. evaluate the tuned model the same way;
#   4. write the report comparing the two: a Markdown table and SVG plots.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/setup-reference.sh"   # the real model (.reference/models/smollm2-135m-instruct)
"$root/scripts/build.sh"
cd "$root"
psy="${PSY_BUILD_DIR:-$root/build}/trainers/psy"
recipe=recipes/quickstart.yaml
base=runs/quickstart-base
run=runs/quickstart
start=$(date +%s)
"$psy" --version
echo
echo "== 1/4 the base model on the held-out sessions =="
"$psy" eval "$recipe" --base --out "$base" --overwrite
echo
echo "== 2/4 LoRA: chain-of-thought targets (the recipe) =="
"$psy" train "$recipe" --overwrite
echo
echo "== 3/4 the tuned model on the same sessions =="
"$psy" eval "$recipe" --overwrite
echo
echo "== 4/4 report: base vs tuned =="
"$psy" report "$base" "$run" --ci --plots "$run/plots" --out "$run/report.md"
cat "$run/report.md"
echo
echo "quickstart: done in $(( $(date +%s) - start )) s. Outputs:"
echo "  $run/adapter/            the LoRA adapter (PEFT format: PeftModel.from_pretrained loads it)"
echo "  $run/log.jsonl           training log (loss, eval loss, lr, tokens/s, memory)"
echo "  $run/predictions.jsonl   generations with parsed observation/reasoning/response and scores"
echo "  $run/metrics.json        metrics with 95% confidence intervals ($base/ holds the base model's)"
echo "  $run/report.md           the table; $run/plots/ the figures"
echo "Twelve sample sessions and one epoch teach the format (CoT parsed) more than counseling: for"
echo "the paper's runs see recipes/paper/ and the README."
