#!/bin/sh
# Builds the safetensors fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) and runs it.
#   fuzz/run.sh [SECONDS]   (default 120)
# Seeds: tests/fixtures/io/*.safetensors (valid and broken files). New corpus entries go to
# fuzz/corpus/ (not committed); crashes to fuzz/artifacts/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-120}
out=${PSY_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$out" "$here/corpus" "$here/artifacts"
CXX=${CXX:-clang++}
$CXX -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$here/fuzz_safetensors.cpp" "$root/libpsy/io/safetensors_format.cpp" \
  "$root/libpsy/core/error.cpp" -o "$out/fuzz_safetensors"
"$out/fuzz_safetensors" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$here/artifacts/" "$here/corpus" "$root/tests/fixtures/io"
