#!/bin/sh
# Builds the tokenizer.json fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) and runs it.
#   fuzz/run_tokenizer_json.sh [SECONDS] [extra libFuzzer flags, e.g. -runs=1000000]   (default 120 s)
# Seeds: fuzz/corpus_tokenizer_json/ (small tokenizer.json files, committed). New corpus entries go
# to fuzz/corpus/tokenizer_json/ (not committed); crashes to fuzz/artifacts/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-120}
[ $# -gt 0 ] && shift
out=${PSY_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$out" "$here/corpus/tokenizer_json" "$here/artifacts"
CXX=${CXX:-clang++}
t="$root/libpsy/text"
$CXX -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$root" \
  "$here/fuzz_tokenizer_json.cpp" "$t/unicode_props.cpp" "$t/split_regex.cpp" "$t/byte_level.cpp" "$t/bpe_model.cpp" \
  "$t/normalizer.cpp" "$t/pre_tokenizer.cpp" "$t/added_tokens.cpp" "$t/post_processor.cpp" "$t/token_decoder.cpp" \
  "$t/tokenizer_json_fields.cpp" "$t/tokenizer_json.cpp" "$t/tokenizer_json_loader.cpp" \
  "$root/libpsy/core/error.cpp" "$root/libpsy/core/utf8.cpp" "$root/libpsy/core/json_file.cpp" \
  "$root/libpsy/core/text_file.cpp" -licuuc -o "$out/fuzz_tokenizer_json"
"$out/fuzz_tokenizer_json" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$here/artifacts/" "$@" "$here/corpus/tokenizer_json" "$here/corpus_tokenizer_json"
