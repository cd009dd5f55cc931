#!/usr/bin/env bash
# Configures and builds psy (Release, ccache when present) into build/ (or $PSY_BUILD_DIR).
# Extra arguments go to the CMake configure step, e.g. -DPSY_SANITIZE=address,undefined.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PSY_BUILD_DIR:-$root/build}"
jobs="${PSY_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j "$jobs"
