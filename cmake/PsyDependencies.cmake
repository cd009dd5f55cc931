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

if(PSY_TESTS)
  find_package(Catch2 REQUIRED)
endif()
