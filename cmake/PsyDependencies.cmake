# Finds psy's dependencies. All come from Debian 12 packages (third_party/packages.txt);
# a CUDA LibTorch is found instead of Debian's when CMAKE_PREFIX_PATH or Torch_DIR points to it.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)

# LibTorch. Its config adds flags we do not want globally, so keep them on the imported target.
find_package(Torch REQUIRED)
if(PSY_CUDA AND NOT TORCH_CUDA_LIBRARIES AND NOT TARGET torch_cuda)
  message(FATAL_ERROR "PSY_CUDA=ON but the LibTorch found at ${Torch_DIR} has no CUDA support")
endif()
message(STATUS "psy: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

# Debian's LibTorch reaches BLAS through the libblas.so.3 alternative, OpenBLAS's pthread build by
# default. Its worker threads wait by yielding (sched_yield) beside LibTorch's OpenMP threads: on a
# loaded machine a psy train step ran 2.4-2.8x slower than with OpenBLAS's OpenMP build, which shares
# LibTorch's OpenMP threads and OMP_WAIT_POLICY (bitwise-identical results: the same kernels and
# the same split of the work). Executables look there first (DT_RPATH, which also applies to
# libtorch's own dependencies); without the package they fall back to the system's choice.
set(PSY_OPENBLAS_OPENMP_DIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp")
if(EXISTS "${PSY_OPENBLAS_OPENMP_DIR}/libblas.so.3")
  string(APPEND CMAKE_EXE_LINKER_FLAGS " -Wl,--disable-new-dtags -Wl,-rpath,${PSY_OPENBLAS_OPENMP_DIR}")
  message(STATUS "psy: BLAS from ${PSY_OPENBLAS_OPENMP_DIR} (OpenBLAS, OpenMP threads)")
endif()

if(PSY_TESTS)
  find_package(Catch2 REQUIRED)
endif()
