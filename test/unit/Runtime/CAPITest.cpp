// The C API: status codes, the per-thread last-error message, NULL handling.
#include "RuntimeTestUtil.h"
#include "kiln/c/kiln_cuda.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>

using kiln::runtime::cuda::test::ScopedEnv;

namespace {

TEST(CudaCAPI, MissingDriverCodes) {
  ScopedEnv env("KILN_CUDA_DRIVER_LIB", "/nonexistent/libcuda.so.1");
  kiln_cuda_device device = reinterpret_cast<kiln_cuda_device>(0x1);
  EXPECT_EQ(kiln_cuda_device_open(0, &device), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_EQ(device, nullptr); // never left dangling
  EXPECT_EQ(std::string(kiln_cuda_last_error())
                .rfind("CUDA driver not found (/nonexistent/libcuda.so.1", 0),
            0u)
      << kiln_cuda_last_error();
  EXPECT_EQ(kiln_cuda_last_cuda_result(), 0);
  int count = -1, version = -1;
  EXPECT_EQ(kiln_cuda_device_count(&count), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_EQ(kiln_cuda_driver_version(&version), KILN_ERROR_DRIVER_NOT_FOUND);
}

TEST(CudaCAPI, DefaultDriverWithoutGpu) {
  if (kiln::runtime::cuda::test::realDriverPresent()) {
    std::printf("libcuda.so.1 is present: the no-driver case does not apply here\n");
    return;
  }
  ScopedEnv env("KILN_CUDA_DRIVER_LIB", std::nullopt);
  kiln_cuda_device device = nullptr;
  EXPECT_EQ(kiln_cuda_device_open(0, &device), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_EQ(std::string(kiln_cuda_last_error())
                .rfind("CUDA driver not found (libcuda.so.1): no NVIDIA GPU on this machine", 0),
            0u);
}

TEST(CudaCAPI, NullArgumentsAreInvalidNotCrashes) {
  EXPECT_EQ(kiln_cuda_device_open(0, nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_cuda_last_error(), "kiln_cuda_device_open: device is NULL");
  EXPECT_EQ(kiln_cuda_device_count(nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_cuda_module_load_file(nullptr, "x.cubin", nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_cuda_launch(nullptr, nullptr, nullptr, 0), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_cuda_copy_to_device(nullptr, 0, nullptr, 0, nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_cuda_event_elapsed_ms(nullptr, nullptr, nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(kiln_cuda_buffer_address(nullptr), 0u);
  // Releasing NULL handles is a no-op.
  kiln_cuda_device_close(nullptr);
  kiln_cuda_module_unload(nullptr);
  kiln_cuda_kernel_release(nullptr);
  kiln_cuda_buffer_free(nullptr);
  kiln_cuda_stream_destroy(nullptr);
  kiln_cuda_event_destroy(nullptr);
}

TEST(CudaCAPI, SuccessClearsTheLastError) {
  EXPECT_EQ(kiln_cuda_device_count(nullptr), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(kiln_cuda_last_error(), "");
  kiln_cuda_param p{"n", KILN_CUDA_PARAM_I32, KILN_CUDA_ELEMENT_OPAQUE};
  kiln_cuda_arg a{};
  a.kind = KILN_CUDA_PARAM_I32;
  a.value.i32 = 3;
  EXPECT_EQ(kiln_cuda_validate_args("k", &p, 1, &a, 1), KILN_SUCCESS);
  EXPECT_STREQ(kiln_cuda_last_error(), "");
}

TEST(CudaCAPI, ValidateArgsNamesTheParameter) {
  const kiln_cuda_param params[] = {
      {"x", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_BF16},
      {"scale", KILN_CUDA_PARAM_F32, KILN_CUDA_ELEMENT_OPAQUE},
  };
  kiln_cuda_arg args[2] = {};
  args[0].kind = KILN_CUDA_PARAM_POINTER;
  args[0].element_type = KILN_CUDA_ELEMENT_BF16;
  args[0].value.pointer = 0x10000;
  args[1].kind = KILN_CUDA_PARAM_I32;
  args[1].value.i32 = 2;
  EXPECT_EQ(kiln_cuda_validate_args("scale_rows", params, 2, args, 2),
            KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_cuda_last_error(),
               "launch of 'scale_rows': argument 1 'scale': expected f32, got i32 2");
  EXPECT_EQ(kiln_cuda_validate_args("scale_rows", params, 2, args, 1),
            KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_cuda_last_error(), "launch of 'scale_rows': expected 2 arguments, got 1 "
                                       "(missing argument 1 'scale': f32)");
}

TEST(CudaCAPI, ValidateArgsRejectsBadEnums) {
  // As a C caller could pass it; written through memcpy to stay defined in C++.
  kiln_cuda_param p{"n", KILN_CUDA_PARAM_I32, KILN_CUDA_ELEMENT_OPAQUE};
  int bad = 42;
  std::memcpy(&p.kind, &bad, sizeof bad);
  EXPECT_EQ(kiln_cuda_validate_args("k", &p, 1, nullptr, 0), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_cuda_last_error(), "signature: parameter 0 has an unknown kind or element type");
  kiln_cuda_param ok{"n", KILN_CUDA_PARAM_I32, KILN_CUDA_ELEMENT_OPAQUE};
  EXPECT_EQ(kiln_cuda_validate_args("k", &ok, 1, nullptr, 1), KILN_ERROR_INVALID_ARGUMENT);
}

TEST(CudaCAPI, StatusNames) {
  EXPECT_STREQ(kiln_status_name(KILN_SUCCESS), "KILN_SUCCESS");
  EXPECT_STREQ(kiln_status_name(KILN_ERROR_DRIVER_NOT_FOUND), "KILN_ERROR_DRIVER_NOT_FOUND");
  EXPECT_STREQ(kiln_status_name(KILN_ERROR_CUDA), "KILN_ERROR_CUDA");
}

TEST(CudaCAPI, LastErrorIsPerThread) {
  EXPECT_EQ(kiln_cuda_device_count(nullptr), KILN_ERROR_INVALID_ARGUMENT);
  std::string other = "unset";
  std::thread([&] { other = kiln_cuda_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_STRNE(kiln_cuda_last_error(), "");
}

} // namespace
