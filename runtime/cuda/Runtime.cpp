// Devices, modules, kernels, buffers, streams, events and launches over the loaded driver.
#include "Driver.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>

namespace kiln::runtime::cuda {

using namespace driver;

namespace detail {

DeviceState::~DeviceState() {
  if (context)
    driver->cuDevicePrimaryCtxRelease(device); // Errors at exit (deinitialised) are moot.
}

Status DeviceState::makeCurrent() const {
  CUcontext current = nullptr;
  if (driver->cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == context)
    return Status::success();
  return driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent",
                       "making device " + std::to_string(properties.ordinal) + " current");
}

ModuleState::~ModuleState() {
  if (module && device->makeCurrent())
    device->driver->cuModuleUnload(module);
}

struct KernelState {
  std::shared_ptr<ModuleState> module;
  std::optional<Device> device;
  CUfunction function = nullptr;
  std::string name;
  std::optional<KernelSignature> signature;
  int maxThreadsPerBlock = 0;
  size_t staticSharedBytes = 0;
  /// The kernel's current dynamic shared memory limit (48 KiB unless raised).
  std::atomic<size_t> dynamicSharedLimit{48 * 1024};
  std::mutex paramSizesMutex;
  std::optional<Expected<std::vector<size_t>>> paramSizes; ///< all parameters, queried once.
  /// Parameter sizes learnt one index at a time by launches without a signature.
  std::vector<size_t> knownParamSizes;
  std::optional<size_t> knownParamCount; ///< set once an index past the end was seen.
  bool paramInfoUnavailable = false;
};

} // namespace detail

static constexpr size_t kDefaultSharedLimit = 48 * 1024;

static std::string kib(size_t bytes) {
  char buf[32];
  if (bytes % 1024 == 0)
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  return buf;
}

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

Expected<Device> Device::open(int ordinal) {
  Expected<Driver *> drvOr = getDriver();
  if (!drvOr)
    return drvOr.status();
  Driver *drv = *drvOr;
  int count = 0;
  if (Status s = drv->check(drv->cuDeviceGetCount(&count), "cuDeviceGetCount"); !s)
    return s;
  if (ordinal < 0 || ordinal >= count)
    return Status::error(ErrorCode::NoDevice, "CUDA device " + std::to_string(ordinal) +
                                                  " requested, but this machine has " +
                                                  std::to_string(count) + " CUDA device(s)");
  auto state = std::make_shared<detail::DeviceState>();
  state->driver = drv;
  const std::string doing = "opening CUDA device " + std::to_string(ordinal);
  if (Status s = drv->check(drv->cuDeviceGet(&state->device, ordinal), "cuDeviceGet", doing); !s)
    return s;
  if (Status s = drv->check(drv->cuDevicePrimaryCtxRetain(&state->context, state->device),
                            "cuDevicePrimaryCtxRetain", doing);
      !s)
    return s;

  DeviceProperties &p = state->properties;
  p.ordinal = ordinal;
  char name[256] = {};
  if (Status s = drv->check(drv->cuDeviceGetName(name, sizeof name - 1, state->device),
                            "cuDeviceGetName", doing);
      !s)
    return s;
  p.name = name;
  struct Query {
    CUdevice_attribute attribute;
    const char *what;
    int *intOut;
    size_t *sizeOut;
  };
  const Query queries[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability", &p.computeCapabilityMajor, nullptr},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability", &p.computeCapabilityMinor, nullptr},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count", &p.multiprocessorCount, nullptr},
      {CU_DEVICE_ATTRIBUTE_WARP_SIZE, "warp size", &p.warpSize, nullptr},
      {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "max threads per block", &p.maxThreadsPerBlock, nullptr},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "shared memory per block", nullptr, &p.maxSharedMemoryPerBlock},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "opt-in shared memory per block", nullptr, &p.maxSharedMemoryPerBlockOptin},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, "shared memory per SM", nullptr, &p.maxSharedMemoryPerMultiprocessor},
      {CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2 size", nullptr, &p.l2CacheBytes},
      {CU_DEVICE_ATTRIBUTE_CLOCK_RATE, "clock rate", &p.clockRateKHz, nullptr},
      {CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, "memory bus width", &p.memoryBusWidthBits, nullptr},
  };
  for (const Query &q : queries) {
    int value = 0;
    if (Status s = drv->check(drv->cuDeviceGetAttribute(&value, q.attribute, state->device),
                              "cuDeviceGetAttribute", doing + ": querying " + q.what);
        !s)
      return s;
    if (q.intOut)
      *q.intOut = value;
    else
      *q.sizeOut = static_cast<size_t>(value);
  }
  if (Status s = drv->check(drv->cuDeviceTotalMem(&p.totalMemoryBytes, state->device),
                            "cuDeviceTotalMem", doing);
      !s)
    return s;
  if (Status s = state->makeCurrent(); !s)
    return s;
  return Device(std::move(state));
}

const DeviceProperties &Device::properties() const { return state_->properties; }
int Device::ordinal() const { return state_->properties.ordinal; }
Status Device::makeCurrent() const { return state_->makeCurrent(); }

Status Device::synchronize() const {
  if (Status s = state_->makeCurrent(); !s)
    return s;
  return state_->driver->check(state_->driver->cuCtxSynchronize(), "cuCtxSynchronize",
                               "synchronising device " + std::to_string(ordinal()));
}

//===----------------------------------------------------------------------===//
// Module loading
//===----------------------------------------------------------------------===//

enum class ImageKind { Elf, Fatbin, Ptx };

template <typename T> static T readLE(const unsigned char *p) {
  T v;
  std::memcpy(&v, p, sizeof v); // Host and device images are little-endian.
  return v;
}

/// cuModuleLoadData takes no size: it trusts the image's own headers, so a truncated image
/// would be read past its end. Check that every header-described range lies inside `bytes`.
static Status checkImageBounds(ImageKind kind, const unsigned char *p, size_t bytes,
                               const std::string &origin) {
  auto truncated = [&](const std::string &why) {
    return Status::error(ErrorCode::InvalidArgument,
                         "loading module from " + origin + ": image is truncated or corrupt (" +
                             why + ")");
  };
  if (kind == ImageKind::Fatbin) {
    if (bytes < 16)
      return truncated("fatbin header needs 16 bytes");
    uint64_t end = uint64_t(readLE<uint16_t>(p + 6)) + readLE<uint64_t>(p + 8);
    if (end > bytes)
      return truncated("fatbin declares " + std::to_string(end) + " bytes");
    return Status::success();
  }
  if (kind != ImageKind::Elf)
    return Status::success();
  if (bytes < 64 || p[4] != 2 /*ELFCLASS64*/)
    return truncated("not a 64-bit ELF header");
  uint64_t phoff = readLE<uint64_t>(p + 0x20), shoff = readLE<uint64_t>(p + 0x28);
  uint64_t phentsize = readLE<uint16_t>(p + 0x36), phnum = readLE<uint16_t>(p + 0x38);
  uint64_t shentsize = readLE<uint16_t>(p + 0x3A), shnum = readLE<uint16_t>(p + 0x3C);
  if (phnum && (phoff > bytes || phentsize * phnum > bytes - phoff))
    return truncated("program headers past the end");
  if (shnum && (shoff > bytes || shentsize * shnum > bytes - shoff || shentsize < 64))
    return truncated("section headers past the end");
  for (uint64_t i = 0; i < shnum; ++i) {
    const unsigned char *sh = p + shoff + i * shentsize;
    uint32_t type = readLE<uint32_t>(sh + 4);
    uint64_t offset = readLE<uint64_t>(sh + 0x18), size = readLE<uint64_t>(sh + 0x20);
    if (type != 8 /*SHT_NOBITS*/ && (offset > bytes || size > bytes - offset))
      return truncated("section " + std::to_string(i) + " past the end");
  }
  for (uint64_t i = 0; i < phnum; ++i) {
    const unsigned char *ph = p + phoff + i * phentsize;
    uint64_t offset = readLE<uint64_t>(ph + 0x08), size = readLE<uint64_t>(ph + 0x20);
    if (offset > bytes || size > bytes - offset)
      return truncated("segment " + std::to_string(i) + " past the end");
  }
  return Status::success();
}

Expected<Module> Device::loadModule(const void *image, size_t bytes) const {
  return loadImage(state_, image, bytes, "memory (" + std::to_string(bytes) + " bytes)");
}

Expected<Module> Device::loadModuleFromFile(const std::string &path) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Status::error(err == ENOENT ? ErrorCode::NotFound : ErrorCode::IOError,
                         "reading module file '" + path + "': " + std::strerror(err));
  }
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::error(ErrorCode::IOError, "reading module file '" + path + "': read error");
  return loadImage(state_, data.data(), data.size(), "'" + path + "'");
}

Expected<Module> Device::loadImage(const std::shared_ptr<detail::DeviceState> &device,
                                  const void *image, size_t bytes, std::string origin) {
  if (!image || bytes == 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "loading module from " + origin + ": empty image");
  const auto *p = static_cast<const unsigned char *>(image);
  ImageKind kind = ImageKind::Ptx;
  if (bytes >= 4 && std::memcmp(p, "\x7f" "ELF", 4) == 0)
    kind = ImageKind::Elf;
  else if (bytes >= 4 && readLE<uint32_t>(p) == 0xBA55ED50u)
    kind = ImageKind::Fatbin;
  if (Status s = checkImageBounds(kind, p, bytes, origin); !s)
    return s;
  if (Status s = device->makeCurrent(); !s)
    return s;

  Driver *drv = device->driver;
  auto state = std::make_shared<detail::ModuleState>();
  state->device = device;
  state->origin = origin;
  const std::string doing = "loading module from " + origin;
  if (kind != ImageKind::Ptx) {
    if (Status s = drv->check(drv->cuModuleLoadData(&state->module, image), "cuModuleLoadData",
                              doing);
        !s)
      return s;
    return Module(std::move(state));
  }
  // PTX must be NUL-terminated text; the JIT's error log goes into the message.
  std::string ptx(reinterpret_cast<const char *>(p), bytes);
  if (ptx.find('\0') == std::string::npos)
    ptx.push_back('\0');
  char errorLog[8192] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(uintptr_t(sizeof errorLog - 1))};
  CUresult result = drv->cuModuleLoadDataEx(&state->module, ptx.data(), 2, options, values);
  Status s = drv->check(result, "cuModuleLoadDataEx", doing + " (PTX)");
  if (!s) {
    state->module = nullptr;
    if (errorLog[0])
      return Status::error(s.code(), s.message() + "\nptxas log:\n" + errorLog, s.cudaResult());
    return s;
  }
  return Module(std::move(state));
}

//===----------------------------------------------------------------------===//
// Module and Kernel
//===----------------------------------------------------------------------===//

Expected<Kernel> Module::kernel(const std::string &name) const {
  Driver *drv = state_->device->driver;
  if (Status s = state_->device->makeCurrent(); !s)
    return s;
  auto k = std::make_shared<detail::KernelState>();
  k->module = state_;
  k->device = Device(state_->device);
  k->name = name;
  CUresult result = drv->cuModuleGetFunction(&k->function, state_->module, name.c_str());
  if (result != CUDA_SUCCESS) {
    Status s = drv->check(result, "cuModuleGetFunction",
                          "looking up kernel '" + name + "' in module " + state_->origin);
    if (result == CUDA_ERROR_NOT_FOUND)
      return Status::error(ErrorCode::NotFound,
                           s.message() + " (C++ kernels have mangled names; declare them "
                                         "extern \"C\" or look up the mangled name)",
                           result);
    return s;
  }
  int maxThreads = 0, staticShared = 0;
  if (Status s = drv->check(drv->cuFuncGetAttribute(&maxThreads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, k->function),
                            "cuFuncGetAttribute", "querying kernel '" + name + "'");
      !s)
    return s;
  if (Status s = drv->check(drv->cuFuncGetAttribute(&staticShared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, k->function),
                            "cuFuncGetAttribute", "querying kernel '" + name + "'");
      !s)
    return s;
  k->maxThreadsPerBlock = maxThreads;
  k->staticSharedBytes = static_cast<size_t>(staticShared);
  // A kernel compiled for clusters of more than 8 blocks (the portable size) launches
  // only once allowed to; drivers before Hopper know neither attribute.
  int clusterWidth = 0;
  if (drv->cuFuncGetAttribute(&clusterWidth, CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH,
                              k->function) == CUDA_SUCCESS &&
      clusterWidth > 8)
    if (Status s = drv->check(drv->cuFuncSetAttribute(k->function,
                                                      CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                              "cuFuncSetAttribute",
                              "allowing kernel '" + name + "' its cluster of " +
                                  std::to_string(clusterWidth) + " blocks");
        !s)
      return s;
  return Kernel(std::move(k));
}

const std::string &Kernel::name() const { return state_->name; }
const Device &Kernel::device() const { return *state_->device; }
void *Kernel::rawHandle() const { return state_->function; }
void Kernel::setSignature(KernelSignature signature) {
  if (signature.kernelName.empty())
    signature.kernelName = state_->name;
  state_->signature = std::move(signature);
}
const std::optional<KernelSignature> &Kernel::signature() const { return state_->signature; }

static Expected<int> functionAttribute(const detail::KernelState &k, CUfunction_attribute attr,
                                       const char *what) {
  Driver *drv = k.module->device->driver;
  if (Status s = k.module->device->makeCurrent(); !s)
    return s;
  int value = 0;
  if (Status s = drv->check(drv->cuFuncGetAttribute(&value, attr, k.function),
                            "cuFuncGetAttribute",
                            std::string("querying ") + what + " of kernel '" + k.name + "'");
      !s)
    return s;
  return value;
}

Expected<int> Kernel::numRegisters() const {
  return functionAttribute(*state_, CU_FUNC_ATTRIBUTE_NUM_REGS, "registers");
}
Expected<size_t> Kernel::staticSharedBytes() const { return state_->staticSharedBytes; }
Expected<size_t> Kernel::localBytes() const {
  Expected<int> v = functionAttribute(*state_, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, "local memory");
  if (!v)
    return v.status();
  return static_cast<size_t>(*v);
}
Expected<int> Kernel::maxThreadsPerBlock() const { return state_->maxThreadsPerBlock; }

Status Kernel::setMaxDynamicSharedMemory(size_t bytes) {
  const DeviceProperties &p = state_->device->properties();
  size_t total = bytes + state_->staticSharedBytes;
  if (total > p.maxSharedMemoryPerBlockOptin)
    return Status::error(ErrorCode::InvalidArgument,
                         "kernel '" + state_->name + "': shared memory: needs " + kib(total) +
                             " (" + kib(bytes) + " dynamic + " + kib(state_->staticSharedBytes) +
                             " static), device " + p.name + " has " +
                             kib(p.maxSharedMemoryPerBlockOptin) + " per block");
  Driver *drv = state_->module->device->driver;
  if (Status s = state_->module->device->makeCurrent(); !s)
    return s;
  if (Status s = drv->check(drv->cuFuncSetAttribute(state_->function,
                                                    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                    static_cast<int>(bytes)),
                            "cuFuncSetAttribute",
                            "raising the dynamic shared memory of kernel '" + state_->name +
                                "' to " + kib(bytes));
      !s)
    return s;
  state_->dynamicSharedLimit = bytes;
  return Status::success();
}

Expected<std::vector<size_t>> Kernel::parameterSizes() const {
  std::lock_guard<std::mutex> lock(state_->paramSizesMutex);
  if (state_->paramSizes)
    return *state_->paramSizes;
  Driver *drv = state_->module->device->driver;
  auto compute = [&]() -> Expected<std::vector<size_t>> {
    if (!drv->cuFuncGetParamInfo)
      return Status::error(ErrorCode::DriverTooOld,
                           "cuFuncGetParamInfo needs a CUDA 12.4 or newer driver");
    if (Status s = state_->module->device->makeCurrent(); !s)
      return s;
    std::vector<size_t> sizes;
    // The driver answers CUDA_ERROR_INVALID_VALUE one past the last parameter.
    for (size_t i = 0; i < 4096; ++i) {
      size_t offset = 0, size = 0;
      CUresult r = drv->cuFuncGetParamInfo(state_->function, i, &offset, &size);
      if (r == CUDA_ERROR_INVALID_VALUE)
        break;
      if (Status s = drv->check(r, "cuFuncGetParamInfo",
                                "querying the parameters of kernel '" + state_->name + "'");
          !s)
        return s;
      sizes.push_back(size);
    }
    return sizes;
  };
  state_->paramSizes = compute();
  return *state_->paramSizes;
}

//===----------------------------------------------------------------------===//
// Buffers, streams, events
//===----------------------------------------------------------------------===//

static CUstream streamHandle(const Stream *stream) {
  return stream ? static_cast<CUstream>(stream->rawHandle()) : nullptr;
}

Expected<Buffer> Device::allocate(size_t bytes) const {
  if (bytes == 0)
    return Status::error(ErrorCode::InvalidArgument, "allocating a device buffer of 0 bytes");
  if (Status s = state_->makeCurrent(); !s)
    return s;
  CUdeviceptr address = 0;
  Status s = state_->driver->check(state_->driver->cuMemAlloc(&address, bytes), "cuMemAlloc",
                                   "allocating " + std::to_string(bytes) +
                                       " bytes on device " + std::to_string(ordinal()));
  if (!s)
    return s;
  return Buffer(state_, address, bytes);
}

Buffer::Buffer(Buffer &&other) noexcept
    : device_(std::move(other.device_)), address_(other.address_), size_(other.size_) {
  other.address_ = 0;
  other.size_ = 0;
}

Buffer &Buffer::operator=(Buffer &&other) noexcept {
  if (this != &other) {
    release();
    device_ = std::move(other.device_);
    address_ = other.address_;
    size_ = other.size_;
    other.address_ = 0;
    other.size_ = 0;
  }
  return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
  if (address_ && device_ && device_->makeCurrent())
    device_->driver->cuMemFree(address_);
  address_ = 0;
  size_ = 0;
}

int Buffer::deviceOrdinal() const { return device_ ? device_->properties.ordinal : -1; }

KernelArg KernelArg::pointer(const Buffer &buffer, ElementType type) {
  return pointer(buffer.address(), type, buffer.deviceOrdinal());
}

/// The driver's "synchronous" memset, and its HtoD and DtoD copies, may return before the
/// device is done; waiting on the legacy stream makes them finish before a kernel on a
/// non-blocking stream can read the memory.
static Status waitForLegacyStream(Driver *drv, Status issued, const std::string &doing) {
  if (!issued)
    return issued;
  return drv->check(drv->cuStreamSynchronize(nullptr), "cuStreamSynchronize", doing);
}

/// offset + bytes must lie inside a buffer of `size` bytes (overflow-safe).
static Status checkRange(const char *what, size_t offset, size_t bytes, size_t size) {
  if (offset > size || bytes > size - offset)
    return Status::error(ErrorCode::InvalidArgument,
                         std::string(what) + ": " + std::to_string(bytes) + " bytes at offset " +
                             std::to_string(offset) + " exceed the buffer's " +
                             std::to_string(size) + " bytes");
  return Status::success();
}

Status Buffer::copyFromHost(const void *src, size_t bytes, size_t offset, const Stream *stream) {
  if (Status s = checkRange("copy to device", offset, bytes, size_); !s)
    return s;
  if (bytes == 0)
    return Status::success();
  if (!src)
    return Status::error(ErrorCode::InvalidArgument, "copy to device: null host pointer");
  if (Status s = device_->makeCurrent(); !s)
    return s;
  Driver *drv = device_->driver;
  std::string doing = "copying " + std::to_string(bytes) + " bytes host to device";
  if (stream)
    return drv->check(drv->cuMemcpyHtoDAsync(address_ + offset, src, bytes, streamHandle(stream)),
                      "cuMemcpyHtoDAsync", doing);
  return waitForLegacyStream(
      drv, drv->check(drv->cuMemcpyHtoD(address_ + offset, src, bytes), "cuMemcpyHtoD", doing),
      doing);
}

Status Buffer::copyToHost(void *dst, size_t bytes, size_t offset, const Stream *stream) const {
  if (Status s = checkRange("copy to host", offset, bytes, size_); !s)
    return s;
  if (bytes == 0)
    return Status::success();
  if (!dst)
    return Status::error(ErrorCode::InvalidArgument, "copy to host: null host pointer");
  if (Status s = device_->makeCurrent(); !s)
    return s;
  Driver *drv = device_->driver;
  std::string doing = "copying " + std::to_string(bytes) + " bytes device to host";
  if (stream)
    return drv->check(drv->cuMemcpyDtoHAsync(dst, address_ + offset, bytes, streamHandle(stream)),
                      "cuMemcpyDtoHAsync", doing);
  return drv->check(drv->cuMemcpyDtoH(dst, address_ + offset, bytes), "cuMemcpyDtoH", doing);
}

Status Buffer::copyFrom(const Buffer &src, size_t bytes, size_t srcOffset, size_t dstOffset,
                        const Stream *stream) {
  if (Status s = checkRange("device-to-device copy (source)", srcOffset, bytes, src.size_); !s)
    return s;
  if (Status s = checkRange("device-to-device copy (destination)", dstOffset, bytes, size_); !s)
    return s;
  if (bytes == 0)
    return Status::success();
  if (Status s = device_->makeCurrent(); !s)
    return s;
  Driver *drv = device_->driver;
  std::string doing = "copying " + std::to_string(bytes) + " bytes device to device";
  if (stream)
    return drv->check(drv->cuMemcpyDtoDAsync(address_ + dstOffset, src.address_ + srcOffset, bytes,
                                             streamHandle(stream)),
                      "cuMemcpyDtoDAsync", doing);
  return waitForLegacyStream(
      drv,
      drv->check(drv->cuMemcpyDtoD(address_ + dstOffset, src.address_ + srcOffset, bytes),
                 "cuMemcpyDtoD", doing),
      doing);
}

Status Buffer::memset(uint8_t value, size_t offset, size_t bytes, const Stream *stream) {
  if (bytes == SIZE_MAX)
    bytes = offset <= size_ ? size_ - offset : 0;
  if (Status s = checkRange("memset", offset, bytes, size_); !s)
    return s;
  if (bytes == 0)
    return Status::success();
  if (Status s = device_->makeCurrent(); !s)
    return s;
  Driver *drv = device_->driver;
  std::string doing = "setting " + std::to_string(bytes) + " device bytes";
  if (stream)
    return drv->check(drv->cuMemsetD8Async(address_ + offset, value, bytes, streamHandle(stream)),
                      "cuMemsetD8Async", doing);
  return waitForLegacyStream(
      drv, drv->check(drv->cuMemsetD8(address_ + offset, value, bytes), "cuMemsetD8", doing),
      doing);
}

Status Buffer::memset32(uint32_t value, size_t offset, size_t count, const Stream *stream) {
  if (offset % 4 != 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "memset32: offset " + std::to_string(offset) + " is not 4-aligned");
  if (count > SIZE_MAX / 4)
    return Status::error(ErrorCode::InvalidArgument, "memset32: count overflows");
  if (Status s = checkRange("memset32", offset, count * 4, size_); !s)
    return s;
  if (count == 0)
    return Status::success();
  if (Status s = device_->makeCurrent(); !s)
    return s;
  Driver *drv = device_->driver;
  std::string doing = "setting " + std::to_string(count) + " device words";
  if (stream)
    return drv->check(drv->cuMemsetD32Async(address_ + offset, value, count, streamHandle(stream)),
                      "cuMemsetD32Async", doing);
  return waitForLegacyStream(
      drv, drv->check(drv->cuMemsetD32(address_ + offset, value, count), "cuMemsetD32", doing),
      doing);
}

Expected<Stream> Device::createStream(bool nonBlocking) const {
  if (Status s = state_->makeCurrent(); !s)
    return s;
  CUstream stream = nullptr;
  Status s = state_->driver->check(
      state_->driver->cuStreamCreate(&stream, nonBlocking ? CU_STREAM_NON_BLOCKING : CU_STREAM_DEFAULT),
      "cuStreamCreate", "creating a stream on device " + std::to_string(ordinal()));
  if (!s)
    return s;
  return Stream(state_, stream);
}

void detail::destroyStream(DeviceState &device, void *stream) {
  if (device.makeCurrent())
    device.driver->cuStreamDestroy(static_cast<CUstream>(stream));
}

Status Stream::synchronize() const {
  if (Status s = own_.device->makeCurrent(); !s)
    return s;
  Driver *drv = own_.device->driver;
  return drv->check(drv->cuStreamSynchronize(static_cast<CUstream>(own_.handle)),
                    "cuStreamSynchronize", "synchronising a stream");
}

Expected<Event> Device::createEvent(bool enableTiming) const {
  if (Status s = state_->makeCurrent(); !s)
    return s;
  CUevent event = nullptr;
  Status s = state_->driver->check(
      state_->driver->cuEventCreate(&event, enableTiming ? CU_EVENT_DEFAULT : CU_EVENT_DISABLE_TIMING),
      "cuEventCreate", "creating an event on device " + std::to_string(ordinal()));
  if (!s)
    return s;
  return Event(state_, event);
}

void detail::destroyEvent(DeviceState &device, void *event) {
  if (device.makeCurrent())
    device.driver->cuEventDestroy(static_cast<CUevent>(event));
}

Status Event::record(const Stream *stream) {
  if (Status s = own_.device->makeCurrent(); !s)
    return s;
  return own_.device->driver->check(
      own_.device->driver->cuEventRecord(static_cast<CUevent>(own_.handle), streamHandle(stream)),
      "cuEventRecord", "recording an event");
}

Status Event::synchronize() const {
  if (Status s = own_.device->makeCurrent(); !s)
    return s;
  Driver *drv = own_.device->driver;
  return drv->check(drv->cuEventSynchronize(static_cast<CUevent>(own_.handle)),
                    "cuEventSynchronize", "waiting for an event");
}

Expected<float> Event::elapsedMilliseconds(const Event &start, const Event &end) {
  if (!start.own_.handle || !end.own_.handle)
    return Status::error(ErrorCode::InvalidArgument, "elapsed time of a moved-from event");
  if (start.own_.device != end.own_.device &&
      start.own_.device->context != end.own_.device->context)
    return Status::error(ErrorCode::InvalidArgument, "elapsed time between events of two devices");
  if (Status s = start.own_.device->makeCurrent(); !s)
    return s;
  float ms = 0;
  Status s = start.own_.device->driver->check(
      start.own_.device->driver->cuEventElapsedTime(&ms, static_cast<CUevent>(start.own_.handle),
                                                static_cast<CUevent>(end.own_.handle)),
      "cuEventElapsedTime", "measuring the time between two events");
  if (!s)
    return s;
  return ms;
}

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

static std::string dims(const Dim3 &d) {
  return std::to_string(d.x) + "x" + std::to_string(d.y) + "x" + std::to_string(d.z);
}

/// Checks grid, block and shared memory, raising the kernel's dynamic limit when needed.
static Status prepareConfig(Kernel &kernel, detail::KernelState &k, const LaunchConfig &c) {
  const std::string prefix = "launch of '" + k.name + "': ";
  auto fail = [&](const std::string &what) {
    return Status::error(ErrorCode::InvalidArgument, prefix + what);
  };
  const DeviceProperties &p = k.device->properties();
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0)
    return fail("empty grid " + dims(c.grid));
  if (c.block.x == 0 || c.block.y == 0 || c.block.z == 0)
    return fail("empty block " + dims(c.block));
  if (c.grid.x > 0x7fffffffu || c.grid.y > 65535 || c.grid.z > 65535)
    return fail("grid " + dims(c.grid) + " exceeds the limits 2147483647x65535x65535");
  if (c.block.z > 64)
    return fail("block " + dims(c.block) + ": z exceeds 64");
  uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
  int limit = k.maxThreadsPerBlock > 0 ? k.maxThreadsPerBlock : p.maxThreadsPerBlock;
  if (threads > uint64_t(limit))
    return fail("block " + dims(c.block) + " has " + std::to_string(threads) +
                " threads; the kernel can run at most " + std::to_string(limit) +
                " per block on " + p.name);
  if (c.stream && !c.stream->rawHandle())
    return fail("the stream was moved from");
  size_t total = c.sharedBytes + k.staticSharedBytes;
  if (total > p.maxSharedMemoryPerBlockOptin)
    return fail("shared memory: needs " + kib(total) + " (" + kib(c.sharedBytes) +
                " dynamic + " + kib(k.staticSharedBytes) + " static), device " + p.name +
                " has " + kib(p.maxSharedMemoryPerBlockOptin) + " per block");
  if (c.sharedBytes > kDefaultSharedLimit && c.sharedBytes > k.dynamicSharedLimit.load())
    return kernel.setMaxDynamicSharedMemory(c.sharedBytes);
  return Status::success();
}

static Status launchChecked(detail::KernelState &k, const LaunchConfig &c, void **params) {
  Driver *drv = k.module->device->driver;
  if (Status s = k.module->device->makeCurrent(); !s)
    return s;
  return drv->check(drv->cuLaunchKernel(k.function, c.grid.x, c.grid.y, c.grid.z, c.block.x,
                                        c.block.y, c.block.z, static_cast<unsigned>(c.sharedBytes),
                                        streamHandle(c.stream), params, nullptr),
                    "cuLaunchKernel",
                    "launching kernel '" + k.name + "' (grid " + dims(c.grid) + ", block " +
                        dims(c.block) + ", " + std::to_string(c.sharedBytes) +
                        " dynamic shared bytes)");
}

/// The size of parameter `index` as the binary records it; nullopt when the kernel has fewer
/// parameters; an error when the driver cannot tell. Only indices that launches use are probed,
/// so a correct launch makes no failing driver call (compute-sanitizer reports those).
static Expected<std::optional<size_t>> parameterSize(detail::KernelState &k, size_t index) {
  std::lock_guard<std::mutex> lock(k.paramSizesMutex);
  if (k.paramInfoUnavailable)
    return Status::error(ErrorCode::DriverTooOld, "no parameter information");
  if (index < k.knownParamSizes.size())
    return std::optional<size_t>(k.knownParamSizes[index]);
  if (k.knownParamCount && index >= *k.knownParamCount)
    return std::optional<size_t>();
  Driver *drv = k.module->device->driver;
  if (!drv->cuFuncGetParamInfo) {
    k.paramInfoUnavailable = true;
    return Status::error(ErrorCode::DriverTooOld, "no cuFuncGetParamInfo");
  }
  for (size_t i = k.knownParamSizes.size(); i <= index; ++i) {
    size_t offset = 0, size = 0;
    CUresult r = drv->cuFuncGetParamInfo(k.function, i, &offset, &size);
    if (r == CUDA_ERROR_INVALID_VALUE) {
      k.knownParamCount = i;
      return std::optional<size_t>();
    }
    if (r != CUDA_SUCCESS) { // e.g. not supported for this binary: stop asking
      k.paramInfoUnavailable = true;
      return drv->check(r, "cuFuncGetParamInfo");
    }
    k.knownParamSizes.push_back(size);
  }
  return std::optional<size_t>(k.knownParamSizes[index]);
}

static size_t argBytes(const KernelArg &a) {
  switch (a.kind()) {
  case ParamKind::I32:
  case ParamKind::F32: return 4;
  default: return 8;
  }
}

Status launch(Kernel &kernel, const LaunchConfig &config, const std::vector<KernelArg> &args) {
  detail::KernelState &k = *kernel.state_;
  if (Status s = prepareConfig(kernel, k, config); !s)
    return s;
  if (k.signature) {
    if (Status s = validateLaunchArguments(*k.signature, args, k.device->ordinal()); !s)
      return s;
  } else {
    // No signature: the binary's parameter sizes still catch extra arguments and wrong
    // widths (not missing trailing ones: that would need a failing probe on every kernel).
    const std::string prefix = "launch of '" + k.name + "': ";
    for (size_t i = 0; i < args.size(); ++i) {
      Expected<std::optional<size_t>> size = parameterSize(k, i);
      if (!size)
        break; // the driver cannot tell: launch unchecked, as cuLaunchKernel would
      if (!*size)
        return Status::error(ErrorCode::InvalidLaunchArgument,
                             prefix + "the kernel takes " + std::to_string(i) +
                                 " arguments, got " + std::to_string(args.size()));
      if (**size != argBytes(args[i]))
        return Status::error(ErrorCode::InvalidLaunchArgument,
                             prefix + "argument " + std::to_string(i) + " is " +
                                 std::to_string(**size) + " bytes in the kernel, got " +
                                 args[i].describe() + " (" + std::to_string(argBytes(args[i])) +
                                 " bytes)");
    }
  }
  std::vector<void *> params;
  params.reserve(args.size());
  for (const KernelArg &a : args)
    params.push_back(const_cast<void *>(a.data()));
  return launchChecked(k, config, params.empty() ? nullptr : params.data());
}

Status launchRaw(Kernel &kernel, const LaunchConfig &config, void **params) {
  detail::KernelState &k = *kernel.state_;
  if (Status s = prepareConfig(kernel, k, config); !s)
    return s;
  return launchChecked(k, config, params);
}

} // namespace kiln::runtime::cuda
