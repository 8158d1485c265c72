/* Kiln Level Zero runtime, C API: Intel GPUs through the Level Zero loader
 * (libze_loader.so.1), loaded at run time (dlopen), so a program linked with it starts on
 * any machine.
 *
 * Every function returns KILN_SUCCESS or an error code; the cause, with the ze_result_t
 * name where Level Zero failed, is then in kiln_ze_last_error() on the same thread. Without
 * the loader: KILN_ERROR_DRIVER_NOT_FOUND; with it but no Intel GPU driver or device:
 * KILN_ERROR_NO_DEVICE, and the message starts "no Intel GPU". Nothing aborts.
 *
 *   kiln_ze_device dev;
 *   if (kiln_ze_device_open(0, &dev) != KILN_SUCCESS)
 *     fprintf(stderr, "%s\n", kiln_ze_last_error());
 *   kiln_ze_module_load_file(dev, "out/vadd.spv", &mod);   // from kilnc --target=pvc
 *   kiln_ze_module_get_kernel(mod, "vadd", &k);
 *   kiln_ze_launch(k, &cfg, args, 4);                      // block = the JSON's threads
 */
#ifndef KILN_C_KILN_LEVELZERO_H
#define KILN_C_KILN_LEVELZERO_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/c/kiln_gpu.h"
#include "kiln/c/kiln_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The message of the last failed call on this thread ("" if none). */
const char *kiln_ze_last_error(void);
/** The ze_result_t of the last failed call on this thread (0 when not from Level Zero). */
uint32_t kiln_ze_last_result(void);

typedef struct kiln_ze_device_t *kiln_ze_device;
typedef struct kiln_ze_module_t *kiln_ze_module;
typedef struct kiln_ze_kernel_t *kiln_ze_kernel;
typedef struct kiln_ze_buffer_t *kiln_ze_buffer;

/** Number of Intel GPUs: 0 (and KILN_SUCCESS) when the loader finds no GPU driver. */
kiln_status kiln_ze_device_count(int *count);
/** Opens the ordinal-th Intel GPU: a context and a synchronous immediate command list. */
kiln_status kiln_ze_device_open(int ordinal, kiln_ze_device *device);
void kiln_ze_device_close(kiln_ze_device device); /* NULL is ignored */
kiln_status kiln_ze_device_name(kiln_ze_device device, char *name, size_t bytes);

/** A module from SPIR-V (kilnc's .spv), compiled by the driver; its build log is in the
 *  error message when that fails. A kernel keeps its module alive. */
kiln_status kiln_ze_module_load_data(kiln_ze_device device, const void *spirv, size_t bytes,
                                     kiln_ze_module *module);
kiln_status kiln_ze_module_load_file(kiln_ze_device device, const char *path,
                                     kiln_ze_module *module);
void kiln_ze_module_unload(kiln_ze_module module);
kiln_status kiln_ze_module_get_kernel(kiln_ze_module module, const char *name,
                                      kiln_ze_kernel *kernel);
void kiln_ze_kernel_release(kiln_ze_kernel kernel);
/** Makes kiln_ze_launch check argument count and kinds (copied). */
kiln_status kiln_ze_kernel_set_signature(kiln_ze_kernel kernel, const kiln_gpu_arg_kind *kinds,
                                         size_t count);

/** Device memory (USM device allocations); copies are bounds-checked and synchronous. */
kiln_status kiln_ze_buffer_alloc(kiln_ze_device device, size_t bytes, kiln_ze_buffer *buffer);
void kiln_ze_buffer_free(kiln_ze_buffer buffer);
uint64_t kiln_ze_buffer_address(kiln_ze_buffer buffer);
kiln_status kiln_ze_copy_to_device(kiln_ze_buffer dst, size_t offset, const void *src,
                                   size_t bytes);
kiln_status kiln_ze_copy_to_host(void *dst, kiln_ze_buffer src, size_t offset, size_t bytes);

/** Sets the work-group size and the arguments (by kind), then launches; returns when done.
 *  Kiln kernels declare their SLM statically: shared_bytes must be 0. */
kiln_status kiln_ze_launch(kiln_ze_kernel kernel, const kiln_gpu_launch_config *config,
                           const kiln_gpu_arg *args, size_t num_args);

#ifdef __cplusplus
}
#endif
#endif
