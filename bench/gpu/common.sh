# Sourced by the bench/gpu/*.sh scripts (bash): the summary log under $OUT and the CUDA build.
#   OUT="${OUT:-/tmp/psy-issueN-gpu}"; source bench/gpu/common.sh
#   gpu_start "torch, transformers, peft"     # modules whose versions go into summary.txt
#   gpu_build bench_train test_train_packing  # build-cuda/, or exit 1 with the reason in summary.txt
mkdir -p "$OUT"
B=build-cuda
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/summary.txt"; }

gpu_start() {
  log "start; $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"
  python3 -c "import $1, torch; print(' '.join(f'{m.__name__} {m.__version__}' for m in [$1]), 'cxx11abi', torch.compiled_with_cxx11_abi())" \
    >>"$OUT/summary.txt" 2>&1
}

gpu_build() {
  timeout 200 cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DPSY_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    >"$OUT/configure.log" 2>&1 || { log "configure failed (see configure.log)"; tail -20 "$OUT/configure.log" >>"$OUT/summary.txt"; exit 1; }
  timeout 300 cmake --build $B --target "$@" >"$OUT/build.log" 2>&1 ||
    { log "build failed (see build.log)"; grep -m5 -B2 -A5 "error" "$OUT/build.log" >>"$OUT/summary.txt"; exit 1; }
  log "built"
}
