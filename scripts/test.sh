#!/usr/bin/env bash
# README command (2): set up (Debian packages and the live reference stack), build, and run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/setup-reference.sh"
"$root/scripts/build.sh"
build="${PSY_BUILD_DIR:-$root/build}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # LibTorch in the test executables too (libpsy/runtime/openmp_wait_policy.h)
ctest --test-dir "$build" --output-on-failure -j "${PSY_JOBS:-$(nproc)}"
