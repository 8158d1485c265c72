// Driver loading: the missing-driver path gives a clear error, never a crash.
#include "RuntimeTestUtil.h"
#include "kiln/Runtime/CUDA.h"

#include <gtest/gtest.h>

using namespace kiln::runtime::cuda;
using kiln::runtime::cuda::test::ScopedEnv;

namespace {

TEST(CudaDriverLoad, LibraryNameFollowsEnvironment) {
  {
    ScopedEnv env("KILN_CUDA_DRIVER_LIB", std::nullopt);
    EXPECT_EQ(driverLibraryName(), "libcuda.so.1");
  }
  {
    ScopedEnv env("KILN_CUDA_DRIVER_LIB", "");
    EXPECT_EQ(driverLibraryName(), "libcuda.so.1");
  }
  {
    ScopedEnv env("KILN_CUDA_DRIVER_LIB", "/opt/x/libcuda.so");
    EXPECT_EQ(driverLibraryName(), "/opt/x/libcuda.so");
  }
}

TEST(CudaDriverLoad, OverriddenMissingLibraryIsAClearError) {
  ScopedEnv env("KILN_CUDA_DRIVER_LIB", "/nonexistent/libcuda.so.1");
  Status s = loadDriver();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::DriverNotFound);
  EXPECT_EQ(s.message().rfind("CUDA driver not found (/nonexistent/libcuda.so.1, from "
                              "KILN_CUDA_DRIVER_LIB): no NVIDIA GPU on this machine",
                              0),
            0u)
      << s.message();
  EXPECT_NE(s.message().find("[dlopen: "), std::string::npos) << s.message();

  // Every entry point reports the same error instead of crashing, and again on a retry.
  Expected<Device> device = Device::open(0);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), ErrorCode::DriverNotFound);
  EXPECT_EQ(device.status().message(), s.message());
  EXPECT_EQ(driverVersion().status().code(), ErrorCode::DriverNotFound);
  EXPECT_EQ(deviceCount().status().code(), ErrorCode::DriverNotFound);
}

TEST(CudaDriverLoad, NotADriverIsAClearError) {
  // A library that loads but is no libcuda: libc has none of the entry points.
  ScopedEnv env("KILN_CUDA_DRIVER_LIB", "libc.so.6");
  Status s = loadDriver();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::DriverNotFound);
  EXPECT_NE(s.message().find("libc.so.6 (from KILN_CUDA_DRIVER_LIB) loads but is not a CUDA "
                             "driver"),
            std::string::npos)
      << s.message();
}

TEST(CudaDriverLoad, DefaultLibrary) {
  ScopedEnv env("KILN_CUDA_DRIVER_LIB", std::nullopt);
  Status s = loadDriver();
  if (kiln::runtime::cuda::test::realDriverPresent()) {
    // A GPU machine: the driver loads, or says there is no GPU behind it.
    EXPECT_TRUE(s.ok() || s.code() == ErrorCode::NoDevice) << s.message();
    std::printf("libcuda.so.1 present: %s\n", s.ok() ? "loaded" : s.message().c_str());
    return;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::DriverNotFound);
  EXPECT_EQ(s.message().rfind("CUDA driver not found (libcuda.so.1): no NVIDIA GPU on this "
                              "machine",
                              0),
            0u)
      << s.message();
  Expected<Device> device = Device::open();
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), ErrorCode::DriverNotFound);
}

} // namespace
