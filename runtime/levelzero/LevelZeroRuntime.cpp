// The Level Zero runtime behind kiln/c/kiln_levelzero.h: the loader (libze_loader) opened at
// run time; Debian's libze-dev header gives the types only, nothing is linked.
#include "kiln/c/kiln_levelzero.h"

#include "../gpu/Launch.h"

#include <level_zero/ze_api.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <map>
#include <mutex>
#include <new>

using namespace kiln::runtime::gpu;

namespace {

struct LevelZero {
#define KILN_ZE_FUNCTIONS(X)                                                                  \
  X(zeInit) X(zeDriverGet) X(zeDeviceGet) X(zeDeviceGetProperties) X(zeContextCreate)        \
  X(zeContextDestroy) X(zeCommandListCreateImmediate) X(zeCommandListDestroy)                 \
  X(zeCommandListAppendMemoryCopy) X(zeCommandListAppendLaunchKernel) X(zeModuleCreate)      \
  X(zeModuleDestroy) X(zeModuleBuildLogGetString) X(zeModuleBuildLogDestroy) X(zeKernelCreate)\
  X(zeKernelDestroy) X(zeKernelSetGroupSize) X(zeKernelSetArgumentValue) X(zeMemAllocDevice)  \
  X(zeMemFree)
#define KILN_ZE_MEMBER(name) decltype(&::name) name = nullptr;
  KILN_ZE_FUNCTIONS(KILN_ZE_MEMBER)
#undef KILN_ZE_MEMBER
  std::vector<std::pair<ze_driver_handle_t, ze_device_handle_t>> gpus; ///< Intel GPUs found
  ze_result_t initResult = ZE_RESULT_SUCCESS;
};

thread_local LastError lastError;

const char *resultName(ze_result_t r) {
  switch (r) {
#define KILN_ZE_NAME(x) case x: return #x;
    KILN_ZE_NAME(ZE_RESULT_SUCCESS)
    KILN_ZE_NAME(ZE_RESULT_NOT_READY)
    KILN_ZE_NAME(ZE_RESULT_ERROR_DEVICE_LOST)
    KILN_ZE_NAME(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY)
    KILN_ZE_NAME(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY)
    KILN_ZE_NAME(ZE_RESULT_ERROR_MODULE_BUILD_FAILURE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_MODULE_LINK_FAILURE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_DEVICE_REQUIRES_RESET)
    KILN_ZE_NAME(ZE_RESULT_ERROR_UNINITIALIZED)
    KILN_ZE_NAME(ZE_RESULT_ERROR_UNSUPPORTED_VERSION)
    KILN_ZE_NAME(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_ARGUMENT)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_NULL_HANDLE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_NULL_POINTER)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_SIZE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_UNSUPPORTED_SIZE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_KERNEL_NAME)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX)
    KILN_ZE_NAME(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE)
    KILN_ZE_NAME(ZE_RESULT_ERROR_UNKNOWN)
#undef KILN_ZE_NAME
  default: return "ZE_RESULT_(unnamed)";
  }
}

std::string describe(ze_result_t r) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", unsigned(r));
  return std::string(resultName(r)) + " (" + hex + ")";
}

kiln_status statusFor(ze_result_t r) {
  switch (r) {
  case ZE_RESULT_ERROR_UNINITIALIZED: return KILN_ERROR_NO_DEVICE; // no GPU driver
  case ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY:
  case ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY: return KILN_ERROR_OUT_OF_MEMORY;
  case ZE_RESULT_ERROR_INVALID_KERNEL_NAME: return KILN_ERROR_NOT_FOUND;
  case ZE_RESULT_ERROR_MODULE_BUILD_FAILURE: return KILN_ERROR_COMPILE;
  default: return KILN_ERROR_LEVEL_ZERO;
  }
}

kiln_status fail(ze_result_t r, const char *call, const std::string &doing) {
  std::string message = doing + ": " + call + ": " + describe(r);
  if (statusFor(r) == KILN_ERROR_NO_DEVICE)
    message = "no Intel GPU: " + message + ": no Level Zero GPU driver is installed or sees a GPU";
  return lastError.set(statusFor(r), message, int(r));
}

kiln_status invalid(const std::string &what) {
  return lastError.set(KILN_ERROR_INVALID_ARGUMENT, what);
}

/// Opens the loader, resolves Kiln's entry points and finds the Intel GPUs: the table, or
/// null and why not. No GPU driver is not a failure here; calls report it.
std::pair<const LevelZero *, std::string> openLevelZero() {
  std::string tried;
  void *handle = openLibrary("KILN_LEVEL_ZERO_LIB", {"libze_loader.so.1"}, tried);
  if (!handle)
    return {nullptr, "no Intel GPU: the Level Zero loader (libze_loader.so.1) is not "
                     "installed [" + tried + "]"};
  auto ze = std::make_unique<LevelZero>();
  std::string missing;
#define KILN_ZE_RESOLVE(name)                                                                 \
  ze->name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));                      \
  if (!ze->name && missing.empty())                                                           \
    missing = #name;
  KILN_ZE_FUNCTIONS(KILN_ZE_RESOLVE)
#undef KILN_ZE_RESOLVE
  if (!missing.empty())
    return {nullptr, "no Intel GPU: the library loaded as the Level Zero loader has no " +
                         missing + " (not libze_loader?)"};
  ze->initResult = ze->zeInit(ZE_INIT_FLAG_GPU_ONLY);
  uint32_t drivers = 0;
  if (ze->initResult == ZE_RESULT_SUCCESS &&
      ze->zeDriverGet(&drivers, nullptr) == ZE_RESULT_SUCCESS && drivers) {
    std::vector<ze_driver_handle_t> driverHandles(drivers);
    ze->zeDriverGet(&drivers, driverHandles.data());
    for (ze_driver_handle_t driver : driverHandles) {
      uint32_t n = 0;
      if (ze->zeDeviceGet(driver, &n, nullptr) != ZE_RESULT_SUCCESS || !n)
        continue;
      std::vector<ze_device_handle_t> devices(n);
      ze->zeDeviceGet(driver, &n, devices.data());
      for (ze_device_handle_t device : devices) {
        ze_device_properties_t props{};
        props.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES;
        if (ze->zeDeviceGetProperties(device, &props) == ZE_RESULT_SUCCESS &&
            props.type == ZE_DEVICE_TYPE_GPU && props.vendorId == 0x8086)
          ze->gpus.push_back({driver, device});
      }
    }
  }
  return {ze.release(), ""};
}

/// The loader ($KILN_LEVEL_ZERO_LIB, else libze_loader.so.1), opened once per library name;
/// null with `error` set if it cannot be.
const LevelZero *loadLevelZero(std::string &error) {
  static std::mutex mutex;
  // By library name, never freed: Level Zero objects may be released during exit.
  static auto *loaded = new std::map<std::string, std::pair<const LevelZero *, std::string>>();
  const char *env = std::getenv("KILN_LEVEL_ZERO_LIB");
  std::string key = env && *env ? env : "";
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded->find(key);
  if (it == loaded->end())
    it = loaded->emplace(key, openLevelZero()).first;
  error = it->second.second;
  return it->second.first;
}

template <typename Body> kiln_status withLevelZero(Body &&body) {
  lastError.clear();
  try {
    std::string error;
    const LevelZero *ze = loadLevelZero(error);
    if (!ze)
      return lastError.set(KILN_ERROR_DRIVER_NOT_FOUND, error);
    return body(*ze);
  } catch (const std::bad_alloc &) {
    return lastError.set(KILN_ERROR_OUT_OF_MEMORY, "host memory exhausted");
  } catch (...) {
    return lastError.set(KILN_ERROR_LEVEL_ZERO, "unexpected C++ exception");
  }
}

} // namespace

struct kiln_ze_device_t {
  const LevelZero *ze;
  ze_driver_handle_t driver;
  ze_device_handle_t device;
  ze_context_handle_t context = nullptr;
  ze_command_list_handle_t list = nullptr; ///< immediate and synchronous
};
struct kiln_ze_module_t {
  kiln_ze_device device;
  ze_module_handle_t module;
  int kernels = 0;
  bool unloadRequested = false;
};
struct kiln_ze_kernel_t {
  kiln_ze_module module;
  ze_kernel_handle_t kernel;
  std::string name;
  std::unique_ptr<std::vector<kiln_gpu_arg_kind>> signature;
};
struct kiln_ze_buffer_t {
  kiln_ze_device device;
  void *address;
  size_t bytes;
};

extern "C" {

const char *kiln_ze_last_error(void) { return lastError.message.c_str(); }
uint32_t kiln_ze_last_result(void) { return uint32_t(lastError.result); }

kiln_status kiln_ze_device_count(int *count) {
  if (!count)
    return invalid("kiln_ze_device_count: count is NULL");
  *count = 0;
  return withLevelZero([&](const LevelZero &ze) {
    // No GPU driver (zeInit fails) means no Intel GPU: a count of 0.
    *count = int(ze.gpus.size());
    return KILN_SUCCESS;
  });
}

kiln_status kiln_ze_device_open(int ordinal, kiln_ze_device *device) {
  if (!device)
    return invalid("kiln_ze_device_open: device is NULL");
  *device = nullptr;
  return withLevelZero([&](const LevelZero &ze) {
    std::string doing = "opening Intel GPU " + std::to_string(ordinal);
    if (ze.initResult != ZE_RESULT_SUCCESS)
      return fail(ze.initResult, "zeInit", doing);
    if (ordinal < 0 || size_t(ordinal) >= ze.gpus.size())
      return lastError.set(KILN_ERROR_NO_DEVICE, "no Intel GPU " + std::to_string(ordinal) +
                                                     ": Level Zero sees " +
                                                     std::to_string(ze.gpus.size()));
    auto dev = std::make_unique<kiln_ze_device_t>();
    dev->ze = &ze;
    dev->driver = ze.gpus[ordinal].first;
    dev->device = ze.gpus[ordinal].second;
    ze_context_desc_t contextDesc{};
    contextDesc.stype = ZE_STRUCTURE_TYPE_CONTEXT_DESC;
    if (ze_result_t r = ze.zeContextCreate(dev->driver, &contextDesc, &dev->context))
      return fail(r, "zeContextCreate", doing);
    ze_command_queue_desc_t queueDesc{};
    queueDesc.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC;
    queueDesc.mode = ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS;
    if (ze_result_t r =
            ze.zeCommandListCreateImmediate(dev->context, dev->device, &queueDesc, &dev->list)) {
      ze.zeContextDestroy(dev->context);
      return fail(r, "zeCommandListCreateImmediate", doing);
    }
    *device = dev.release();
    return KILN_SUCCESS;
  });
}

void kiln_ze_device_close(kiln_ze_device device) {
  if (!device)
    return;
  device->ze->zeCommandListDestroy(device->list);
  device->ze->zeContextDestroy(device->context);
  delete device;
}

kiln_status kiln_ze_device_name(kiln_ze_device device, char *name, size_t bytes) {
  if (!device || !name || !bytes)
    return invalid("kiln_ze_device_name: NULL device or empty name buffer");
  return withLevelZero([&](const LevelZero &ze) {
    ze_device_properties_t props{};
    props.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES;
    if (ze_result_t r = ze.zeDeviceGetProperties(device->device, &props))
      return fail(r, "zeDeviceGetProperties", "naming an Intel GPU");
    std::strncpy(name, props.name, bytes - 1);
    name[bytes - 1] = '\0';
    return KILN_SUCCESS;
  });
}

kiln_status kiln_ze_module_load_data(kiln_ze_device device, const void *spirv, size_t bytes,
                                     kiln_ze_module *module) {
  if (!device || !spirv || !bytes || !module)
    return invalid("kiln_ze_module_load_data: NULL device, module or SPIR-V, or no bytes");
  *module = nullptr;
  const uint32_t magic = 0x07230203;
  if (bytes < 20 || bytes % 4 || std::memcmp(spirv, &magic, 4) != 0)
    return invalid("kiln_ze_module_load_data: the image is not a SPIR-V module");
  return withLevelZero([&](const LevelZero &ze) {
    ze_module_desc_t desc{};
    desc.stype = ZE_STRUCTURE_TYPE_MODULE_DESC;
    desc.format = ZE_MODULE_FORMAT_IL_SPIRV;
    desc.inputSize = bytes;
    desc.pInputModule = static_cast<const uint8_t *>(spirv);
    desc.pBuildFlags = "";
    ze_module_handle_t handle = nullptr;
    ze_module_build_log_handle_t log = nullptr;
    ze_result_t r = ze.zeModuleCreate(device->context, device->device, &desc, &handle, &log);
    std::string buildLog;
    if (log) {
      size_t size = 0;
      if (ze.zeModuleBuildLogGetString(log, &size, nullptr) == ZE_RESULT_SUCCESS && size) {
        std::vector<char> text(size, '\0');
        if (ze.zeModuleBuildLogGetString(log, &size, text.data()) == ZE_RESULT_SUCCESS)
          buildLog = text.data();
      }
      ze.zeModuleBuildLogDestroy(log);
    }
    if (r != ZE_RESULT_SUCCESS) {
      kiln_status s = fail(r, "zeModuleCreate",
                           "building a SPIR-V module (" + std::to_string(bytes) + " bytes)");
      if (!buildLog.empty())
        lastError.message += "\nbuild log:\n" + buildLog;
      return s;
    }
    *module = new kiln_ze_module_t{device, handle};
    return KILN_SUCCESS;
  });
}

kiln_status kiln_ze_module_load_file(kiln_ze_device device, const char *path,
                                     kiln_ze_module *module) {
  if (!path)
    return invalid("kiln_ze_module_load_file: path is NULL");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    lastError.clear();
    return lastError.set(KILN_ERROR_IO, std::string("cannot read SPIR-V module '") + path + "'");
  }
  std::vector<char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return kiln_ze_module_load_data(device, image.data(), image.size(), module);
}

static void destroyIfUnused(kiln_ze_module module) {
  if (!module->unloadRequested || module->kernels)
    return;
  module->device->ze->zeModuleDestroy(module->module);
  delete module;
}

void kiln_ze_module_unload(kiln_ze_module module) {
  if (!module)
    return;
  module->unloadRequested = true;
  destroyIfUnused(module);
}

kiln_status kiln_ze_module_get_kernel(kiln_ze_module module, const char *name,
                                      kiln_ze_kernel *kernel) {
  if (!module || !name || !kernel)
    return invalid("kiln_ze_module_get_kernel: NULL module, name or kernel");
  *kernel = nullptr;
  return withLevelZero([&](const LevelZero &ze) {
    ze_kernel_desc_t desc{};
    desc.stype = ZE_STRUCTURE_TYPE_KERNEL_DESC;
    desc.pKernelName = name;
    ze_kernel_handle_t handle = nullptr;
    if (ze_result_t r = ze.zeKernelCreate(module->module, &desc, &handle))
      return fail(r, "zeKernelCreate", std::string("finding kernel '") + name + "'");
    ++module->kernels;
    *kernel = new kiln_ze_kernel_t{module, handle, name, nullptr};
    return KILN_SUCCESS;
  });
}

void kiln_ze_kernel_release(kiln_ze_kernel kernel) {
  if (!kernel)
    return;
  kiln_ze_module module = kernel->module;
  module->device->ze->zeKernelDestroy(kernel->kernel);
  delete kernel;
  --module->kernels;
  destroyIfUnused(module);
}

kiln_status kiln_ze_kernel_set_signature(kiln_ze_kernel kernel, const kiln_gpu_arg_kind *kinds,
                                         size_t count) {
  lastError.clear();
  if (!kernel || (count && !kinds))
    return invalid("kiln_ze_kernel_set_signature: NULL kernel or kinds");
  for (size_t i = 0; i < count; ++i)
    if (!argBytes(kinds[i]))
      return invalid("kiln_ze_kernel_set_signature: parameter " + std::to_string(i) +
                     " has an unknown kind");
  kernel->signature = std::make_unique<std::vector<kiln_gpu_arg_kind>>(kinds, kinds + count);
  return KILN_SUCCESS;
}

kiln_status kiln_ze_buffer_alloc(kiln_ze_device device, size_t bytes, kiln_ze_buffer *buffer) {
  if (!device || !bytes || !buffer)
    return invalid("kiln_ze_buffer_alloc: NULL device or buffer, or 0 bytes");
  *buffer = nullptr;
  return withLevelZero([&](const LevelZero &ze) {
    ze_device_mem_alloc_desc_t desc{};
    desc.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC;
    void *address = nullptr;
    // 64 bytes: the widest vector access Kiln emits, and a cache line.
    if (ze_result_t r =
            ze.zeMemAllocDevice(device->context, &desc, bytes, 64, device->device, &address))
      return fail(r, "zeMemAllocDevice", "allocating " + std::to_string(bytes) + " bytes");
    *buffer = new kiln_ze_buffer_t{device, address, bytes};
    return KILN_SUCCESS;
  });
}

void kiln_ze_buffer_free(kiln_ze_buffer buffer) {
  if (!buffer)
    return;
  buffer->device->ze->zeMemFree(buffer->device->context, buffer->address);
  delete buffer;
}

uint64_t kiln_ze_buffer_address(kiln_ze_buffer buffer) {
  return buffer ? reinterpret_cast<uint64_t>(buffer->address) : 0;
}

static bool inBounds(kiln_ze_buffer buffer, size_t offset, size_t bytes) {
  return offset <= buffer->bytes && bytes <= buffer->bytes - offset;
}

static kiln_status copy(kiln_ze_device device, void *dst, const void *src, size_t bytes,
                        const char *doing) {
  return withLevelZero([&](const LevelZero &ze) {
    if (ze_result_t r = ze.zeCommandListAppendMemoryCopy(device->list, dst, src, bytes, nullptr,
                                                         0, nullptr))
      return fail(r, "zeCommandListAppendMemoryCopy", doing);
    return KILN_SUCCESS;
  });
}

kiln_status kiln_ze_copy_to_device(kiln_ze_buffer dst, size_t offset, const void *src,
                                   size_t bytes) {
  if (!dst || (bytes && !src))
    return invalid("kiln_ze_copy_to_device: NULL buffer or source");
  if (!inBounds(dst, offset, bytes))
    return invalid("kiln_ze_copy_to_device: " + std::to_string(bytes) + " bytes at offset " +
                   std::to_string(offset) + " overrun a buffer of " + std::to_string(dst->bytes));
  return copy(dst->device, static_cast<char *>(dst->address) + offset, src, bytes,
              "copying to the GPU");
}

kiln_status kiln_ze_copy_to_host(void *dst, kiln_ze_buffer src, size_t offset, size_t bytes) {
  if (!src || (bytes && !dst))
    return invalid("kiln_ze_copy_to_host: NULL buffer or destination");
  if (!inBounds(src, offset, bytes))
    return invalid("kiln_ze_copy_to_host: " + std::to_string(bytes) + " bytes at offset " +
                   std::to_string(offset) + " overrun a buffer of " + std::to_string(src->bytes));
  return copy(src->device, dst, static_cast<char *>(src->address) + offset, bytes,
              "copying from the GPU");
}

kiln_status kiln_ze_launch(kiln_ze_kernel kernel, const kiln_gpu_launch_config *config,
                           const kiln_gpu_arg *args, size_t num_args) {
  if (!kernel)
    return invalid("kiln_ze_launch: kernel is NULL");
  if (!validConfig(config) || config->shared_bytes)
    return invalid("kiln_ze_launch: kernel '" + kernel->name +
                   "': the grid and block need every dimension >= 1 and no dynamic SLM");
  std::string wrong = checkArgs(kernel->name, kernel->signature.get(), args, num_args);
  if (!wrong.empty()) {
    lastError.clear();
    return lastError.set(KILN_ERROR_INVALID_LAUNCH_ARGUMENT, wrong);
  }
  return withLevelZero([&](const LevelZero &ze) {
    std::string doing = "launching kernel '" + kernel->name + "'";
    if (ze_result_t r = ze.zeKernelSetGroupSize(kernel->kernel, config->block[0],
                                                config->block[1], config->block[2]))
      return fail(r, "zeKernelSetGroupSize", doing);
    for (size_t i = 0; i < num_args; ++i)
      if (ze_result_t r = ze.zeKernelSetArgumentValue(kernel->kernel, uint32_t(i),
                                                      argBytes(args[i].kind), &args[i].value))
        return fail(r, "zeKernelSetArgumentValue",
                    doing + " (argument " + std::to_string(i) + ")");
    ze_group_count_t groups{config->grid[0], config->grid[1], config->grid[2]};
    if (ze_result_t r = ze.zeCommandListAppendLaunchKernel(kernel->module->device->list,
                                                           kernel->kernel, &groups, nullptr, 0,
                                                           nullptr))
      return fail(r, "zeCommandListAppendLaunchKernel", doing);
    return KILN_SUCCESS;
  });
}

} // extern "C"
