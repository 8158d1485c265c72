/* kiln_gpu.h: kernel arguments and launch shapes shared by the HIP and Level Zero C APIs. */
#ifndef KILN_C_KILN_GPU_H
#define KILN_C_KILN_GPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What one kernel argument is; a kernel's signature is a list of these (kilnc's JSON
 *  "params": ptr -> POINTER, i32/i64/f32/f64 scalars). */
typedef enum kiln_gpu_arg_kind {
  KILN_GPU_ARG_POINTER = 0, /* a device address */
  KILN_GPU_ARG_I32 = 1,
  KILN_GPU_ARG_I64 = 2,
  KILN_GPU_ARG_F32 = 3,
  KILN_GPU_ARG_F64 = 4
} kiln_gpu_arg_kind;

typedef struct kiln_gpu_arg {
  kiln_gpu_arg_kind kind;
  union {
    uint64_t pointer;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } value;
} kiln_gpu_arg;

typedef struct kiln_gpu_launch_config {
  uint32_t grid[3];    /* workgroups per dimension */
  uint32_t block[3];   /* threads per workgroup: kilnc's JSON "threads" in x */
  size_t shared_bytes; /* dynamic workgroup memory (Kiln kernels declare theirs statically) */
} kiln_gpu_launch_config;

#ifdef __cplusplus
}
#endif
#endif
