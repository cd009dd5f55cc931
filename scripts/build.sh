#!/usr/bin/env bash
# Configures and builds psy (Release, ccache when present) into build/ (or $PSY_BUILD_DIR).
# Extra arguments go to the CMake configure step, e.g. -DPSY_SANITIZE=address,undefined.
#
# PSY_TORCH=venv builds against the reference venv's LibTorch instead of Debian's (PyTorch's own,
# CUDA-enabled; scripts/setup-reference.sh installs it) into build-venv/ (or $PSY_BUILD_DIR), with
# the machine's nvcc: the CUDA build is then compiled and its CPU tests run without a GPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${PSY_JOBS:-$(nproc)}"
extra=()
case "${PSY_TORCH:-debian}" in
  debian) build="${PSY_BUILD_DIR:-$root/build}" ;;
  venv)
    build="${PSY_BUILD_DIR:-$root/build-venv}"
    py="${PSY_REFERENCE:-$root/.reference}/venv/bin/python"
    [ -x "$py" ] || { echo "build: PSY_TORCH=venv needs the reference venv: run scripts/setup-reference.sh" >&2; exit 1; }
    torch_dir="$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
    nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
    # The torch prefix itself comes second so that its lib/ is searched before /usr/lib, where
    # Debian's LibTorch (same library names) would otherwise be found first.
    extra=(-DPSY_CUDA=ON "-DCMAKE_PREFIX_PATH=$torch_dir/share/cmake;$torch_dir"
           -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="${PSY_CUDA_ARCH:-90}")
    ;;
  *) echo "build: PSY_TORCH must be debian or venv, not '${PSY_TORCH}'" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@" >/dev/null
cmake --build "$build" -j "$jobs"
