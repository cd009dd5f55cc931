#!/usr/bin/env bash
# README command (2): set up (Debian packages and the live reference stack), build, and run every test.
#   scripts/test.sh              Release build in build/, every test
#   scripts/test.sh --sanitize   the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#                                (-O1 -g1) in build-sanitize/ (or $PSY_BUILD_DIR); any report fails
#                                the test that made it. Suppressions for code that is not ours (LibTorch,
#                                OpenBLAS, ...) are in scripts/sanitize/, one reason per line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitize=0
case "${1:-}" in
  "") ;;
  --sanitize) sanitize=1 ;;
  *) echo "test: unknown option '$1' (expected --sanitize or nothing)" >&2; exit 2 ;;
esac
"$root/scripts/setup.sh"
"$root/scripts/setup-reference.sh"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # LibTorch in the test executables too (libpsy/runtime/openmp_wait_policy.h)
if [ "$sanitize" = 0 ]; then
  "$root/scripts/build.sh"
  build="${PSY_BUILD_DIR:-$root/build}"
  ctest --test-dir "$build" --output-on-failure -j "${PSY_JOBS:-$(nproc)}"
  exit 0
fi

build="${PSY_BUILD_DIR:-$root/build-sanitize}"
PSY_BUILD_DIR="$build" "$root/scripts/build.sh" -DPSY_SANITIZE=address,undefined -DPSY_BENCH=OFF \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O1 -g1 -DNDEBUG"
supp="$root/scripts/sanitize"
# The test executables and psy are instrumented; the Python the live tests start (tests/reference)
# is not, and nothing is preloaded into it: it only inherits these variables, which it ignores.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1:suppressions=$supp/asan.supp${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
start=$(date +%s)
status=0
ctest --test-dir "$build" --output-on-failure --timeout 3000 -j "${PSY_JOBS:-$(nproc)}" || status=$?
echo "test --sanitize: ctest took $(( $(date +%s) - start )) s" >&2
exit "$status"
