#!/bin/sh
# Builds one libFuzzer target with clang (libFuzzer + AddressSanitizer + UBSan) from the sources and
# runs it over its committed corpus.
#   fuzz/run_fuzzer.sh NAME [RUNS] [extra libFuzzer flags]
#     NAME: sessions (the Psy-Insight JSON loader and sample building), recipe (YAML + overrides),
#           predictions (predictions.jsonl reader)
#     RUNS: executions (default 1000000; 0 = until stopped)
#   fuzz/run_fuzzer.sh NAME merge      minimises the committed corpus: fuzz/corpus_NAME_new/ and
#                                      fuzz/corpus_NAME/ merged into a fresh fuzz/corpus_NAME/ (edges only)
# Seeds: fuzz/corpus_NAME/ (committed). New entries go to fuzz/corpus_NAME_new/ (not committed);
# crashes, leaks and timeouts to fuzz/artifacts/. Objects are cached in build-fuzz/NAME/ and
# rebuilt when their source is newer. The fuzzer runs at nice 10 with one job: it burns one core.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
name=${1:?usage: fuzz/run_fuzzer.sh sessions|recipe|predictions [RUNS|merge] [libFuzzer flags]}
mode=${2:-1000000}
[ $# -gt 2 ] && shift 2 || set --
out=${PSY_FUZZ_BUILD:-$root/build-fuzz}/$name
CXX=${CXX:-clang++}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
defs=""
libs=""
max_len=8192
core="$root/libpsy/core/*.cpp"  # psy_core: LibTorch-free (errors, files, UTF-8, JSON Lines)
case "$name" in
  sessions)
    # The loader, statistics and split (psy_data), samples (psy_samples) and the tokenizer and chat
    # templates they need (psy_text without SentencePiece's module, psy_jinja), the recipe (linked
    # by sample_options.cpp).
    srcs="$core $root/libpsy/data/*.cpp $root/libpsy/recipe/*.cpp $root/libpsy/text/jinja/*.cpp"
    for f in "$root"/libpsy/text/*.cpp; do
      case "$f" in */spm_shim.cpp) ;; *) srcs="$srcs $f" ;; esac
    done
    defs='-DPSY_SPM_BUILD_PATH=""'
    libs="-lyaml-cpp -licuuc -ldl -lfmt"
    ;;
  recipe)
    srcs="$core $root/libpsy/recipe/*.cpp"
    libs="-lyaml-cpp -lfmt"
    max_len=4096
    ;;
  predictions)
    srcs="$core $root/libpsy/evaluate/prediction_record.cpp"
    libs="-lfmt"
    ;;
  *) echo "run_fuzzer: unknown target '$name' (sessions, recipe or predictions)" >&2; exit 2 ;;
esac

mkdir -p "$out/obj" "$here/corpus_$name" "$here/corpus_${name}_new" "$here/artifacts"
objs=""
for src in $here/fuzz_$name.cpp $srcs; do
  obj="$out/obj/$(echo "$src" | sed "s|^$root/||; s|/|_|g").o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$0" -nt "$obj" ]; then
    # shellcheck disable=SC2086
    nice -n 10 "$CXX" -std=c++17 -O1 -g -fsanitize=fuzzer-no-link $san -I"$root" $defs -c "$src" -o "$obj"
  fi
  objs="$objs $obj"
done
# shellcheck disable=SC2086
nice -n 10 "$CXX" -fsanitize=fuzzer $san $objs $libs -o "$out/fuzz_$name"

dict=""
[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
if [ "$mode" = merge ]; then
  rm -rf "$here/corpus_${name}_min" && mkdir -p "$here/corpus_${name}_min"
  # -use_counters=0: keep the inputs that reach new edges (not new hit counts): a few hundred files.
  nice -n 10 "$out/fuzz_$name" -merge=1 -use_counters=0 -max_len=$max_len -rss_limit_mb=2048 -timeout=10 \
    "$here/corpus_${name}_min" "$here/corpus_$name" "$here/corpus_${name}_new"
  rm -rf "$here/corpus_$name" && mv "$here/corpus_${name}_min" "$here/corpus_$name"
  exit 0
fi
# shellcheck disable=SC2086
exec nice -n 10 "$out/fuzz_$name" -runs="$mode" -max_len=$max_len -rss_limit_mb=2048 -timeout=10 \
  $dict -artifact_prefix="$here/artifacts/" -print_final_stats=1 "$@" "$here/corpus_${name}_new" "$here/corpus_$name"
