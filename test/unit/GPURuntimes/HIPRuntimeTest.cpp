// The HIP runtime without an AMD GPU: a missing or wrong library and a machine without GPUs
// are clear errors; against a fake libamdhip64 the whole path (module, typed launch, copies)
// runs, and argument mistakes are caught before HIP sees them.
#include "EnvGuard.h"
#include "kiln/c/kiln_hip.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using kiln::test::EnvGuard;

namespace {

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// An ELF image the fake accepts: a 64-byte header whose section table offset covers
/// `payload` (the kernel names).
std::string fakeCodeObject(const std::string &payload) {
  std::string image(64, '\0');
  std::memcpy(image.data(), "\x7f" "ELF", 4);
  uint64_t size = 64 + payload.size();
  std::memcpy(image.data() + 0x28, &size, 8);
  return image + payload;
}

int fakeCounter(const char *name) {
  void *handle = dlopen(KILN_FAKE_HIP, RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(handle, nullptr);
  auto fn = reinterpret_cast<int (*)()>(dlsym(handle, name));
  EXPECT_NE(fn, nullptr);
  return fn ? fn() : -1;
}

TEST(HipRuntime, MissingLibraryMeansNoAMDGPU) {
  EnvGuard lib("KILN_HIP_LIB", "/nonexistent/libamdhip64.so");
  kiln_hip_device device = reinterpret_cast<kiln_hip_device>(1);
  EXPECT_EQ(kiln_hip_device_open(0, &device), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_EQ(device, nullptr);
  EXPECT_TRUE(startsWith(kiln_hip_last_error(), "no AMD GPU: the HIP runtime (libamdhip64) is "
                                                "not installed [/nonexistent/libamdhip64.so:"))
      << kiln_hip_last_error();
  int count = -1;
  EXPECT_EQ(kiln_hip_device_count(&count), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_EQ(count, 0);
}

TEST(HipRuntime, ALibraryThatIsNotHipIsAClearError) {
  EnvGuard lib("KILN_HIP_LIB", "libc.so.6");
  kiln_hip_device device;
  EXPECT_EQ(kiln_hip_device_open(0, &device), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_STREQ(kiln_hip_last_error(), "no AMD GPU: the library loaded as the HIP runtime has no "
                                      "hipGetErrorName (not libamdhip64?)");
}

TEST(HipRuntime, NoDeviceIsACountOfZeroAndANamedError) {
  EnvGuard lib("KILN_HIP_LIB", KILN_FAKE_HIP);
  EnvGuard none("KILN_FAKE_HIP_NO_DEVICE", "1");
  int count = -1;
  ASSERT_EQ(kiln_hip_device_count(&count), KILN_SUCCESS) << kiln_hip_last_error();
  EXPECT_EQ(count, 0);
  kiln_hip_device device;
  EXPECT_EQ(kiln_hip_device_open(0, &device), KILN_ERROR_NO_DEVICE);
  EXPECT_STREQ(kiln_hip_last_error(), "no AMD GPU: opening GPU 0: hipGetDeviceCount: "
                                      "hipErrorNoDevice (no ROCm-capable device is detected)");
  EXPECT_EQ(kiln_hip_last_result(), 100);
}

TEST(HipRuntime, TheInstalledRuntimeWithoutAGPUNeverCrashes) {
  if (access("/dev/kfd", F_OK) == 0)
    GTEST_SKIP() << "this machine has an AMD GPU driver";
  EnvGuard lib("KILN_HIP_LIB", std::nullopt);
  kiln_hip_device device;
  kiln_status s = kiln_hip_device_open(0, &device);
  EXPECT_TRUE(s == KILN_ERROR_NO_DEVICE || s == KILN_ERROR_DRIVER_NOT_FOUND) << s;
  EXPECT_TRUE(startsWith(kiln_hip_last_error(), "no AMD GPU")) << kiln_hip_last_error();
}

class FakeHip : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(kiln_hip_device_open(0, &device), KILN_SUCCESS) << kiln_hip_last_error();
    std::string image = fakeCodeObject(std::string("vadd\0other", 10));
    ASSERT_EQ(kiln_hip_module_load_data(device, image.data(), image.size(), &module),
              KILN_SUCCESS)
        << kiln_hip_last_error();
  }
  void TearDown() override {
    kiln_hip_module_unload(module);
    kiln_hip_device_close(device);
    EXPECT_EQ(fakeCounter("kilnFakeHipLiveModules"), 0);
    EXPECT_EQ(fakeCounter("kilnFakeHipLiveAllocations"), 0);
  }

  EnvGuard lib{"KILN_HIP_LIB", KILN_FAKE_HIP};
  EnvGuard devices{"KILN_FAKE_HIP_NO_DEVICE", std::nullopt};
  kiln_hip_device device = nullptr;
  kiln_hip_module module = nullptr;
};

TEST_F(FakeHip, NamesTheDevice) {
  char name[8];
  ASSERT_EQ(kiln_hip_device_name(device, name, sizeof name), KILN_SUCCESS);
  EXPECT_STREQ(name, "Fake AM"); // truncated to the buffer
}

TEST_F(FakeHip, VectorAddRunsThroughTypedLaunch) {
  const int n = 2500; // three workgroups of 1024, the last one partial
  std::vector<float> a(n), b(n), c(n + 16, -1.f);
  for (int i = 0; i < n; ++i)
    a[i] = float(i), b[i] = 0.5f * float(i);
  kiln_hip_kernel kernel;
  ASSERT_EQ(kiln_hip_module_get_kernel(module, "vadd", &kernel), KILN_SUCCESS);
  const kiln_gpu_arg_kind signature[] = {KILN_GPU_ARG_POINTER, KILN_GPU_ARG_POINTER,
                                         KILN_GPU_ARG_POINTER, KILN_GPU_ARG_I32};
  ASSERT_EQ(kiln_hip_kernel_set_signature(kernel, signature, 4), KILN_SUCCESS);
  kiln_hip_buffer da, db, dc;
  ASSERT_EQ(kiln_hip_buffer_alloc(device, n * 4, &da), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_buffer_alloc(device, n * 4, &db), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_buffer_alloc(device, (n + 16) * 4, &dc), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_copy_to_device(da, 0, a.data(), n * 4), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_copy_to_device(db, 0, b.data(), n * 4), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_copy_to_device(dc, 0, c.data(), (n + 16) * 4), KILN_SUCCESS);
  kiln_gpu_arg args[4] = {};
  args[0].kind = args[1].kind = args[2].kind = KILN_GPU_ARG_POINTER;
  args[0].value.pointer = kiln_hip_buffer_address(da);
  args[1].value.pointer = kiln_hip_buffer_address(db);
  args[2].value.pointer = kiln_hip_buffer_address(dc);
  args[3].kind = KILN_GPU_ARG_I32;
  args[3].value.i32 = n;
  kiln_gpu_launch_config config = {{3, 1, 1}, {128, 1, 1}, 0};
  ASSERT_EQ(kiln_hip_launch(kernel, &config, args, 4), KILN_SUCCESS) << kiln_hip_last_error();
  ASSERT_EQ(kiln_hip_device_synchronize(device), KILN_SUCCESS);
  ASSERT_EQ(kiln_hip_copy_to_host(c.data(), dc, 0, (n + 16) * 4), KILN_SUCCESS);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], 1.5f * float(i)) << i;
  for (int i = n; i < n + 16; ++i)
    EXPECT_EQ(c[i], -1.f) << "canary " << i;
  EXPECT_EQ(fakeCounter("kilnFakeHipLastGrid"), 3);
  EXPECT_EQ(fakeCounter("kilnFakeHipLastBlock"), 128);

  // The signature catches the wrong count and kind, naming the argument.
  EXPECT_EQ(kiln_hip_launch(kernel, &config, args, 3), KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_hip_last_error(), "kernel 'vadd' takes 4 arguments, got 3");
  args[3].kind = KILN_GPU_ARG_F32;
  EXPECT_EQ(kiln_hip_launch(kernel, &config, args, 4), KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_hip_last_error(), "kernel 'vadd': argument 3 must be i32, got f32");
  config.grid[1] = 0;
  EXPECT_EQ(kiln_hip_launch(kernel, &config, args, 4), KILN_ERROR_INVALID_ARGUMENT);

  // Copies stay inside their buffer.
  EXPECT_EQ(kiln_hip_copy_to_host(c.data(), da, 4, n * 4), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_hip_last_error(), "kiln_hip_copy_to_host: 10000 bytes at offset 4 overrun a "
                                      "buffer of 10000");
  kiln_hip_buffer_free(da);
  kiln_hip_buffer_free(db);
  kiln_hip_buffer_free(dc);
  // The kernel keeps its module: unloading waits for the release.
  kiln_hip_module_unload(module);
  module = nullptr;
  EXPECT_EQ(fakeCounter("kilnFakeHipLiveModules"), 1);
  kiln_hip_kernel_release(kernel);
}

TEST_F(FakeHip, MissingKernelAndBadImagesAreNamed) {
  kiln_hip_kernel kernel;
  EXPECT_EQ(kiln_hip_module_get_kernel(module, "softmax", &kernel), KILN_ERROR_NOT_FOUND);
  EXPECT_STREQ(kiln_hip_last_error(), "finding kernel 'softmax': hipModuleGetFunction: "
                                      "hipErrorNotFound (fake HIP error)");
  EXPECT_EQ(kiln_hip_last_result(), 500);
  const char spirv[] = "\x03\x02\x23\x07 not a code object";
  kiln_hip_module other;
  EXPECT_EQ(kiln_hip_module_load_data(device, spirv, sizeof spirv, &other),
            KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_hip_last_error(),
               "kiln_hip_module_load_data: the image is not an HSA code object (ELF)");
  EXPECT_EQ(kiln_hip_module_load_file(device, "/nonexistent/k.hsaco", &other), KILN_ERROR_IO);
  EXPECT_STREQ(kiln_hip_last_error(), "cannot read code object '/nonexistent/k.hsaco'");
}

} // namespace
