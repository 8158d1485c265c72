// The whole runtime path against a fake libcuda (host memory, CPU kernels): module loading,
// error translation, buffers, launches, shared-memory opt-in, streams, events, the C API.
#include "RuntimeTestUtil.h"
#include "kiln/Runtime/CUDA.h"
#include "kiln/c/kiln_cuda.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

using namespace kiln::runtime::cuda;
using kiln::runtime::cuda::test::ScopedEnv;

namespace {

const char kFakePtx[] = ".version 8.0\n.target sm_90\n.address_size 64\n"
                        ".visible .entry vadd(.param .u64 a, .param .u64 b, .param .u64 c, "
                        ".param .u32 n) { ret; }\n"
                        ".visible .entry smem_reverse(.param .u64 in, .param .u64 out, "
                        ".param .u32 n, .param .u32 words) { ret; }\n";

/// Points the runtime at the fake driver; `spelling` makes a distinct cache entry for the
/// same library so that a test can see cuInit or version checks run afresh.
class FakeDriver : public ::testing::Test {
protected:
  static std::string path(const std::string &spelling = "") {
    std::string p = KILN_FAKE_CUDA_DRIVER;
    size_t slash = p.rfind('/');
    return p.substr(0, slash) + spelling + p.substr(slash);
  }
  template <typename T> static T counter(const char *name) {
    // The same file as the runtime's dlopen, so the same instance (kept open on purpose).
    void *h = dlopen(KILN_FAKE_CUDA_DRIVER, RTLD_NOW | RTLD_LOCAL);
    EXPECT_NE(h, nullptr);
    auto fn = h ? reinterpret_cast<T (*)()>(dlsym(h, name)) : nullptr;
    return fn ? fn() : T(-1);
  }
  ScopedEnv env_{"KILN_CUDA_DRIVER_LIB", path()};

  Device open() {
    Expected<Device> d = Device::open(0);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return std::move(d).value();
  }
};

TEST_F(FakeDriver, DeviceProperties) {
  EXPECT_EQ(*driverVersion(), 13000);
  EXPECT_EQ(*deviceCount(), 1);
  Device d = open();
  const DeviceProperties &p = d.properties();
  EXPECT_EQ(p.name, "Kiln Fake GPU");
  EXPECT_EQ(p.computeCapabilityMajor, 9);
  EXPECT_EQ(p.computeCapabilityMinor, 0);
  EXPECT_EQ(p.multiprocessorCount, 132);
  EXPECT_EQ(p.maxSharedMemoryPerBlockOptin, 232448u);
  EXPECT_EQ(p.l2CacheBytes, 50u * 1024 * 1024);
  EXPECT_EQ(p.totalMemoryBytes, size_t(80) << 30);
  EXPECT_EQ(p.warpSize, 32);
}

TEST_F(FakeDriver, BadOrdinal) {
  Expected<Device> d = Device::open(3);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::NoDevice);
  EXPECT_EQ(d.status().message(),
            "CUDA device 3 requested, but this machine has 1 CUDA device(s)");
}

TEST_F(FakeDriver, PrimaryContextReleasedWithLastObject) {
  int before = counter<int>("kilnFakeRetainCount");
  {
    Device d = open();
    Expected<Buffer> b = d.allocate(64);
    ASSERT_TRUE(b.ok());
    Device copy = d;
    EXPECT_EQ(counter<int>("kilnFakeRetainCount"), before + 1);
  }
  EXPECT_EQ(counter<int>("kilnFakeRetainCount"), before);
}

TEST_F(FakeDriver, NoDeviceFromCuInit) {
  ScopedEnv noDevice("KILN_FAKE_CUDA_NO_DEVICE", "1");
  ScopedEnv lib("KILN_CUDA_DRIVER_LIB", path("/."));
  Expected<Device> d = Device::open(0);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::NoDevice);
  EXPECT_NE(d.status().message().find(
                "cuInit: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected): no NVIDIA "
                "GPU visible"),
            std::string::npos)
      << d.status().message();
  EXPECT_EQ(d.status().cudaResult(), 100);
  Expected<int> n = deviceCount();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST_F(FakeDriver, OldDriverIsRefused) {
  ScopedEnv version("KILN_FAKE_CUDA_VERSION", "11080");
  ScopedEnv lib("KILN_CUDA_DRIVER_LIB", path("/./."));
  Status s = loadDriver();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::DriverTooOld);
  EXPECT_NE(s.message().find("(CUDA 11.8) is too old: Kiln needs CUDA 12.0 or newer"),
            std::string::npos)
      << s.message();
}

TEST_F(FakeDriver, VectorAddThroughTypedLaunch) {
  Device d = open();
  Expected<Module> m = d.loadModule(kFakePtx, sizeof kFakePtx);
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok()) << k.status().message();
  Expected<std::vector<size_t>> sizes = k->parameterSizes();
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<size_t>{8, 8, 8, 4}));

  const int n = 1000;
  std::vector<float> a(n), b(n), c(n, -1.f);
  for (int i = 0; i < n; ++i)
    a[i] = float(i), b[i] = 0.5f * float(i);
  const size_t bytes = n * sizeof(float);
  Expected<Buffer> da = d.allocate(bytes), db = d.allocate(bytes), dc = d.allocate(bytes);
  ASSERT_TRUE(da && db && dc);
  ASSERT_TRUE(da->copyFromHost(a.data(), bytes).ok());
  ASSERT_TRUE(db->copyFromHost(b.data(), bytes).ok());
  ASSERT_TRUE(dc->memset32(0x7fc00000u, 0, n).ok()); // poison with NaN

  k->setSignature({"", {KernelParam::pointer("a", ElementType::F32),
                        KernelParam::pointer("b", ElementType::F32),
                        KernelParam::pointer("c", ElementType::F32),
                        KernelParam::scalar("n", ParamKind::I32)}});
  EXPECT_EQ(k->signature()->kernelName, "vadd");
  LaunchConfig config{Dim3((n + 255) / 256), Dim3(256)};
  Status s = launch(*k, config,
                    {KernelArg::pointer(*da, ElementType::F32), KernelArg::pointer(*db, ElementType::F32),
                     KernelArg::pointer(*dc, ElementType::F32), n});
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(d.synchronize().ok());
  ASSERT_TRUE(dc->copyToHost(c.data(), bytes).ok());
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], 1.5f * float(i)) << i;

  // A wrong argument is caught before the driver sees the launch.
  s = launch(*k, config,
             {KernelArg::pointer(*da, ElementType::F32), KernelArg::pointer(*db, ElementType::F32),
              KernelArg::pointer(*dc, ElementType::F16), n});
  EXPECT_EQ(s.code(), ErrorCode::InvalidLaunchArgument);
  EXPECT_EQ(s.message(),
            "launch of 'vadd': argument 2 'c': expected pointer to f32, got pointer to f16");
}

TEST_F(FakeDriver, ParameterSizesCatchArgumentsWithoutASignature) {
  Device d = open();
  Expected<Module> m = d.loadModule(kFakePtx, sizeof kFakePtx);
  ASSERT_TRUE(m.ok());
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok());
  LaunchConfig config{Dim3(1), Dim3(32)};
  std::vector<KernelArg> args(5, KernelArg::pointer(0, ElementType::F32));
  Status s = launch(*k, config, args);
  EXPECT_EQ(s.code(), ErrorCode::InvalidLaunchArgument);
  EXPECT_EQ(s.message(), "launch of 'vadd': argument 3 is 4 bytes in the kernel, got pointer to "
                         "f32 (8 bytes)");
  args[3] = int32_t(1);
  s = launch(*k, config, args);
  EXPECT_EQ(s.message(), "launch of 'vadd': the kernel takes 4 arguments, got 5");
  s = launch(*k, config,
             {KernelArg::pointer(0, ElementType::F32), KernelArg::pointer(0, ElementType::F32),
              KernelArg::pointer(0, ElementType::F32), int64_t(1)});
  EXPECT_EQ(s.message(), "launch of 'vadd': argument 3 is 4 bytes in the kernel, got i64 1 (8 bytes)");
}

TEST_F(FakeDriver, LaunchConfigurationChecks) {
  Device d = open();
  Expected<Module> m = d.loadModule(kFakePtx, sizeof kFakePtx);
  ASSERT_TRUE(m.ok());
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok());
  std::vector<KernelArg> args = {KernelArg::pointer(0, ElementType::F32),
                                 KernelArg::pointer(0, ElementType::F32),
                                 KernelArg::pointer(0, ElementType::F32), int32_t(0)};
  Status s = launch(*k, {Dim3(0), Dim3(32)}, args);
  EXPECT_EQ(s.message(), "launch of 'vadd': empty grid 0x1x1");
  s = launch(*k, {Dim3(1), Dim3(64, 32)}, args);
  EXPECT_EQ(s.message(), "launch of 'vadd': block 64x32x1 has 2048 threads; the kernel can run "
                         "at most 1024 per block on Kiln Fake GPU");
  s = launch(*k, {Dim3(1), Dim3(32), 300 * 1024}, args);
  EXPECT_EQ(s.code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(s.message(), "launch of 'vadd': shared memory: needs 300 KiB (300 KiB dynamic + 0 "
                         "KiB static), device Kiln Fake GPU has 227 KiB per block");
}

TEST_F(FakeDriver, LargeDynamicSharedMemoryRaisesTheLimit) {
  Device d = open();
  Expected<Module> m = d.loadModule(kFakePtx, sizeof kFakePtx);
  ASSERT_TRUE(m.ok());
  Expected<Kernel> k = m->kernel("smem_reverse");
  ASSERT_TRUE(k.ok());
  const int n = 300, block = 128;
  const int words = 200 * 1024 / 4; // 200 KiB: above the 48 KiB default
  std::vector<float> in(n), out(n);
  for (int i = 0; i < n; ++i)
    in[i] = float(i + 1);
  Expected<Buffer> din = d.allocate(n * 4), dout = d.allocate(n * 4);
  ASSERT_TRUE(din && dout);
  ASSERT_TRUE(din->copyFromHost(in.data(), n * 4).ok());
  LaunchConfig config{Dim3((n + block - 1) / block), Dim3(block), size_t(words) * 4};
  Status s = launch(*k, config,
                    {KernelArg::pointer(*din, ElementType::F32),
                     KernelArg::pointer(*dout, ElementType::F32), n, words});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(counter<unsigned>("kilnFakeLastLaunchShared"), unsigned(words) * 4);
  ASSERT_TRUE(dout->copyToHost(out.data(), n * 4).ok());
  for (int i = 0; i < n; ++i) {
    int base = i / block * block, src = base + block - 1 - (i - base);
    ASSERT_EQ(out[i], src < n ? in[src] : 0.f) << i;
  }
  // Explicitly asking for more than the device has names both amounts.
  s = k->setMaxDynamicSharedMemory(228 * 1024);
  EXPECT_EQ(s.message(), "kernel 'smem_reverse': shared memory: needs 228 KiB (228 KiB dynamic "
                         "+ 0 KiB static), device Kiln Fake GPU has 227 KiB per block");
}

TEST_F(FakeDriver, ModuleErrorsCarryCudaNames) {
  Device d = open();
  // A well-formed ELF header the driver rejects: the message names call, error and string.
  unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  Expected<Module> m = d.loadModule(elf, sizeof elf);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::CudaError);
  EXPECT_EQ(m.status().message(), "loading module from memory (64 bytes): cuModuleLoadData: "
                                  "CUDA_ERROR_INVALID_IMAGE (device kernel image is invalid)");
  EXPECT_EQ(m.status().cudaResult(), 200);

  // PTX that does not assemble: the JIT log is in the message.
  const char bad[] = "this is not ptx";
  m = d.loadModule(bad, std::strlen(bad)); // not NUL-terminated within `bytes`
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "loading module from memory (15 bytes) (PTX): cuModuleLoadDataEx: "
            "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed)\nptxas log:\n"
            "ptxas fatal   : Missing .version directive");

  m = d.loadModule(kFakePtx, sizeof kFakePtx);
  ASSERT_TRUE(m.ok());
  Expected<Kernel> k = m->kernel("vsub");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), ErrorCode::NotFound);
  EXPECT_EQ(k.status().message().rfind(
                "looking up kernel 'vsub' in module memory (" + std::to_string(sizeof kFakePtx) +
                    " bytes): cuModuleGetFunction: CUDA_ERROR_NOT_FOUND (named symbol not found)",
                0),
            0u)
      << k.status().message();
}

TEST_F(FakeDriver, TruncatedImagesAreRefusedBeforeTheDriverReadsThem) {
  Device d = open();
  unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  elf[0x28] = 0x00, elf[0x29] = 0x10; // section headers at 4096, past the end
  elf[0x3A] = 64, elf[0x3C] = 3;      // three of 64 bytes
  Expected<Module> m = d.loadModule(elf, sizeof elf);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(m.status().message(), "loading module from memory (64 bytes): image is truncated or "
                                  "corrupt (section headers past the end)");
  m = d.loadModule(elf, 20);
  EXPECT_EQ(m.status().message(), "loading module from memory (20 bytes): image is truncated or "
                                  "corrupt (not a 64-bit ELF header)");
  const unsigned char fatbin[16] = {0x50, 0xED, 0x55, 0xBA, 1, 0, 16, 0, 0xff, 0xff};
  m = d.loadModule(fatbin, sizeof fatbin);
  EXPECT_EQ(m.status().message(), "loading module from memory (16 bytes): image is truncated or "
                                  "corrupt (fatbin declares 65551 bytes)");
  m = d.loadModule(nullptr, 0);
  EXPECT_EQ(m.status().message(), "loading module from memory (0 bytes): empty image");
}

TEST_F(FakeDriver, ModuleFromFile) {
  Device d = open();
  Expected<Module> m = d.loadModuleFromFile("/nonexistent/k.cubin");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::NotFound);
  EXPECT_EQ(m.status().message(),
            "reading module file '/nonexistent/k.cubin': No such file or directory");

  std::string path = ::testing::TempDir() + "kiln_fake_module.ptx";
  {
    std::ofstream out(path, std::ios::binary);
    out << kFakePtx; // no trailing NUL: the runtime adds one
  }
  m = d.loadModuleFromFile(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(m->kernel("vadd").ok());
  std::remove(path.c_str());
}

TEST_F(FakeDriver, BuffersAreBoundsCheckedAndFreed) {
  int live = counter<int>("kilnFakeLiveAllocations");
  {
    Device d = open();
    Expected<Buffer> b = d.allocate(16);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(counter<int>("kilnFakeLiveAllocations"), live + 1);
    char host[32] = {};
    Status s = b->copyFromHost(host, 12, 8);
    EXPECT_EQ(s.code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(s.message(), "copy to device: 12 bytes at offset 8 exceed the buffer's 16 bytes");
    s = b->copyToHost(host, 17);
    EXPECT_EQ(s.message(), "copy to host: 17 bytes at offset 0 exceed the buffer's 16 bytes");
    s = b->copyFromHost(host, 1, SIZE_MAX); // offset + bytes overflows
    EXPECT_EQ(s.code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(b->memset32(1, 2, 1).message(), "memset32: offset 2 is not 4-aligned");
    EXPECT_EQ(d.allocate(0).status().message(), "allocating a device buffer of 0 bytes");

    // Copies, D2D, memset, moves.
    ASSERT_TRUE(b->memset(0xAB).ok());
    Expected<Buffer> c = d.allocate(16);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->memset(0).ok());
    ASSERT_TRUE(c->copyFrom(*b, 8, 0, 4).ok());
    unsigned char back[16];
    ASSERT_TRUE(c->copyToHost(back, 16).ok());
    for (int i = 0; i < 16; ++i)
      EXPECT_EQ(back[i], (i >= 4 && i < 12) ? 0xAB : 0) << i;
    Buffer moved = std::move(*c);
    EXPECT_EQ(c->address(), 0u);
    EXPECT_EQ(moved.size(), 16u);
    EXPECT_EQ(counter<int>("kilnFakeLiveAllocations"), live + 2);
    Expected<Buffer> huge = d.allocate(size_t(1) << 41);
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.status().code(), ErrorCode::OutOfMemory);
    EXPECT_EQ(huge.status().message(), "allocating 2199023255552 bytes on device 0: cuMemAlloc: "
                                       "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  }
  EXPECT_EQ(counter<int>("kilnFakeLiveAllocations"), live);
}

TEST_F(FakeDriver, StreamsAndEvents) {
  int streams = counter<int>("kilnFakeLiveStreams"), events = counter<int>("kilnFakeLiveEvents");
  {
    Device d = open();
    Expected<Stream> s = d.createStream();
    ASSERT_TRUE(s.ok());
    Expected<Event> start = d.createEvent(), end = d.createEvent();
    ASSERT_TRUE(start && end);
    EXPECT_EQ(counter<int>("kilnFakeLiveStreams"), streams + 1);
    EXPECT_EQ(counter<int>("kilnFakeLiveEvents"), events + 2);
    Expected<float> t = Event::elapsedMilliseconds(*start, *end);
    ASSERT_FALSE(t.ok()); // never recorded
    EXPECT_EQ(t.status().message(), "measuring the time between two events: cuEventElapsedTime: "
                                    "CUDA_ERROR_INVALID_HANDLE (invalid resource handle)");
    ASSERT_TRUE(start->record(&*s).ok());
    std::vector<float> host(4, 1.f);
    Expected<Buffer> b = d.allocate(16);
    ASSERT_TRUE(b->copyFromHost(host.data(), 16, 0, &*s).ok());
    ASSERT_TRUE(end->record(&*s).ok());
    ASSERT_TRUE(end->synchronize().ok());
    ASSERT_TRUE(s->synchronize().ok());
    t = Event::elapsedMilliseconds(*start, *end);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_GT(*t, 0.f);
  }
  EXPECT_EQ(counter<int>("kilnFakeLiveStreams"), streams);
  EXPECT_EQ(counter<int>("kilnFakeLiveEvents"), events);
}

TEST_F(FakeDriver, ObjectsWorkFromAnotherThread) {
  // Each call makes the context current, so a thread that never opened the device can use it.
  Device d = open();
  Expected<Buffer> b = d.allocate(16);
  ASSERT_TRUE(b.ok());
  Status s;
  std::thread([&] { s = b->memset(1); }).join();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST_F(FakeDriver, CAPIEndToEnd) {
  kiln_cuda_device dev = nullptr;
  ASSERT_EQ(kiln_cuda_device_open(0, &dev), KILN_SUCCESS) << kiln_cuda_last_error();
  kiln_cuda_device_properties props;
  ASSERT_EQ(kiln_cuda_device_get_properties(dev, &props), KILN_SUCCESS);
  EXPECT_STREQ(props.name, "Kiln Fake GPU");
  EXPECT_EQ(props.multiprocessor_count, 132);

  kiln_cuda_module mod = nullptr;
  unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  EXPECT_EQ(kiln_cuda_module_load_data(dev, elf, sizeof elf, &mod), KILN_ERROR_CUDA);
  EXPECT_EQ(kiln_cuda_last_cuda_result(), 200);
  EXPECT_NE(std::string(kiln_cuda_last_error()).find("CUDA_ERROR_INVALID_IMAGE"), std::string::npos);
  ASSERT_EQ(kiln_cuda_module_load_data(dev, kFakePtx, sizeof kFakePtx, &mod), KILN_SUCCESS);
  kiln_cuda_kernel kernel = nullptr;
  EXPECT_EQ(kiln_cuda_module_get_kernel(mod, "nope", &kernel), KILN_ERROR_NOT_FOUND);
  ASSERT_EQ(kiln_cuda_module_get_kernel(mod, "vadd", &kernel), KILN_SUCCESS);
  kiln_cuda_module_unload(mod); // the kernel keeps the module loaded

  const int n = 64;
  std::vector<float> a(n, 2.f), b(n, 3.f), c(n, 0.f);
  kiln_cuda_buffer da, db, dc;
  ASSERT_EQ(kiln_cuda_buffer_alloc(dev, n * 4, &da), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_buffer_alloc(dev, n * 4, &db), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_buffer_alloc(dev, n * 4, &dc), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_copy_to_device(da, 0, a.data(), n * 4, nullptr), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_copy_to_device(db, 0, b.data(), n * 4, nullptr), KILN_SUCCESS);
  EXPECT_EQ(kiln_cuda_copy_to_device(db, 4, b.data(), n * 4, nullptr), KILN_ERROR_INVALID_ARGUMENT);

  const kiln_cuda_param params[] = {{"a", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"b", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"c", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"n", KILN_CUDA_PARAM_I32, KILN_CUDA_ELEMENT_OPAQUE}};
  ASSERT_EQ(kiln_cuda_kernel_set_signature(kernel, params, 4), KILN_SUCCESS);
  kiln_cuda_arg args[4] = {};
  kiln_cuda_buffer bufs[3] = {da, db, dc};
  for (int i = 0; i < 3; ++i) {
    args[i].kind = KILN_CUDA_PARAM_POINTER;
    args[i].element_type = KILN_CUDA_ELEMENT_F32;
    args[i].value.pointer = kiln_cuda_buffer_address(bufs[i]);
  }
  args[3].kind = KILN_CUDA_PARAM_I32;
  args[3].value.i32 = n;
  kiln_cuda_launch_config config = {{1, 1, 1}, {64, 1, 1}, 0, nullptr};
  EXPECT_EQ(kiln_cuda_launch(kernel, &config, args, 3), KILN_ERROR_INVALID_LAUNCH_ARGUMENT);
  EXPECT_STREQ(kiln_cuda_last_error(),
               "launch of 'vadd': expected 4 arguments, got 3 (missing argument 3 'n': i32)");
  kiln_cuda_stream stream;
  kiln_cuda_event start, end;
  ASSERT_EQ(kiln_cuda_stream_create(dev, &stream), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_event_create(dev, &start), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_event_create(dev, &end), KILN_SUCCESS);
  config.stream = stream;
  ASSERT_EQ(kiln_cuda_event_record(start, stream), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_launch(kernel, &config, args, 4), KILN_SUCCESS) << kiln_cuda_last_error();
  ASSERT_EQ(kiln_cuda_event_record(end, stream), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_stream_synchronize(stream), KILN_SUCCESS);
  float ms = -1;
  ASSERT_EQ(kiln_cuda_event_elapsed_ms(start, end, &ms), KILN_SUCCESS);
  EXPECT_GE(ms, 0.f);
  ASSERT_EQ(kiln_cuda_copy_to_host(c.data(), dc, 0, n * 4, nullptr), KILN_SUCCESS);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], 5.f);
  kiln_cuda_event_destroy(start);
  kiln_cuda_event_destroy(end);
  kiln_cuda_stream_destroy(stream);
  kiln_cuda_buffer_free(da);
  kiln_cuda_buffer_free(db);
  kiln_cuda_buffer_free(dc);
  kiln_cuda_kernel_release(kernel);
  kiln_cuda_device_close(dev);
}

} // namespace
