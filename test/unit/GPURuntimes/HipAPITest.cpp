// HipAPI.h's constants agree with HIP's own header where it is installed (libamdhip64-dev).
#include "HipAPI.h"

#include <gtest/gtest.h>

#ifdef KILN_HAVE_HIP_H
#include <hip/hip_runtime_api.h>

namespace hip = kiln::runtime::hip;
static_assert(hip::kHipSuccess == hipSuccess);
static_assert(hip::kHipErrorOutOfMemory == hipErrorOutOfMemory);
static_assert(hip::kHipErrorNoDevice == hipErrorNoDevice);
static_assert(hip::kHipErrorInvalidDevice == hipErrorInvalidDevice);
static_assert(hip::kHipErrorNotFound == hipErrorNotFound);
static_assert(sizeof(hipModule_t) == sizeof(hip::hipModule_t));
static_assert(sizeof(hipFunction_t) == sizeof(hip::hipFunction_t));
#endif

TEST(HipAPI, ConstantsMatchTheHeader) {
#ifndef KILN_HAVE_HIP_H
  GTEST_SKIP() << "hip/hip_runtime_api.h not installed; checked at compile time elsewhere";
#endif
  SUCCEED();
}
