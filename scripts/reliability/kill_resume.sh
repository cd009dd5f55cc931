#!/usr/bin/env bash
# Kill -9 reliability of a run (issue 14): kills `psy train` and `psy eval` at seeded random moments
# (any moment; inside checkpoint saves, pruning and the final save; at the end of steps that
# evaluate the held-out loss; during generation and scoring), checks the run folder right after
# every kill (every checkpoint complete and loadable, no torn line in log.jsonl or
# predictions.jsonl, adapter/ and JSON files whole), resumes as documented (`psy train --resume`,
# `psy eval` run again) and compares the result with an uninterrupted run (bit-equal adapter,
# checkpoints, losses and predictions; metrics.json equal but for its "resumed" count).
# Tiny random model, CPU, about 8 s per kill on 2 cores.
#
#   scripts/reliability/kill_resume.sh                         30 kills of each (about 6-8 minutes)
#   scripts/reliability/kill_resume.sh --train-kills 3 --eval-kills 3 --seed 5
#   scripts/reliability/kill_resume.sh --keep                  keep the work folder to look at
#
# Ends with "kills: N, resumes ok: N, folder problems: 0, mismatches: 0"; exit 0 only then.
# CTest runs a short version (kill_resume_short: 3 + 3 kills). Source: tests/reliability/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${PSY_BUILD_DIR:-$root/build}"
if [ ! -x "$build/tests/reliability/psy_kill_resume" ] || [ ! -x "$build/trainers/psy" ]; then
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
  flock /tmp/psy-build.lock cmake --build "$build" --target psy_kill_resume -j "${PSY_JOBS:-2}"
fi
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" HF_HUB_OFFLINE=1
exec nice -n 5 "$build/tests/reliability/psy_kill_resume" --psy "$build/trainers/psy" --source "$root" "$@"
