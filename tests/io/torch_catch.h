// Include this instead of <catch2/catch.hpp> in tests that use LibTorch: c10's logging
// header defines its own CHECK macro, which silently replaces Catch's CHECK when LibTorch is
// included after Catch. Including LibTorch first and dropping c10's CHECK keeps Catch's.
#pragma once
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>
