#!/usr/bin/env bash
# README command (1): set up, build, and run the main job on the built-in default (the
# quickstart recipe, recipes/quickstart.yaml) on the bundled sample data.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root"
psy="${PSY_BUILD_DIR:-$root/build}/trainers/psy"
recipe=recipes/quickstart.yaml
run=runs/quickstart
mkdir -p "$run"
"$psy" --version
echo
echo "== quickstart: the recipe, resolved =="
"$psy" recipe show "$recipe" --no-docs > "$run/recipe.yaml"
cat "$run/recipe.yaml"
echo
echo "== data: statistics of the bundled sample =="
"$psy" data stats data/sample/psy_insight_sample_en.json | head -20
echo
echo "== data: seeded split by session (seed 66, 20% test) =="
"$psy" data split data/sample/psy_insight_sample_en.json --test-fraction 0.2 --seed 66 --out "$run/split"
echo
echo "quickstart: ran the data pipeline on the bundled sample; outputs are in $run/"
echo "  $run/recipe.yaml   the resolved recipe"
echo "  $run/split/        train.json, test.json and split.json (dialog ids of each side)"
