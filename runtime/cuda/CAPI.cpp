// The C API (kiln/c/kiln_cuda.h): opaque handles over the C++ runtime, errors as codes + text.
#include "kiln/c/kiln_cuda.h"
#include "kiln/Runtime/CUDA.h"

#include <cstring>
#include <new>
#include <string>

using namespace kiln::runtime::cuda;

struct kiln_cuda_device_t {
  Device device;
};
struct kiln_cuda_module_t {
  Module module;
};
struct kiln_cuda_kernel_t {
  Kernel kernel;
};
struct kiln_cuda_buffer_t {
  Buffer buffer;
};
struct kiln_cuda_stream_t {
  Stream stream;
};
struct kiln_cuda_event_t {
  Event event;
};

namespace {

thread_local std::string lastError;
thread_local int lastCudaResult = 0;

kiln_status toCStatus(ErrorCode code) {
  switch (code) {
  case ErrorCode::Ok: return KILN_SUCCESS;
  case ErrorCode::DriverNotFound: return KILN_ERROR_DRIVER_NOT_FOUND;
  case ErrorCode::DriverTooOld: return KILN_ERROR_DRIVER_TOO_OLD;
  case ErrorCode::NoDevice: return KILN_ERROR_NO_DEVICE;
  case ErrorCode::InvalidArgument: return KILN_ERROR_INVALID_ARGUMENT;
  case ErrorCode::InvalidLaunchArgument: return KILN_ERROR_INVALID_LAUNCH_ARGUMENT;
  case ErrorCode::OutOfMemory: return KILN_ERROR_OUT_OF_MEMORY;
  case ErrorCode::NotFound: return KILN_ERROR_NOT_FOUND;
  case ErrorCode::IOError: return KILN_ERROR_IO;
  case ErrorCode::CudaError: return KILN_ERROR_CUDA;
  }
  return KILN_ERROR_CUDA;
}

kiln_status report(const Status &s) {
  if (s.ok())
    return KILN_SUCCESS;
  lastError = s.message();
  lastCudaResult = s.cudaResult();
  return toCStatus(s.code());
}

kiln_status invalid(const std::string &what) {
  return report(Status::error(ErrorCode::InvalidArgument, what));
}

/// Runs body with the error state cleared; no C++ exception crosses the C boundary.
template <typename Body> kiln_status guarded(Body &&body) {
  lastError.clear();
  lastCudaResult = 0;
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return report(Status::error(ErrorCode::OutOfMemory, "host memory exhausted"));
  } catch (...) {
    return report(Status::error(ErrorCode::CudaError, "unexpected C++ exception"));
  }
}

const Stream *streamOf(kiln_cuda_stream s) { return s ? &s->stream : nullptr; }

std::vector<KernelArg> toArgs(const kiln_cuda_arg *args, size_t n) {
  std::vector<KernelArg> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const kiln_cuda_arg &a = args[i];
    switch (a.kind) {
    case KILN_CUDA_PARAM_POINTER:
      out.push_back(KernelArg::pointer(a.value.pointer, static_cast<ElementType>(a.element_type)));
      break;
    case KILN_CUDA_PARAM_I32: out.emplace_back(a.value.i32); break;
    case KILN_CUDA_PARAM_I64: out.emplace_back(a.value.i64); break;
    case KILN_CUDA_PARAM_F32: out.emplace_back(a.value.f32); break;
    case KILN_CUDA_PARAM_F64: out.emplace_back(a.value.f64); break;
    }
  }
  return out;
}

/// Reads a C enum's storage as int: a value outside the enumerators (from a caller's bug) must
/// not be loaded as the enum type, which is undefined behaviour in C++.
template <typename Enum> int rawEnum(const Enum &e) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized here");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}
bool validKind(const kiln_cuda_param_kind &k) {
  int v = rawEnum(k);
  return v >= KILN_CUDA_PARAM_POINTER && v <= KILN_CUDA_PARAM_F64;
}
bool validElement(const kiln_cuda_element_type &t) {
  int v = rawEnum(t);
  return v >= KILN_CUDA_ELEMENT_OPAQUE && v <= KILN_CUDA_ELEMENT_F64;
}

/// Checks the C arrays before they are converted, so bad enum values are reported, not cast.
kiln_status toSignature(const char *kernelName, const kiln_cuda_param *params, size_t n,
                        KernelSignature &out) {
  if (n && !params)
    return invalid("signature: params is NULL but num_params is " + std::to_string(n));
  out.kernelName = kernelName ? kernelName : "";
  for (size_t i = 0; i < n; ++i) {
    const kiln_cuda_param &p = params[i];
    if (!validKind(p.kind) || !validElement(p.element_type))
      return invalid("signature: parameter " + std::to_string(i) + " has an unknown kind or element type");
    out.params.push_back({p.name ? p.name : "", static_cast<ParamKind>(p.kind),
                          static_cast<ElementType>(p.element_type)});
  }
  return KILN_SUCCESS;
}

kiln_status checkArgs(const kiln_cuda_arg *args, size_t n) {
  if (n && !args)
    return invalid("launch arguments: args is NULL but num_args is " + std::to_string(n));
  for (size_t i = 0; i < n; ++i)
    if (!validKind(args[i].kind) || !validElement(args[i].element_type))
      return invalid("launch argument " + std::to_string(i) + " has an unknown kind or element type");
  return KILN_SUCCESS;
}

} // namespace

// The enum orders must agree for the casts above.
static_assert(int(ParamKind::F64) == KILN_CUDA_PARAM_F64, "param kinds out of sync");
static_assert(int(ElementType::F64) == KILN_CUDA_ELEMENT_F64, "element types out of sync");
static_assert(int(ElementType::BF16) == KILN_CUDA_ELEMENT_BF16, "element types out of sync");

extern "C" {

const char *kiln_cuda_last_error(void) { return lastError.c_str(); }
int kiln_cuda_last_cuda_result(void) { return lastCudaResult; }

const char *kiln_status_name(kiln_status status) {
  switch (status) {
  case KILN_SUCCESS: return "KILN_SUCCESS";
  case KILN_ERROR_DRIVER_NOT_FOUND: return "KILN_ERROR_DRIVER_NOT_FOUND";
  case KILN_ERROR_DRIVER_TOO_OLD: return "KILN_ERROR_DRIVER_TOO_OLD";
  case KILN_ERROR_NO_DEVICE: return "KILN_ERROR_NO_DEVICE";
  case KILN_ERROR_INVALID_ARGUMENT: return "KILN_ERROR_INVALID_ARGUMENT";
  case KILN_ERROR_INVALID_LAUNCH_ARGUMENT: return "KILN_ERROR_INVALID_LAUNCH_ARGUMENT";
  case KILN_ERROR_OUT_OF_MEMORY: return "KILN_ERROR_OUT_OF_MEMORY";
  case KILN_ERROR_NOT_FOUND: return "KILN_ERROR_NOT_FOUND";
  case KILN_ERROR_IO: return "KILN_ERROR_IO";
  case KILN_ERROR_CUDA: return "KILN_ERROR_CUDA";
  case KILN_ERROR_COMPILE: return "KILN_ERROR_COMPILE";
  case KILN_ERROR_HIP: return "KILN_ERROR_HIP";
  case KILN_ERROR_LEVEL_ZERO: return "KILN_ERROR_LEVEL_ZERO";
  }
  return "KILN_ERROR_UNKNOWN";
}

kiln_status kiln_cuda_driver_version(int *version) {
  return guarded([&] {
    if (!version)
      return invalid("kiln_cuda_driver_version: version is NULL");
    Expected<int> v = driverVersion();
    if (!v)
      return report(v.status());
    *version = *v;
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_device_count(int *count) {
  return guarded([&] {
    if (!count)
      return invalid("kiln_cuda_device_count: count is NULL");
    Expected<int> n = deviceCount();
    if (!n)
      return report(n.status());
    *count = *n;
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_device_open(int ordinal, kiln_cuda_device *device) {
  return guarded([&] {
    if (!device)
      return invalid("kiln_cuda_device_open: device is NULL");
    *device = nullptr;
    Expected<Device> d = Device::open(ordinal);
    if (!d)
      return report(d.status());
    *device = new kiln_cuda_device_t{std::move(*d)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_device_close(kiln_cuda_device device) { delete device; }

kiln_status kiln_cuda_device_synchronize(kiln_cuda_device device) {
  return guarded([&] {
    if (!device)
      return invalid("kiln_cuda_device_synchronize: device is NULL");
    return report(device->device.synchronize());
  });
}

kiln_status kiln_cuda_device_get_properties(kiln_cuda_device device,
                                            kiln_cuda_device_properties *out) {
  return guarded([&] {
    if (!device || !out)
      return invalid("kiln_cuda_device_get_properties: device or properties is NULL");
    const DeviceProperties &p = device->device.properties();
    *out = kiln_cuda_device_properties{};
    out->ordinal = p.ordinal;
    p.name.copy(out->name, sizeof out->name - 1);
    out->compute_capability_major = p.computeCapabilityMajor;
    out->compute_capability_minor = p.computeCapabilityMinor;
    out->multiprocessor_count = p.multiprocessorCount;
    out->warp_size = p.warpSize;
    out->max_threads_per_block = p.maxThreadsPerBlock;
    out->max_shared_memory_per_block = p.maxSharedMemoryPerBlock;
    out->max_shared_memory_per_block_optin = p.maxSharedMemoryPerBlockOptin;
    out->max_shared_memory_per_multiprocessor = p.maxSharedMemoryPerMultiprocessor;
    out->l2_cache_bytes = p.l2CacheBytes;
    out->total_memory_bytes = p.totalMemoryBytes;
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_module_load_data(kiln_cuda_device device, const void *image, size_t bytes,
                                       kiln_cuda_module *module) {
  return guarded([&] {
    if (!device || !module)
      return invalid("kiln_cuda_module_load_data: device or module is NULL");
    *module = nullptr;
    Expected<Module> m = device->device.loadModule(image, bytes);
    if (!m)
      return report(m.status());
    *module = new kiln_cuda_module_t{std::move(*m)};
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_module_load_file(kiln_cuda_device device, const char *path,
                                       kiln_cuda_module *module) {
  return guarded([&] {
    if (!device || !path || !module)
      return invalid("kiln_cuda_module_load_file: device, path or module is NULL");
    *module = nullptr;
    Expected<Module> m = device->device.loadModuleFromFile(path);
    if (!m)
      return report(m.status());
    *module = new kiln_cuda_module_t{std::move(*m)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_module_unload(kiln_cuda_module module) { delete module; }

kiln_status kiln_cuda_module_get_kernel(kiln_cuda_module module, const char *name,
                                        kiln_cuda_kernel *kernel) {
  return guarded([&] {
    if (!module || !name || !kernel)
      return invalid("kiln_cuda_module_get_kernel: module, name or kernel is NULL");
    *kernel = nullptr;
    Expected<Kernel> k = module->module.kernel(name);
    if (!k)
      return report(k.status());
    *kernel = new kiln_cuda_kernel_t{std::move(*k)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_kernel_release(kiln_cuda_kernel kernel) { delete kernel; }

kiln_status kiln_cuda_kernel_set_max_dynamic_shared_memory(kiln_cuda_kernel kernel, size_t bytes) {
  return guarded([&] {
    if (!kernel)
      return invalid("kiln_cuda_kernel_set_max_dynamic_shared_memory: kernel is NULL");
    return report(kernel->kernel.setMaxDynamicSharedMemory(bytes));
  });
}

kiln_status kiln_cuda_kernel_set_signature(kiln_cuda_kernel kernel, const kiln_cuda_param *params,
                                           size_t num_params) {
  return guarded([&] {
    if (!kernel)
      return invalid("kiln_cuda_kernel_set_signature: kernel is NULL");
    KernelSignature signature;
    if (kiln_status s = toSignature(kernel->kernel.name().c_str(), params, num_params, signature))
      return s;
    kernel->kernel.setSignature(std::move(signature));
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_validate_args(const char *kernel_name, const kiln_cuda_param *params,
                                    size_t num_params, const kiln_cuda_arg *args, size_t num_args) {
  return guarded([&] {
    KernelSignature signature;
    if (kiln_status s = toSignature(kernel_name, params, num_params, signature))
      return s;
    if (kiln_status s = checkArgs(args, num_args))
      return s;
    return report(validateLaunchArguments(signature, toArgs(args, num_args)));
  });
}

kiln_status kiln_cuda_buffer_alloc(kiln_cuda_device device, size_t bytes, kiln_cuda_buffer *buffer) {
  return guarded([&] {
    if (!device || !buffer)
      return invalid("kiln_cuda_buffer_alloc: device or buffer is NULL");
    *buffer = nullptr;
    Expected<Buffer> b = device->device.allocate(bytes);
    if (!b)
      return report(b.status());
    *buffer = new kiln_cuda_buffer_t{std::move(*b)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_buffer_free(kiln_cuda_buffer buffer) { delete buffer; }
uint64_t kiln_cuda_buffer_address(kiln_cuda_buffer buffer) {
  return buffer ? buffer->buffer.address() : 0;
}
size_t kiln_cuda_buffer_size(kiln_cuda_buffer buffer) { return buffer ? buffer->buffer.size() : 0; }

kiln_status kiln_cuda_copy_to_device(kiln_cuda_buffer dst, size_t dst_offset, const void *src,
                                     size_t bytes, kiln_cuda_stream stream) {
  return guarded([&] {
    if (!dst)
      return invalid("kiln_cuda_copy_to_device: dst is NULL");
    return report(dst->buffer.copyFromHost(src, bytes, dst_offset, streamOf(stream)));
  });
}

kiln_status kiln_cuda_copy_to_host(void *dst, kiln_cuda_buffer src, size_t src_offset,
                                   size_t bytes, kiln_cuda_stream stream) {
  return guarded([&] {
    if (!src)
      return invalid("kiln_cuda_copy_to_host: src is NULL");
    return report(src->buffer.copyToHost(dst, bytes, src_offset, streamOf(stream)));
  });
}

kiln_status kiln_cuda_copy_device_to_device(kiln_cuda_buffer dst, size_t dst_offset,
                                            kiln_cuda_buffer src, size_t src_offset, size_t bytes,
                                            kiln_cuda_stream stream) {
  return guarded([&] {
    if (!dst || !src)
      return invalid("kiln_cuda_copy_device_to_device: dst or src is NULL");
    return report(dst->buffer.copyFrom(src->buffer, bytes, src_offset, dst_offset, streamOf(stream)));
  });
}

kiln_status kiln_cuda_memset(kiln_cuda_buffer buffer, size_t offset, uint8_t value, size_t bytes,
                             kiln_cuda_stream stream) {
  return guarded([&] {
    if (!buffer)
      return invalid("kiln_cuda_memset: buffer is NULL");
    return report(buffer->buffer.memset(value, offset, bytes, streamOf(stream)));
  });
}

kiln_status kiln_cuda_stream_create(kiln_cuda_device device, kiln_cuda_stream *stream) {
  return guarded([&] {
    if (!device || !stream)
      return invalid("kiln_cuda_stream_create: device or stream is NULL");
    *stream = nullptr;
    Expected<Stream> s = device->device.createStream();
    if (!s)
      return report(s.status());
    *stream = new kiln_cuda_stream_t{std::move(*s)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_stream_destroy(kiln_cuda_stream stream) { delete stream; }

kiln_status kiln_cuda_stream_synchronize(kiln_cuda_stream stream) {
  return guarded([&] {
    if (!stream)
      return invalid("kiln_cuda_stream_synchronize: stream is NULL");
    return report(stream->stream.synchronize());
  });
}

kiln_status kiln_cuda_event_create(kiln_cuda_device device, kiln_cuda_event *event) {
  return guarded([&] {
    if (!device || !event)
      return invalid("kiln_cuda_event_create: device or event is NULL");
    *event = nullptr;
    Expected<Event> e = device->device.createEvent();
    if (!e)
      return report(e.status());
    *event = new kiln_cuda_event_t{std::move(*e)};
    return KILN_SUCCESS;
  });
}

void kiln_cuda_event_destroy(kiln_cuda_event event) { delete event; }

kiln_status kiln_cuda_event_record(kiln_cuda_event event, kiln_cuda_stream stream) {
  return guarded([&] {
    if (!event)
      return invalid("kiln_cuda_event_record: event is NULL");
    return report(event->event.record(streamOf(stream)));
  });
}

kiln_status kiln_cuda_event_synchronize(kiln_cuda_event event) {
  return guarded([&] {
    if (!event)
      return invalid("kiln_cuda_event_synchronize: event is NULL");
    return report(event->event.synchronize());
  });
}

kiln_status kiln_cuda_event_elapsed_ms(kiln_cuda_event start, kiln_cuda_event end, float *ms) {
  return guarded([&] {
    if (!start || !end || !ms)
      return invalid("kiln_cuda_event_elapsed_ms: start, end or ms is NULL");
    Expected<float> t = Event::elapsedMilliseconds(start->event, end->event);
    if (!t)
      return report(t.status());
    *ms = *t;
    return KILN_SUCCESS;
  });
}

kiln_status kiln_cuda_launch(kiln_cuda_kernel kernel, const kiln_cuda_launch_config *config,
                             const kiln_cuda_arg *args, size_t num_args) {
  return guarded([&] {
    if (!kernel || !config)
      return invalid("kiln_cuda_launch: kernel or config is NULL");
    if (kiln_status s = checkArgs(args, num_args))
      return s;
    LaunchConfig c;
    c.grid = Dim3(config->grid[0], config->grid[1], config->grid[2]);
    c.block = Dim3(config->block[0], config->block[1], config->block[2]);
    c.sharedBytes = config->shared_bytes;
    c.stream = streamOf(config->stream);
    return report(launch(kernel->kernel, c, toArgs(args, num_args)));
  });
}

} // extern "C"
