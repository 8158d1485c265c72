/* Kiln CUDA runtime, C API: opaque handles over kiln::runtime::cuda, status codes and a
 * per-thread message for the last error.
 *
 * Every function returns KILN_SUCCESS or an error code; the human-readable cause (with CUDA's
 * error name where the driver failed) is then in kiln_cuda_last_error() on the same thread.
 * No function aborts: without an NVIDIA driver they return KILN_ERROR_DRIVER_NOT_FOUND.
 *
 *   kiln_cuda_device dev;
 *   if (kiln_cuda_device_open(0, &dev) != KILN_SUCCESS)
 *     fprintf(stderr, "%s\n", kiln_cuda_last_error());
 */
#ifndef KILN_C_KILN_CUDA_H
#define KILN_C_KILN_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/c/kiln_status.h"

#ifdef __cplusplus
extern "C" {
#endif


/** The message of the last failed call on this thread ("" if none). Valid until the next
 *  kiln_cuda_* call on this thread. */
const char *kiln_cuda_last_error(void);
/** The CUresult of the last failed call on this thread (0 when not from the driver). */
int kiln_cuda_last_cuda_result(void);
/** "KILN_ERROR_DRIVER_NOT_FOUND", ... */
const char *kiln_status_name(kiln_status status);

typedef struct kiln_cuda_device_t *kiln_cuda_device;
typedef struct kiln_cuda_module_t *kiln_cuda_module;
typedef struct kiln_cuda_kernel_t *kiln_cuda_kernel;
typedef struct kiln_cuda_buffer_t *kiln_cuda_buffer;
typedef struct kiln_cuda_stream_t *kiln_cuda_stream;
typedef struct kiln_cuda_event_t *kiln_cuda_event;

/* Driver and devices. */
kiln_status kiln_cuda_driver_version(int *version);
kiln_status kiln_cuda_device_count(int *count);
kiln_status kiln_cuda_device_open(int ordinal, kiln_cuda_device *device);
void kiln_cuda_device_close(kiln_cuda_device device); /* NULL is ignored. */
kiln_status kiln_cuda_device_synchronize(kiln_cuda_device device);

typedef struct kiln_cuda_device_properties {
  int ordinal;
  char name[256];
  int compute_capability_major;
  int compute_capability_minor;
  int multiprocessor_count;
  int warp_size;
  int max_threads_per_block;
  size_t max_shared_memory_per_block;
  size_t max_shared_memory_per_block_optin;
  size_t max_shared_memory_per_multiprocessor;
  size_t l2_cache_bytes;
  size_t total_memory_bytes;
} kiln_cuda_device_properties;
kiln_status kiln_cuda_device_get_properties(kiln_cuda_device device,
                                            kiln_cuda_device_properties *properties);

/* Modules and kernels. A kernel keeps its module loaded. */
kiln_status kiln_cuda_module_load_data(kiln_cuda_device device, const void *image, size_t bytes,
                                       kiln_cuda_module *module);
kiln_status kiln_cuda_module_load_file(kiln_cuda_device device, const char *path,
                                       kiln_cuda_module *module);
void kiln_cuda_module_unload(kiln_cuda_module module);
kiln_status kiln_cuda_module_get_kernel(kiln_cuda_module module, const char *name,
                                        kiln_cuda_kernel *kernel);
void kiln_cuda_kernel_release(kiln_cuda_kernel kernel);
kiln_status kiln_cuda_kernel_set_max_dynamic_shared_memory(kiln_cuda_kernel kernel, size_t bytes);

/* Kernel signatures and launch arguments. */
typedef enum kiln_cuda_param_kind {
  KILN_CUDA_PARAM_POINTER = 0,
  KILN_CUDA_PARAM_I32 = 1,
  KILN_CUDA_PARAM_I64 = 2,
  KILN_CUDA_PARAM_F32 = 3,
  KILN_CUDA_PARAM_F64 = 4
} kiln_cuda_param_kind;

typedef enum kiln_cuda_element_type {
  KILN_CUDA_ELEMENT_OPAQUE = 0,
  KILN_CUDA_ELEMENT_I1,
  KILN_CUDA_ELEMENT_I8,
  KILN_CUDA_ELEMENT_U8,
  KILN_CUDA_ELEMENT_I16,
  KILN_CUDA_ELEMENT_F16,
  KILN_CUDA_ELEMENT_BF16,
  KILN_CUDA_ELEMENT_I32,
  KILN_CUDA_ELEMENT_U32,
  KILN_CUDA_ELEMENT_F32,
  KILN_CUDA_ELEMENT_I64,
  KILN_CUDA_ELEMENT_U64,
  KILN_CUDA_ELEMENT_F64
} kiln_cuda_element_type;

typedef struct kiln_cuda_param {
  const char *name;
  kiln_cuda_param_kind kind;
  kiln_cuda_element_type element_type; /* pointers only */
} kiln_cuda_param;

typedef struct kiln_cuda_arg {
  kiln_cuda_param_kind kind;
  kiln_cuda_element_type element_type; /* pointers only */
  union {
    uint64_t pointer; /* a device address, e.g. kiln_cuda_buffer_address() */
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } value;
} kiln_cuda_arg;

/** Makes kiln_cuda_launch validate its arguments against these parameters (copied). */
kiln_status kiln_cuda_kernel_set_signature(kiln_cuda_kernel kernel, const kiln_cuda_param *params,
                                           size_t num_params);
/** Checks args against params without launching; KILN_ERROR_INVALID_LAUNCH_ARGUMENT names the
 *  failing parameter. */
kiln_status kiln_cuda_validate_args(const char *kernel_name, const kiln_cuda_param *params,
                                    size_t num_params, const kiln_cuda_arg *args, size_t num_args);

/* Buffers (device memory). Copies are bounds-checked; stream NULL means synchronous. */
kiln_status kiln_cuda_buffer_alloc(kiln_cuda_device device, size_t bytes, kiln_cuda_buffer *buffer);
void kiln_cuda_buffer_free(kiln_cuda_buffer buffer);
uint64_t kiln_cuda_buffer_address(kiln_cuda_buffer buffer);
size_t kiln_cuda_buffer_size(kiln_cuda_buffer buffer);
kiln_status kiln_cuda_copy_to_device(kiln_cuda_buffer dst, size_t dst_offset, const void *src,
                                     size_t bytes, kiln_cuda_stream stream);
kiln_status kiln_cuda_copy_to_host(void *dst, kiln_cuda_buffer src, size_t src_offset,
                                   size_t bytes, kiln_cuda_stream stream);
kiln_status kiln_cuda_copy_device_to_device(kiln_cuda_buffer dst, size_t dst_offset,
                                            kiln_cuda_buffer src, size_t src_offset, size_t bytes,
                                            kiln_cuda_stream stream);
kiln_status kiln_cuda_memset(kiln_cuda_buffer buffer, size_t offset, uint8_t value, size_t bytes,
                             kiln_cuda_stream stream);

/* Streams and events. */
kiln_status kiln_cuda_stream_create(kiln_cuda_device device, kiln_cuda_stream *stream);
void kiln_cuda_stream_destroy(kiln_cuda_stream stream);
kiln_status kiln_cuda_stream_synchronize(kiln_cuda_stream stream);
kiln_status kiln_cuda_event_create(kiln_cuda_device device, kiln_cuda_event *event);
void kiln_cuda_event_destroy(kiln_cuda_event event);
kiln_status kiln_cuda_event_record(kiln_cuda_event event, kiln_cuda_stream stream);
kiln_status kiln_cuda_event_synchronize(kiln_cuda_event event);
kiln_status kiln_cuda_event_elapsed_ms(kiln_cuda_event start, kiln_cuda_event end, float *ms);

/* Launch. */
typedef struct kiln_cuda_launch_config {
  unsigned grid[3];
  unsigned block[3];
  size_t shared_bytes;     /* dynamic; > 48 KiB raises the kernel's limit */
  kiln_cuda_stream stream; /* NULL: the legacy default stream */
} kiln_cuda_launch_config;

kiln_status kiln_cuda_launch(kiln_cuda_kernel kernel, const kiln_cuda_launch_config *config,
                             const kiln_cuda_arg *args, size_t num_args);

#ifdef __cplusplus
}
#endif

#endif /* KILN_C_KILN_CUDA_H */
