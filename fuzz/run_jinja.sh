#!/bin/sh
# Builds the Jinja chat-template fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) and runs it.
#   fuzz/run_jinja.sh [RUNS]   (default 1000000 executions; 0 = until stopped)
# Seeds: fuzz/corpus_jinja/ (committed: small templates and real chat templates' fragments).
# New corpus entries go to fuzz/corpus_jinja_new/ (not committed); crashes to fuzz/artifacts/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${1:-1000000}
out=${PSY_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$out" "$here/corpus_jinja_new" "$here/artifacts"
CXX=${CXX:-clang++}
$CXX -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$here/fuzz_jinja.cpp" "$root"/libpsy/text/jinja/*.cpp \
  "$root/libpsy/core/error.cpp" "$root/libpsy/core/utf8.cpp" -o "$out/fuzz_jinja"
"$out/fuzz_jinja" -runs="$runs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
  -dict="$here/jinja.dict" -artifact_prefix="$here/artifacts/" "$here/corpus_jinja_new" "$here/corpus_jinja"
