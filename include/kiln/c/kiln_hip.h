/* Kiln HIP runtime, C API: AMD GPUs through libamdhip64, loaded at run time (dlopen), so a
 * program linked with it starts on any machine.
 *
 * Every function returns KILN_SUCCESS or an error code; the cause, with HIP's error name
 * where HIP failed, is then in kiln_hip_last_error() on the same thread. Without the HIP
 * runtime: KILN_ERROR_DRIVER_NOT_FOUND; with it but no GPU: KILN_ERROR_NO_DEVICE, and the
 * message starts "no AMD GPU". Nothing aborts.
 *
 *   kiln_hip_device dev;
 *   if (kiln_hip_device_open(0, &dev) != KILN_SUCCESS)
 *     fprintf(stderr, "%s\n", kiln_hip_last_error());
 *   kiln_hip_module_load_file(dev, "out/vadd.hsaco", &mod);        // from kilnc --target=gfx942
 *   kiln_hip_module_get_kernel(mod, "vadd", &k);
 *   kiln_gpu_arg args[] = {{KILN_GPU_ARG_POINTER, {.pointer = kiln_hip_buffer_address(x)}}, ...};
 *   kiln_gpu_launch_config cfg = {{blocks, 1, 1}, {128, 1, 1}, 0};  // threads from the JSON
 *   kiln_hip_launch(k, &cfg, args, 4);
 */
#ifndef KILN_C_KILN_HIP_H
#define KILN_C_KILN_HIP_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/c/kiln_gpu.h"
#include "kiln/c/kiln_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The message of the last failed call on this thread ("" if none). */
const char *kiln_hip_last_error(void);
/** The hipError_t of the last failed call on this thread (0 when not from HIP). */
int kiln_hip_last_result(void);

typedef struct kiln_hip_device_t *kiln_hip_device;
typedef struct kiln_hip_module_t *kiln_hip_module;
typedef struct kiln_hip_kernel_t *kiln_hip_kernel;
typedef struct kiln_hip_buffer_t *kiln_hip_buffer;

/** Number of AMD GPUs: 0 (and KILN_SUCCESS) when HIP is installed but sees none. */
kiln_status kiln_hip_device_count(int *count);
kiln_status kiln_hip_device_open(int ordinal, kiln_hip_device *device);
void kiln_hip_device_close(kiln_hip_device device); /* NULL is ignored */
/** The device's marketing name, NUL-terminated, truncated to `bytes`. */
kiln_status kiln_hip_device_name(kiln_hip_device device, char *name, size_t bytes);
kiln_status kiln_hip_device_synchronize(kiln_hip_device device);

/** A module from an HSA code object (kilnc's .hsaco). A kernel keeps its module loaded. */
kiln_status kiln_hip_module_load_data(kiln_hip_device device, const void *image, size_t bytes,
                                      kiln_hip_module *module);
kiln_status kiln_hip_module_load_file(kiln_hip_device device, const char *path,
                                      kiln_hip_module *module);
void kiln_hip_module_unload(kiln_hip_module module);
kiln_status kiln_hip_module_get_kernel(kiln_hip_module module, const char *name,
                                       kiln_hip_kernel *kernel);
void kiln_hip_kernel_release(kiln_hip_kernel kernel);
/** Makes kiln_hip_launch check argument count and kinds (copied). */
kiln_status kiln_hip_kernel_set_signature(kiln_hip_kernel kernel, const kiln_gpu_arg_kind *kinds,
                                          size_t count);

/** Device memory; copies are bounds-checked and synchronous. */
kiln_status kiln_hip_buffer_alloc(kiln_hip_device device, size_t bytes, kiln_hip_buffer *buffer);
void kiln_hip_buffer_free(kiln_hip_buffer buffer);
uint64_t kiln_hip_buffer_address(kiln_hip_buffer buffer);
kiln_status kiln_hip_copy_to_device(kiln_hip_buffer dst, size_t offset, const void *src,
                                    size_t bytes);
kiln_status kiln_hip_copy_to_host(void *dst, kiln_hip_buffer src, size_t offset, size_t bytes);

/** Launches on the null stream; arguments are packed by kind. */
kiln_status kiln_hip_launch(kiln_hip_kernel kernel, const kiln_gpu_launch_config *config,
                            const kiln_gpu_arg *args, size_t num_args);

#ifdef __cplusplus
}
#endif
#endif
