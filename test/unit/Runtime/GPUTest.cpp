// Tests on a real GPU: they run wherever libcuda.so.1 loads and skip, saying why, elsewhere.
#include "RuntimeTestUtil.h"
#include "kiln/Runtime/CUDA.h"
#include "kiln/c/kiln_cuda.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

using namespace kiln::runtime::cuda;
using kiln::runtime::cuda::test::ScopedEnv;

namespace {

// vadd from Kernels.cu as PTX for sm_80 (JIT-compiled by the driver for any newer GPU).
const char kVaddPtx[] = R"(
.version 7.0
.target sm_80
.address_size 64
.visible .entry vadd(.param .u64 pa, .param .u64 pb, .param .u64 pc, .param .u32 pn)
{
  .reg .pred %p<2>;
  .reg .f32 %f<4>;
  .reg .b32 %r<6>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [pa];
  ld.param.u64 %rd2, [pb];
  ld.param.u64 %rd3, [pc];
  ld.param.u32 %r2, [pn];
  mov.u32 %r3, %ctaid.x;
  mov.u32 %r4, %ntid.x;
  mov.u32 %r5, %tid.x;
  mad.lo.s32 %r1, %r3, %r4, %r5;
  setp.ge.s32 %p1, %r1, %r2;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd4, %rd1;
  mul.wide.s32 %rd5, %r1, 4;
  add.s64 %rd6, %rd4, %rd5;
  cvta.to.global.u64 %rd7, %rd2;
  add.s64 %rd8, %rd7, %rd5;
  ld.global.f32 %f1, [%rd8];
  ld.global.f32 %f2, [%rd6];
  add.f32 %f3, %f2, %f1;
  cvta.to.global.u64 %rd9, %rd3;
  add.s64 %rd10, %rd9, %rd5;
  st.global.f32 [%rd10], %f3;
DONE:
  ret;
}
)";

class GPU : public ::testing::Test {
protected:
  void SetUp() override {
    Expected<Device> d = Device::open(0);
    if (!d.ok()) {
      ErrorCode c = d.status().code();
      if (c == ErrorCode::DriverNotFound || c == ErrorCode::NoDevice)
        GTEST_SKIP() << "no GPU here: " << d.status().message();
      FAIL() << d.status().message(); // a driver is there but broken: that is a failure
    }
    device_.emplace(std::move(d).value());
  }

  /// The sm_90a cubin of Kernels.cu: $KILN_CUDA_TEST_CUBIN, else the one built with the tests.
  static std::string cubinPath() {
    if (const char *env = std::getenv("KILN_CUDA_TEST_CUBIN"))
      return env;
#ifdef KILN_TEST_CUBIN
    return KILN_TEST_CUBIN;
#else
    return "";
#endif
  }

  /// Loads the cubin; skips (saying why) on a GPU that cannot run sm_90a code.
  Expected<Module> loadCubin() {
    const DeviceProperties &p = device_->properties();
    if (p.computeCapabilityMajor != 9 || p.computeCapabilityMinor != 0)
      return Status::error(ErrorCode::NotFound, "sm_90a cubin needs compute capability 9.0");
    std::string path = cubinPath();
    if (path.empty())
      return Status::error(ErrorCode::NotFound,
                           "no cubin: set KILN_CUDA_TEST_CUBIN or build with nvcc present");
    return device_->loadModuleFromFile(path);
  }

  std::optional<Device> device_;
};

void runVadd(Device &device, Kernel &kernel, int n) {
  std::mt19937 rng(n);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i)
    a[i] = dist(rng), b[i] = dist(rng);
  size_t bytes = size_t(n) * sizeof(float);
  Expected<Buffer> da = device.allocate(bytes), db = device.allocate(bytes),
                   dc = device.allocate(bytes + 64); // guard words past the end
  ASSERT_TRUE(da && db && dc);
  ASSERT_TRUE(da->copyFromHost(a.data(), bytes).ok());
  ASSERT_TRUE(db->copyFromHost(b.data(), bytes).ok());
  ASSERT_TRUE(dc->memset32(0x7fc00001u, 0, n + 16).ok()); // NaN poison + canary
  kernel.setSignature({"", {KernelParam::pointer("a", ElementType::F32),
                            KernelParam::pointer("b", ElementType::F32),
                            KernelParam::pointer("c", ElementType::F32),
                            KernelParam::scalar("n", ParamKind::I32)}});
  Expected<Stream> stream = device.createStream();
  Expected<Event> start = device.createEvent(), end = device.createEvent();
  ASSERT_TRUE(stream && start && end);
  LaunchConfig config{Dim3((n + 255) / 256), Dim3(256), 0, &*stream};
  ASSERT_TRUE(start->record(&*stream).ok());
  Status s = launch(kernel, config,
                    {KernelArg::pointer(*da, ElementType::F32), KernelArg::pointer(*db, ElementType::F32),
                     KernelArg::pointer(*dc, ElementType::F32), n});
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(end->record(&*stream).ok());
  ASSERT_TRUE(stream->synchronize().ok());
  Expected<float> ms = Event::elapsedMilliseconds(*start, *end);
  ASSERT_TRUE(ms.ok()) << ms.status().message();
  EXPECT_GE(*ms, 0.f);
  std::vector<uint32_t> out(n + 16);
  ASSERT_TRUE(dc->copyToHost(out.data(), (n + 16) * 4).ok());
  for (int i = 0; i < n; ++i) {
    float v;
    std::memcpy(&v, &out[i], 4);
    ASSERT_EQ(v, a[i] + b[i]) << "element " << i << " of " << n;
  }
  for (int i = n; i < n + 16; ++i)
    ASSERT_EQ(out[i], 0x7fc00001u) << "canary " << i - n << " overwritten";
}

TEST_F(GPU, Properties) {
  const DeviceProperties &p = device_->properties();
  std::printf("device %d: %s, sm_%d%d, %d SMs, %zu KiB opt-in shared/block, %zu MiB L2, %zu MiB\n",
              p.ordinal, p.name.c_str(), p.computeCapabilityMajor, p.computeCapabilityMinor,
              p.multiprocessorCount, p.maxSharedMemoryPerBlockOptin / 1024,
              p.l2CacheBytes >> 20, p.totalMemoryBytes >> 20);
  EXPECT_FALSE(p.name.empty());
  EXPECT_GT(p.multiprocessorCount, 0);
  EXPECT_EQ(p.warpSize, 32);
  EXPECT_GE(p.maxSharedMemoryPerBlockOptin, p.maxSharedMemoryPerBlock);
  EXPECT_GT(p.l2CacheBytes, 0u);
  Expected<int> v = driverVersion();
  ASSERT_TRUE(v.ok());
  std::printf("driver CUDA version %d\n", *v);
  EXPECT_GE(*v, 12000);
}

TEST_F(GPU, VaddFromPtxAtEdgeSizes) {
  Expected<Module> m = device_->loadModule(kVaddPtx, sizeof kVaddPtx);
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok()) << k.status().message();
  for (int n : {1, 255, 256, 257, 65521, 1 << 20})
    runVadd(*device_, *k, n);
}

TEST_F(GPU, VaddFromCubin) {
  Expected<Module> m = loadCubin();
  if (!m.ok() && m.status().code() == ErrorCode::NotFound &&
      m.status().message().find("compute capability") != std::string::npos)
    GTEST_SKIP() << m.status().message();
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok()) << k.status().message();
  Expected<int> regs = k->numRegisters();
  ASSERT_TRUE(regs.ok());
  std::printf("vadd: %d registers\n", *regs);
  for (int n : {1, 1000, 1 << 22})
    runVadd(*device_, *k, n);
}

TEST_F(GPU, DynamicSharedMemoryAbove48KiB) {
  Expected<Module> m = loadCubin();
  if (!m.ok() && m.status().message().find("compute capability") != std::string::npos)
    GTEST_SKIP() << m.status().message();
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("smem_reverse");
  ASSERT_TRUE(k.ok()) << k.status().message();
  const DeviceProperties &p = device_->properties();
  const int block = 256, n = 1000;
  // As much as the device allows: well above the 48 KiB default on Hopper (227 KiB).
  const int words = int(p.maxSharedMemoryPerBlockOptin / 4);
  std::vector<float> in(n), out(n);
  for (int i = 0; i < n; ++i)
    in[i] = float(i) + 0.25f;
  Expected<Buffer> din = device_->allocate(n * 4), dout = device_->allocate(n * 4);
  ASSERT_TRUE(din && dout);
  ASSERT_TRUE(din->copyFromHost(in.data(), n * 4).ok());
  ASSERT_TRUE(dout->memset(0xFF).ok());
  LaunchConfig config{Dim3((n + block - 1) / block), Dim3(block), size_t(words) * 4};
  Status s = launch(*k, config,
                    {KernelArg::pointer(*din, ElementType::F32),
                     KernelArg::pointer(*dout, ElementType::F32), n, words});
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(device_->synchronize().ok());
  ASSERT_TRUE(dout->copyToHost(out.data(), n * 4).ok());
  for (int i = 0; i < n; ++i) {
    int base = i / block * block, src = base + block - 1 - (i - base);
    ASSERT_EQ(out[i], src < n ? in[src] : 0.f) << i;
  }
  // One byte more than the device has is refused before the driver is asked.
  s = launch(*k, LaunchConfig{Dim3(1), Dim3(block), p.maxSharedMemoryPerBlockOptin + 1},
             {KernelArg::pointer(*din, ElementType::F32), KernelArg::pointer(*dout, ElementType::F32),
              n, words});
  EXPECT_EQ(s.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(s.message().find("shared memory: needs"), std::string::npos) << s.message();
}

TEST_F(GPU, CopiesAndMemset) {
  const size_t n = (1 << 20) + 3;
  std::vector<uint8_t> src(n), dst(n);
  for (size_t i = 0; i < n; ++i)
    src[i] = uint8_t(i * 31 + 7);
  Expected<Buffer> a = device_->allocate(n), b = device_->allocate(n);
  ASSERT_TRUE(a && b);
  Expected<Stream> s = device_->createStream();
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(a->copyFromHost(src.data(), n, 0, &*s).ok());
  ASSERT_TRUE(b->memset(0x5A, 0, SIZE_MAX, &*s).ok());
  ASSERT_TRUE(b->copyFrom(*a, n - 10, 5, 10, &*s).ok());
  ASSERT_TRUE(b->copyToHost(dst.data(), n, 0, &*s).ok());
  ASSERT_TRUE(s->synchronize().ok());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(dst[i], i < 10 ? 0x5A : src[i - 5]) << i;
}

TEST_F(GPU, UsableFromAnotherThread) {
  // Each call makes the primary context current, so a thread that never opened the device
  // can allocate, copy and launch.
  Expected<Module> m = device_->loadModule(kVaddPtx, sizeof kVaddPtx);
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok());
  std::thread([&] { runVadd(*device_, *k, 4097); }).join();
}

TEST_F(GPU, CAPIVaddFromCubin) {
  if (device_->properties().computeCapabilityMajor != 9 || cubinPath().empty())
    GTEST_SKIP() << "needs the sm_90a cubin and a compute capability 9.0 GPU";
  kiln_cuda_device dev = nullptr;
  ASSERT_EQ(kiln_cuda_device_open(0, &dev), KILN_SUCCESS) << kiln_cuda_last_error();
  kiln_cuda_module mod = nullptr;
  ASSERT_EQ(kiln_cuda_module_load_file(dev, cubinPath().c_str(), &mod), KILN_SUCCESS)
      << kiln_cuda_last_error();
  kiln_cuda_kernel kernel = nullptr;
  ASSERT_EQ(kiln_cuda_module_get_kernel(mod, "vadd", &kernel), KILN_SUCCESS);
  const int n = 3001;
  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i)
    a[i] = float(i) * 0.25f, b[i] = float(n - i);
  kiln_cuda_buffer bufs[3];
  for (auto &buf : bufs)
    ASSERT_EQ(kiln_cuda_buffer_alloc(dev, n * 4, &buf), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_copy_to_device(bufs[0], 0, a.data(), n * 4, nullptr), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_copy_to_device(bufs[1], 0, b.data(), n * 4, nullptr), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_memset(bufs[2], 0, 0xFF, n * 4, nullptr), KILN_SUCCESS);
  const kiln_cuda_param params[] = {{"a", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"b", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"c", KILN_CUDA_PARAM_POINTER, KILN_CUDA_ELEMENT_F32},
                                    {"n", KILN_CUDA_PARAM_I32, KILN_CUDA_ELEMENT_OPAQUE}};
  ASSERT_EQ(kiln_cuda_kernel_set_signature(kernel, params, 4), KILN_SUCCESS);
  kiln_cuda_arg args[4] = {};
  for (int i = 0; i < 3; ++i) {
    args[i].kind = KILN_CUDA_PARAM_POINTER;
    args[i].element_type = KILN_CUDA_ELEMENT_F32;
    args[i].value.pointer = kiln_cuda_buffer_address(bufs[i]);
  }
  args[3].kind = KILN_CUDA_PARAM_I32;
  args[3].value.i32 = n;
  kiln_cuda_launch_config config = {{(n + 127) / 128, 1, 1}, {128, 1, 1}, 0, nullptr};
  ASSERT_EQ(kiln_cuda_launch(kernel, &config, args, 4), KILN_SUCCESS) << kiln_cuda_last_error();
  ASSERT_EQ(kiln_cuda_device_synchronize(dev), KILN_SUCCESS);
  ASSERT_EQ(kiln_cuda_copy_to_host(c.data(), bufs[2], 0, n * 4, nullptr), KILN_SUCCESS);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], a[i] + b[i]) << i;
  for (auto &buf : bufs)
    kiln_cuda_buffer_free(buf);
  kiln_cuda_kernel_release(kernel);
  kiln_cuda_module_unload(mod);
  kiln_cuda_device_close(dev);
}

// The two tests below make failing driver calls on purpose; sanitizer runs filter them out.
TEST_F(GPU, ParameterSizesFromCubin) {
  Expected<Module> m = loadCubin();
  if (!m.ok() && m.status().message().find("compute capability") != std::string::npos)
    GTEST_SKIP() << m.status().message();
  ASSERT_TRUE(m.ok()) << m.status().message();
  Expected<Kernel> k = m->kernel("vadd");
  ASSERT_TRUE(k.ok());
  Expected<std::vector<size_t>> sizes = k->parameterSizes();
  ASSERT_TRUE(sizes.ok()) << sizes.status().message();
  EXPECT_EQ(*sizes, (std::vector<size_t>{8, 8, 8, 4}));
  // Without a signature, the binary's sizes still catch a wrong width.
  Status s = launch(*k, LaunchConfig{Dim3(1), Dim3(32)},
                    {KernelArg::pointer(0, ElementType::F32), KernelArg::pointer(0, ElementType::F32),
                     KernelArg::pointer(0, ElementType::F32), int64_t(1)});
  EXPECT_EQ(s.code(), ErrorCode::InvalidLaunchArgument);
  EXPECT_EQ(s.message(), "launch of 'vadd': argument 3 is 4 bytes in the kernel, got i64 1 (8 bytes)");
}

// Last: it feeds the real driver malformed images.
TEST_F(GPU, RealDriverErrorsCarryNames) {
  unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  Expected<Module> m = device_->loadModule(elf, sizeof elf);
  ASSERT_FALSE(m.ok());
  std::printf("bad image: %s\n", m.status().message().c_str());
  EXPECT_NE(m.status().message().find("cuModuleLoadData: CUDA_ERROR_"), std::string::npos);
  const char bad[] = ".version 7.0\n.target sm_80\n.address_size 64\n.visible .entry k() { bogus; }\n";
  m = device_->loadModule(bad, sizeof bad);
  ASSERT_FALSE(m.ok());
  std::printf("bad PTX: %s\n", m.status().message().c_str());
  EXPECT_NE(m.status().message().find("cuModuleLoadDataEx: CUDA_ERROR_INVALID_PTX"),
            std::string::npos);
  m = device_->loadModule(kVaddPtx, sizeof kVaddPtx);
  ASSERT_TRUE(m.ok());
  Expected<Kernel> k = m->kernel("nope");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), ErrorCode::NotFound);
  EXPECT_NE(k.status().message().find("CUDA_ERROR_NOT_FOUND"), std::string::npos)
      << k.status().message();
}

} // namespace
