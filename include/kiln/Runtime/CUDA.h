// Kiln CUDA runtime: devices, modules, kernels, buffers, streams and events over the driver API.
//
// The CUDA driver (libcuda.so.1) is loaded at run time, so a program linked with this library
// starts on any machine; without a driver every entry point returns a Status that says so
// ("CUDA driver not found (libcuda.so.1): no NVIDIA GPU on this machine"), never aborts.
//
// Worked example:
//
//   auto device = Device::open(0);                  // retains the primary context
//   if (!device) { report(device.status().message()); return; }
//   auto module = device->loadModuleFromFile("vadd.cubin");
//   auto kernel = module->kernel("vadd");
//   kernel->setSignature({"vadd", {KernelParam::pointer("a", ElementType::F32), ...}});
//   auto a = device->allocate(n * sizeof(float));
//   a->copyFromHost(host.data(), n * sizeof(float));
//   LaunchConfig config{Dim3{(n + 255) / 256}, Dim3{256}};
//   Status s = launch(*kernel, config, {KernelArg::pointer(*a, ElementType::F32), ..., n});
//
// Objects are move-only RAII handles; each keeps its device's primary context alive, so they
// may be destroyed in any order. Every call makes its device's context current first, so they
// may be used from any thread.
#ifndef KILN_RUNTIME_CUDA_H
#define KILN_RUNTIME_CUDA_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::runtime::cuda {

//===----------------------------------------------------------------------===//
// Status and Expected
//===----------------------------------------------------------------------===//

/// What kind of failure a Status holds; the C API maps these one to one onto kiln_status.
enum class ErrorCode {
  Ok = 0,
  DriverNotFound,        ///< libcuda could not be loaded (no NVIDIA driver/GPU here).
  DriverTooOld,          ///< the driver lacks an entry point or version Kiln needs.
  NoDevice,              ///< the driver is there but shows no (such) GPU.
  InvalidArgument,       ///< a caller error detected before calling the driver.
  InvalidLaunchArgument, ///< launch arguments do not match the kernel signature.
  OutOfMemory,           ///< device memory allocation failed.
  NotFound,              ///< a file or a kernel name does not exist.
  IOError,               ///< a file could not be read.
  CudaError,             ///< any other error returned by the driver.
};

/// Success, or an error with a message saying what was being done and what CUDA said, e.g.
/// "loading module from memory (1234 bytes): cuModuleLoadData: CUDA_ERROR_INVALID_IMAGE
/// (device kernel image is invalid)".
class [[nodiscard]] Status {
public:
  Status() = default;
  static Status success() { return Status(); }
  static Status error(ErrorCode code, std::string message, int cudaResult = 0) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    s.cudaResult_ = cudaResult;
    return s;
  }

  bool ok() const { return code_ == ErrorCode::Ok; }
  explicit operator bool() const { return ok(); }
  ErrorCode code() const { return code_; }
  /// Empty on success.
  const std::string &message() const { return message_; }
  /// The CUresult the driver returned (0 when the error did not come from the driver).
  int cudaResult() const { return cudaResult_; }

private:
  ErrorCode code_ = ErrorCode::Ok;
  std::string message_;
  int cudaResult_ = 0;
};

/// A value or the Status that explains why there is none.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : value_(std::move(value)) {}
  /// Requires !status.ok().
  Expected(Status status) : status_(std::move(status)) {
    if (status_.ok()) // A success with no value is a bug in the caller; keep it an error.
      status_ = Status::error(ErrorCode::InvalidArgument, "Expected built from a success");
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status &status() const { return status_; }
  /// Requires ok().
  T &value() & { return *value_; }
  const T &value() const & { return *value_; }
  T &&value() && { return std::move(*value_); }
  T &operator*() & { return *value_; }
  const T &operator*() const & { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }

private:
  std::optional<T> value_;
  Status status_;
};

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// The driver library that will be loaded: $KILN_CUDA_DRIVER_LIB if set and non-empty, else
/// "libcuda.so.1".
std::string driverLibraryName();

/// Loads and initialises the driver named by driverLibraryName() (cached per name; a failure
/// is retried on the next call). DriverNotFound when the library is missing.
Status loadDriver();

/// The driver's CUDA version, e.g. 13000 for CUDA 13.0.
Expected<int> driverVersion();

/// Number of CUDA devices (0 is reported as NoDevice by Device::open, not here).
Expected<int> deviceCount();

//===----------------------------------------------------------------------===//
// Kernel signatures and launch arguments
//===----------------------------------------------------------------------===//

/// Element type behind a pointer argument. Opaque in a signature accepts any pointer (void*).
enum class ElementType { Opaque, I1, I8, U8, I16, F16, BF16, I32, U32, F32, I64, U64, F64 };
const char *elementTypeName(ElementType type);
/// Bytes per element; 0 for Opaque (no alignment requirement).
size_t elementTypeBytes(ElementType type);

enum class ParamKind { Pointer, I32, I64, F32, F64 };
const char *paramKindName(ParamKind kind);

/// One parameter of a kernel, as the compiler's metadata describes it.
struct KernelParam {
  std::string name;
  ParamKind kind = ParamKind::I32;
  ElementType elementType = ElementType::Opaque; ///< Only for pointers.

  static KernelParam pointer(std::string name, ElementType type) {
    return {std::move(name), ParamKind::Pointer, type};
  }
  static KernelParam scalar(std::string name, ParamKind kind) {
    return {std::move(name), kind, ElementType::Opaque};
  }
};

struct KernelSignature {
  std::string kernelName;
  std::vector<KernelParam> params;
};

class Buffer;

/// One actual launch argument: a typed device pointer or a scalar. Scalars convert implicitly
/// from int32_t, int64_t, float and double; a pointer is always spelled with its element type.
class KernelArg {
public:
  KernelArg(int32_t v) : kind_(ParamKind::I32) { value_.i32 = v; }
  KernelArg(int64_t v) : kind_(ParamKind::I64) { value_.i64 = v; }
  KernelArg(float v) : kind_(ParamKind::F32) { value_.f32 = v; }
  KernelArg(double v) : kind_(ParamKind::F64) { value_.f64 = v; }

  /// deviceOrdinal < 0: unknown (the device check is skipped).
  static KernelArg pointer(uint64_t address, ElementType type, int deviceOrdinal = -1) {
    KernelArg a(int32_t(0));
    a.kind_ = ParamKind::Pointer;
    a.elementType_ = type;
    a.deviceOrdinal_ = deviceOrdinal;
    a.value_.ptr = address;
    return a;
  }
  static KernelArg pointer(const Buffer &buffer, ElementType type);

  ParamKind kind() const { return kind_; }
  ElementType elementType() const { return elementType_; }
  int deviceOrdinal() const { return deviceOrdinal_; }
  uint64_t address() const { return value_.ptr; }
  /// The bytes cuLaunchKernel copies for this argument (stable while *this lives).
  const void *data() const { return &value_; }
  /// "pointer to f32", "i32 7", ...: for error messages.
  std::string describe() const;

private:
  ParamKind kind_;
  ElementType elementType_ = ElementType::Opaque;
  int deviceOrdinal_ = -1;
  union {
    uint64_t ptr;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } value_;
};

/// Checks count, kinds, pointer element types and alignment (and device, when both the
/// argument's and deviceOrdinal are known) before a launch. The error names the kernel and
/// the failing parameter: "launch of 'vadd': argument 2 'c': expected pointer to f32, got
/// pointer to f16". InvalidLaunchArgument on mismatch.
Status validateLaunchArguments(const KernelSignature &signature,
                               const std::vector<KernelArg> &args, int deviceOrdinal = -1);

//===----------------------------------------------------------------------===//
// Devices and objects
//===----------------------------------------------------------------------===//

struct DeviceProperties {
  int ordinal = 0;
  std::string name;
  int computeCapabilityMajor = 0;
  int computeCapabilityMinor = 0;
  int multiprocessorCount = 0;
  int warpSize = 0;
  int maxThreadsPerBlock = 0;
  size_t maxSharedMemoryPerBlock = 0;      ///< without opt-in (48 KiB).
  size_t maxSharedMemoryPerBlockOptin = 0; ///< with the kernel's attribute raised.
  size_t maxSharedMemoryPerMultiprocessor = 0;
  size_t l2CacheBytes = 0;
  size_t totalMemoryBytes = 0;
  int clockRateKHz = 0;
  int memoryBusWidthBits = 0;
};

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  Dim3() = default;
  Dim3(unsigned x, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};

class Stream;
class Module;
class Kernel;
class Event;
struct LaunchConfig;

namespace detail {
struct DeviceState;
struct ModuleState;
struct KernelState;

/// A driver object owned together with its device's state: move-only, freed by
/// `Destroy` (with the device's context current) when dropped.
template <void (*Destroy)(DeviceState &, void *)>
struct Owned {
  Owned(std::shared_ptr<DeviceState> d, void *h) : device(std::move(d)), handle(h) {}
  Owned(Owned &&o) noexcept : device(std::move(o.device)), handle(o.handle) { o.handle = nullptr; }
  Owned &operator=(Owned &&o) noexcept {
    if (this != &o) {
      reset();
      device = std::move(o.device);
      handle = o.handle;
      o.handle = nullptr;
    }
    return *this;
  }
  ~Owned() { reset(); }
  void reset() {
    if (handle && device)
      Destroy(*device, handle);
    handle = nullptr;
  }
  std::shared_ptr<DeviceState> device;
  void *handle = nullptr;
};
void destroyStream(DeviceState &device, void *stream);
void destroyEvent(DeviceState &device, void *event);
} // namespace detail

/// A CUDA device with its primary context retained.
class Device {
public:
  /// Loads the driver if needed and retains device `ordinal`'s primary context.
  /// DriverNotFound without a driver, NoDevice without such a GPU.
  static Expected<Device> open(int ordinal = 0);

  const DeviceProperties &properties() const;
  int ordinal() const;
  /// Makes this device's context current on the calling thread.
  Status makeCurrent() const;
  Status synchronize() const;

  /// Loads a cubin, fatbin or NUL-terminated PTX image. For PTX the JIT log is in the error.
  Expected<Module> loadModule(const void *image, size_t bytes) const;
  Expected<Module> loadModuleFromFile(const std::string &path) const;

  Expected<Buffer> allocate(size_t bytes) const;
  /// flags: 0 (blocks on the legacy default stream) or nonBlocking.
  Expected<Stream> createStream(bool nonBlocking = true) const;
  Expected<Event> createEvent(bool enableTiming = true) const;

  std::shared_ptr<detail::DeviceState> state() const { return state_; }

private:
  friend class Module;
  explicit Device(std::shared_ptr<detail::DeviceState> s) : state_(std::move(s)) {}
  static Expected<Module> loadImage(const std::shared_ptr<detail::DeviceState> &device,
                                    const void *image, size_t bytes, std::string origin);
  std::shared_ptr<detail::DeviceState> state_;
};

class Module {
public:
  Module(Module &&) = default;
  Module &operator=(Module &&) = default;
  /// NotFound with the kernel name when the module has no such function.
  Expected<Kernel> kernel(const std::string &name) const;

private:
  friend class Device;
  explicit Module(std::shared_ptr<detail::ModuleState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::ModuleState> state_;
};

/// A kernel in a loaded module (keeps the module loaded).
class Kernel {
public:
  const std::string &name() const;
  const Device &device() const;

  /// Raises CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES; needed above 48 KiB. Errors
  /// with the required and available amounts when the device cannot give that much.
  Status setMaxDynamicSharedMemory(size_t bytes);
  /// Registers used per thread, static shared bytes, local (spill) bytes per thread.
  Expected<int> numRegisters() const;
  Expected<size_t> staticSharedBytes() const;
  Expected<size_t> localBytes() const;
  Expected<int> maxThreadsPerBlock() const;
  /// The parameter sizes the binary records (cuFuncGetParamInfo, driver ≥ 12.4). DriverTooOld
  /// when the driver cannot say. Finding the count takes one failing query past the last
  /// parameter, which compute-sanitizer reports as an API error.
  Expected<std::vector<size_t>> parameterSizes() const;

  /// When set, launch() validates arguments against it. Set it before launching from other
  /// threads (it is not synchronised with concurrent launches).
  void setSignature(KernelSignature signature);
  const std::optional<KernelSignature> &signature() const;

  void *rawHandle() const; ///< CUfunction.

private:
  friend class Module;
  friend Status launch(Kernel &, const LaunchConfig &, const std::vector<KernelArg> &);
  friend Status launchRaw(Kernel &, const LaunchConfig &, void **);
  explicit Kernel(std::shared_ptr<detail::KernelState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::KernelState> state_;
};

/// A device allocation, freed on destruction. Copies are bounds-checked against its size.
class Buffer {
public:
  Buffer(Buffer &&other) noexcept;
  Buffer &operator=(Buffer &&other) noexcept;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  uint64_t address() const { return address_; }
  size_t size() const { return size_; }
  int deviceOrdinal() const;

  /// stream == nullptr: done on the device when the call returns (safe to read from any
  /// stream). With a stream: ordered on it, and the host memory must stay valid until the
  /// stream reaches the copy.
  Status copyFromHost(const void *src, size_t bytes, size_t offset = 0,
                      const Stream *stream = nullptr);
  Status copyToHost(void *dst, size_t bytes, size_t offset = 0,
                    const Stream *stream = nullptr) const;
  /// Copies `bytes` from src[srcOffset] to this[dstOffset].
  Status copyFrom(const Buffer &src, size_t bytes, size_t srcOffset = 0, size_t dstOffset = 0,
                  const Stream *stream = nullptr);
  /// Sets `bytes` bytes from `offset` (whole buffer by default) to `value`.
  Status memset(uint8_t value, size_t offset = 0, size_t bytes = SIZE_MAX,
                const Stream *stream = nullptr);
  /// Sets `count` 32-bit words from byte `offset` (4-aligned) to `value`: for poisoning.
  Status memset32(uint32_t value, size_t offset, size_t count, const Stream *stream = nullptr);

private:
  friend class Device;
  Buffer(std::shared_ptr<detail::DeviceState> d, uint64_t address, size_t size)
      : device_(std::move(d)), address_(address), size_(size) {}
  void release();
  std::shared_ptr<detail::DeviceState> device_;
  uint64_t address_ = 0;
  size_t size_ = 0;
};

class Stream {
public:
  Status synchronize() const;
  void *rawHandle() const { return own_.handle; } ///< CUstream.

private:
  friend class Device;
  Stream(std::shared_ptr<detail::DeviceState> d, void *h) : own_(std::move(d), h) {}
  detail::Owned<detail::destroyStream> own_;
};

class Event {
public:
  /// stream == nullptr: the legacy default stream.
  Status record(const Stream *stream = nullptr);
  Status synchronize() const;
  /// Milliseconds between two recorded, completed events (both created with timing).
  static Expected<float> elapsedMilliseconds(const Event &start, const Event &end);
  void *rawHandle() const { return own_.handle; } ///< CUevent.

private:
  friend class Device;
  Event(std::shared_ptr<detail::DeviceState> d, void *h) : own_(std::move(d), h) {}
  detail::Owned<detail::destroyEvent> own_;
};

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  size_t sharedBytes = 0;         ///< dynamic shared memory per block.
  const Stream *stream = nullptr; ///< nullptr: the legacy default stream.
};

/// Validates the configuration (non-empty grid and block, threads per block, shared memory;
/// raises the kernel's dynamic shared memory limit when sharedBytes > 48 KiB) and the
/// arguments (against the kernel's signature if set; else, where the driver can tell, each
/// argument's width and any extra arguments against the binary's parameters), then launches. Asynchronous: launch errors that
/// happen on the device surface at the next synchronisation.
Status launch(Kernel &kernel, const LaunchConfig &config, const std::vector<KernelArg> &args);

/// Launches with a raw cuLaunchKernel parameter array (one pointer per argument's value);
/// only the configuration is checked.
Status launchRaw(Kernel &kernel, const LaunchConfig &config, void **params);

} // namespace kiln::runtime::cuda

#endif // KILN_RUNTIME_CUDA_H
