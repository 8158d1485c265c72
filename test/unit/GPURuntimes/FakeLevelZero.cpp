// A fake Level Zero loader for tests without an Intel GPU: host memory stands in for device
// memory and the kernel "vadd" (kilnc's example: c = a + b, 1024 elements per work-group)
// runs on the CPU. A module is SPIR-V (checked by its magic number) that holds a kernel if
// its bytes contain the kernel's name; a module whose bytes contain "BUILD_FAILS" fails to
// build with a log. KILN_FAKE_ZE_NO_DRIVER makes zeInit fail as on a machine without GPUs.
#include <level_zero/ze_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct _ze_driver_handle_t {};
struct _ze_device_handle_t {};
struct _ze_context_handle_t {};
struct _ze_command_list_handle_t {};
struct _ze_module_handle_t {
  std::string bytes;
};
struct _ze_module_build_log_handle_t {
  std::string text;
};
struct _ze_kernel_handle_t {
  std::string name;
  uint32_t group[3] = {0, 0, 0};
  std::vector<std::string> args;
};

namespace {
_ze_driver_handle_t driver;
_ze_device_handle_t device;
int liveAllocations = 0, liveModules = 0, liveKernels = 0;
uint32_t lastGroups = 0, lastGroupSize = 0;
} // namespace

extern "C" {

int kilnFakeZeLiveAllocations() { return liveAllocations; }
int kilnFakeZeLiveModules() { return liveModules; }
int kilnFakeZeLiveKernels() { return liveKernels; }
uint32_t kilnFakeZeLastGroups() { return lastGroups; }
uint32_t kilnFakeZeLastGroupSize() { return lastGroupSize; }

ze_result_t zeInit(ze_init_flags_t) {
  return std::getenv("KILN_FAKE_ZE_NO_DRIVER") ? ZE_RESULT_ERROR_UNINITIALIZED : ZE_RESULT_SUCCESS;
}
ze_result_t zeDriverGet(uint32_t *count, ze_driver_handle_t *drivers) {
  if (drivers && *count)
    drivers[0] = &driver;
  *count = 1;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeDeviceGet(ze_driver_handle_t, uint32_t *count, ze_device_handle_t *devices) {
  if (devices && *count)
    devices[0] = &device;
  *count = 1;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeDeviceGetProperties(ze_device_handle_t, ze_device_properties_t *props) {
  props->type = ZE_DEVICE_TYPE_GPU;
  props->vendorId = 0x8086;
  std::strcpy(props->name, "Fake Intel Data Center GPU Max 1550");
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeContextCreate(ze_driver_handle_t, const ze_context_desc_t *, ze_context_handle_t *c) {
  *c = new _ze_context_handle_t;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeContextDestroy(ze_context_handle_t c) {
  delete c;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeCommandListCreateImmediate(ze_context_handle_t, ze_device_handle_t,
                                         const ze_command_queue_desc_t *desc,
                                         ze_command_list_handle_t *list) {
  if (desc->mode != ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS)
    return ZE_RESULT_ERROR_INVALID_ARGUMENT; // the runtime relies on synchronous lists
  *list = new _ze_command_list_handle_t;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeCommandListDestroy(ze_command_list_handle_t list) {
  delete list;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeCommandListAppendMemoryCopy(ze_command_list_handle_t, void *dst, const void *src,
                                          size_t bytes, ze_event_handle_t, uint32_t,
                                          ze_event_handle_t *) {
  std::memcpy(dst, src, bytes);
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeModuleCreate(ze_context_handle_t, ze_device_handle_t, const ze_module_desc_t *desc,
                           ze_module_handle_t *module, ze_module_build_log_handle_t *log) {
  const uint32_t magic = 0x07230203;
  std::string bytes(reinterpret_cast<const char *>(desc->pInputModule), desc->inputSize);
  if (desc->format != ZE_MODULE_FORMAT_IL_SPIRV || desc->inputSize < 4 ||
      std::memcmp(bytes.data(), &magic, 4) != 0)
    return ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
  bool fails = bytes.find("BUILD_FAILS") != std::string::npos;
  if (log)
    *log = new _ze_module_build_log_handle_t{fails ? "error: fake IGC rejects this module" : ""};
  if (fails)
    return ZE_RESULT_ERROR_MODULE_BUILD_FAILURE;
  *module = new _ze_module_handle_t{bytes};
  ++liveModules;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeModuleDestroy(ze_module_handle_t module) {
  delete module;
  --liveModules;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeModuleBuildLogGetString(ze_module_build_log_handle_t log, size_t *size, char *text) {
  if (text)
    std::memcpy(text, log->text.c_str(), log->text.size() + 1);
  *size = log->text.size() + 1;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeModuleBuildLogDestroy(ze_module_build_log_handle_t log) {
  delete log;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeKernelCreate(ze_module_handle_t module, const ze_kernel_desc_t *desc,
                           ze_kernel_handle_t *kernel) {
  if (module->bytes.find(desc->pKernelName) == std::string::npos)
    return ZE_RESULT_ERROR_INVALID_KERNEL_NAME;
  *kernel = new _ze_kernel_handle_t{desc->pKernelName};
  ++liveKernels;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeKernelDestroy(ze_kernel_handle_t kernel) {
  delete kernel;
  --liveKernels;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeKernelSetGroupSize(ze_kernel_handle_t kernel, uint32_t x, uint32_t y, uint32_t z) {
  kernel->group[0] = x, kernel->group[1] = y, kernel->group[2] = z;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeKernelSetArgumentValue(ze_kernel_handle_t kernel, uint32_t index, size_t size,
                                     const void *value) {
  if (kernel->name == "vadd" && (index > 3 || size != (index == 3 ? 4u : 8u)))
    return ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE;
  if (kernel->args.size() <= index)
    kernel->args.resize(index + 1);
  kernel->args[index].assign(static_cast<const char *>(value), size);
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeCommandListAppendLaunchKernel(ze_command_list_handle_t, ze_kernel_handle_t kernel,
                                            const ze_group_count_t *groups, ze_event_handle_t,
                                            uint32_t, ze_event_handle_t *) {
  lastGroups = groups->groupCountX * groups->groupCountY * groups->groupCountZ;
  lastGroupSize = kernel->group[0] * kernel->group[1] * kernel->group[2];
  if (kernel->name != "vadd")
    return ZE_RESULT_SUCCESS;
  if (kernel->args.size() != 4)
    return ZE_RESULT_ERROR_INVALID_ARGUMENT;
  float *a, *b, *c;
  int32_t n;
  std::memcpy(&a, kernel->args[0].data(), 8);
  std::memcpy(&b, kernel->args[1].data(), 8);
  std::memcpy(&c, kernel->args[2].data(), 8);
  std::memcpy(&n, kernel->args[3].data(), 4);
  for (int64_t i = 0; i < n && i < int64_t(groups->groupCountX) * 1024; ++i)
    c[i] = a[i] + b[i];
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeMemAllocDevice(ze_context_handle_t, const ze_device_mem_alloc_desc_t *, size_t size,
                             size_t, ze_device_handle_t, void **ptr) {
  *ptr = std::malloc(size);
  ++liveAllocations;
  return ZE_RESULT_SUCCESS;
}
ze_result_t zeMemFree(ze_context_handle_t, void *ptr) {
  std::free(ptr);
  --liveAllocations;
  return ZE_RESULT_SUCCESS;
}

} // extern "C"
