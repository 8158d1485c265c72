// The Level Zero runtime without an Intel GPU: a missing loader and a machine without a GPU
// driver are clear errors; against a fake loader the whole path (SPIR-V module with its
// build log, typed launch, copies) runs.
#include "EnvGuard.h"
#include "kiln/c/kiln_levelzero.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using kiln::test::EnvGuard;

namespace {

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// SPIR-V the fake accepts: the magic number, then `payload` (kernel names) padded to words.
std::vector<uint32_t> fakeSpirv(const std::string &payload) {
  std::vector<uint32_t> words(5 + (payload.size() + 3) / 4, 0);
  words[0] = 0x07230203;
  std::memcpy(words.data() + 5, payload.data(), payload.size());
  return words;
}

int fakeCounter(const char *name) {
  void *handle = dlopen(KILN_FAKE_LEVEL_ZERO, RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(handle, nullptr);
  auto fn = reinterpret_cast<int (*)()>(dlsym(handle, name));
  EXPECT_NE(fn, nullptr);
  return fn ? fn() : -1;
}

TEST(LevelZeroRuntime, MissingLoaderMeansNoIntelGPU) {
  EnvGuard lib("KILN_LEVEL_ZERO_LIB", "/nonexistent/libze_loader.so.1");
  kiln_ze_device device;
  EXPECT_EQ(kiln_ze_device_open(0, &device), KILN_ERROR_DRIVER_NOT_FOUND);
  EXPECT_TRUE(startsWith(kiln_ze_last_error(), "no Intel GPU: the Level Zero loader "
                                               "(libze_loader.so.1) is not installed ["))
      << kiln_ze_last_error();
}

TEST(LevelZeroRuntime, NoDriverIsACountOfZeroAndANamedError) {
  // The runtime calls zeInit once per library name: this test names the fake its own way.
  std::string path = KILN_FAKE_LEVEL_ZERO;
  path.insert(path.rfind('/'), "/.");
  EnvGuard lib("KILN_LEVEL_ZERO_LIB", path);
  EnvGuard none("KILN_FAKE_ZE_NO_DRIVER", "1");
  int count = -1;
  ASSERT_EQ(kiln_ze_device_count(&count), KILN_SUCCESS) << kiln_ze_last_error();
  EXPECT_EQ(count, 0);
  kiln_ze_device device;
  EXPECT_EQ(kiln_ze_device_open(0, &device), KILN_ERROR_NO_DEVICE);
  EXPECT_STREQ(kiln_ze_last_error(),
               "no Intel GPU: opening Intel GPU 0: zeInit: ZE_RESULT_ERROR_UNINITIALIZED "
               "(0x78000001): no Level Zero GPU driver is installed or sees a GPU");
  EXPECT_EQ(kiln_ze_last_result(), 0x78000001u);
}

TEST(LevelZeroRuntime, TheInstalledLoaderWithoutAGPUNeverCrashes) {
  EnvGuard lib("KILN_LEVEL_ZERO_LIB", std::nullopt);
  int count = -1;
  kiln_status s = kiln_ze_device_count(&count);
  EXPECT_TRUE(s == KILN_SUCCESS || s == KILN_ERROR_DRIVER_NOT_FOUND) << kiln_ze_last_error();
  if (count > 0)
    GTEST_SKIP() << "this machine has an Intel GPU";
  kiln_ze_device device;
  s = kiln_ze_device_open(0, &device);
  EXPECT_TRUE(s == KILN_ERROR_NO_DEVICE || s == KILN_ERROR_DRIVER_NOT_FOUND) << s;
  EXPECT_TRUE(startsWith(kiln_ze_last_error(), "no Intel GPU")) << kiln_ze_last_error();
}

class FakeLevelZero : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(kiln_ze_device_open(0, &device), KILN_SUCCESS) << kiln_ze_last_error();
    std::vector<uint32_t> spirv = fakeSpirv("vadd");
    ASSERT_EQ(kiln_ze_module_load_data(device, spirv.data(), spirv.size() * 4, &module),
              KILN_SUCCESS)
        << kiln_ze_last_error();
  }
  void TearDown() override {
    kiln_ze_module_unload(module);
    kiln_ze_device_close(device);
    EXPECT_EQ(fakeCounter("kilnFakeZeLiveModules"), 0);
    EXPECT_EQ(fakeCounter("kilnFakeZeLiveKernels"), 0);
    EXPECT_EQ(fakeCounter("kilnFakeZeLiveAllocations"), 0);
  }

  EnvGuard lib{"KILN_LEVEL_ZERO_LIB", KILN_FAKE_LEVEL_ZERO};
  kiln_ze_device device = nullptr;
  kiln_ze_module module = nullptr;
};

TEST_F(FakeLevelZero, VectorAddRunsThroughTypedLaunch) {
  char name[64];
  ASSERT_EQ(kiln_ze_device_name(device, name, sizeof name), KILN_SUCCESS);
  EXPECT_STREQ(name, "Fake Intel Data Center GPU Max 1550");
  const int n = 1025; // two work-groups of 1024, the second holding one element
  std::vector<float> a(n), b(n), c(n + 16, -1.f);
  for (int i = 0; i < n; ++i)
    a[i] = float(i), b[i] = 2.f;
  kiln_ze_kernel kernel;
  ASSERT_EQ(kiln_ze_module_get_kernel(module, "vadd", &kernel), KILN_SUCCESS);
  kiln_ze_buffer da, db, dc;
  ASSERT_EQ(kiln_ze_buffer_alloc(device, n * 4, &da), KILN_SUCCESS);
  ASSERT_EQ(kiln_ze_buffer_alloc(device, n * 4, &db), KILN_SUCCESS);
  ASSERT_EQ(kiln_ze_buffer_alloc(device, (n + 16) * 4, &dc), KILN_SUCCESS);
  ASSERT_EQ(kiln_ze_copy_to_device(da, 0, a.data(), n * 4), KILN_SUCCESS);
  ASSERT_EQ(kiln_ze_copy_to_device(db, 0, b.data(), n * 4), KILN_SUCCESS);
  ASSERT_EQ(kiln_ze_copy_to_device(dc, 0, c.data(), (n + 16) * 4), KILN_SUCCESS);
  kiln_gpu_arg args[4] = {};
  args[0].kind = args[1].kind = args[2].kind = KILN_GPU_ARG_POINTER;
  args[0].value.pointer = kiln_ze_buffer_address(da);
  args[1].value.pointer = kiln_ze_buffer_address(db);
  args[2].value.pointer = kiln_ze_buffer_address(dc);
  args[3].kind = KILN_GPU_ARG_I32;
  args[3].value.i32 = n;
  kiln_gpu_launch_config config = {{2, 1, 1}, {128, 1, 1}, 0};
  // Without a signature the kinds still size the arguments: an i64 n is caught by the driver.
  args[3].kind = KILN_GPU_ARG_I64;
  EXPECT_EQ(kiln_ze_launch(kernel, &config, args, 4), KILN_ERROR_LEVEL_ZERO);
  EXPECT_STREQ(kiln_ze_last_error(), "launching kernel 'vadd' (argument 3): "
                                     "zeKernelSetArgumentValue: "
                                     "ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE (0x78000016)");
  args[3].kind = KILN_GPU_ARG_I32;
  ASSERT_EQ(kiln_ze_launch(kernel, &config, args, 4), KILN_SUCCESS) << kiln_ze_last_error();
  ASSERT_EQ(kiln_ze_copy_to_host(c.data(), dc, 0, (n + 16) * 4), KILN_SUCCESS);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], float(i) + 2.f) << i;
  for (int i = n; i < n + 16; ++i)
    EXPECT_EQ(c[i], -1.f) << "canary " << i;
  EXPECT_EQ(fakeCounter("kilnFakeZeLastGroups"), 2);
  EXPECT_EQ(fakeCounter("kilnFakeZeLastGroupSize"), 128);

  const kiln_gpu_arg_kind signature[] = {KILN_GPU_ARG_POINTER, KILN_GPU_ARG_POINTER,
                                         KILN_GPU_ARG_POINTER, KILN_GPU_ARG_I32};
  ASSERT_EQ(kiln_ze_kernel_set_signature(kernel, signature, 4), KILN_SUCCESS);
  args[0].kind = KILN_GPU_ARG_I64;
  EXPECT_EQ(kiln_ze_launch(kernel, &config, args, 4), KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_ze_last_error(), "kernel 'vadd': argument 0 must be pointer, got i64");
  args[0].kind = KILN_GPU_ARG_POINTER;
  config.shared_bytes = 1024;
  EXPECT_EQ(kiln_ze_launch(kernel, &config, args, 4), KILN_ERROR_INVALID_ARGUMENT);

  kiln_ze_buffer_free(da);
  kiln_ze_buffer_free(db);
  kiln_ze_buffer_free(dc);
  kiln_ze_module_unload(module);
  module = nullptr;
  EXPECT_EQ(fakeCounter("kilnFakeZeLiveModules"), 1); // the kernel still holds it
  kiln_ze_kernel_release(kernel);
}

TEST_F(FakeLevelZero, BuildFailuresCarryTheLogAndBadInputIsNamed) {
  std::vector<uint32_t> spirv = fakeSpirv("BUILD_FAILS");
  kiln_ze_module other;
  EXPECT_EQ(kiln_ze_module_load_data(device, spirv.data(), spirv.size() * 4, &other),
            KILN_ERROR_COMPILE);
  EXPECT_STREQ(kiln_ze_last_error(),
               "building a SPIR-V module (32 bytes): zeModuleCreate: "
               "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE (0x70000004)\n"
               "build log:\nerror: fake IGC rejects this module");
  const char elf[] = "\x7f" "ELF....................";
  EXPECT_EQ(kiln_ze_module_load_data(device, elf, 24, &other), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(kiln_ze_last_error(), "kiln_ze_module_load_data: the image is not a SPIR-V module");
  kiln_ze_kernel kernel;
  EXPECT_EQ(kiln_ze_module_get_kernel(module, "softmax", &kernel), KILN_ERROR_NOT_FOUND);
  EXPECT_STREQ(kiln_ze_last_error(), "finding kernel 'softmax': zeKernelCreate: "
                                     "ZE_RESULT_ERROR_INVALID_KERNEL_NAME (0x78000011)");
}

} // namespace
