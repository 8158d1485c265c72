/* kiln_host.h: C API of the host runtime that runs a kernel's grid on a thread pool. */
#ifndef KILN_C_KILN_HOST_H
#define KILN_C_KILN_HOST_H

#include <stdint.h>

#include "kiln/c/kiln_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/// One program instance of a compiled host kernel. `args[i]` points at the value of
/// parameter i (as in CUDA's kernelParams); (px,py,pz) is this program's id and
/// (gx,gy,gz) the grid.
typedef void (*kiln_host_program_fn)(void **args, int32_t px, int32_t py, int32_t pz,
                                     int32_t gx, int32_t gy, int32_t gz);


/// Runs `fn` for every program id of the grid on the shared host thread pool and returns
/// when all programs have finished. A zero-sized grid runs nothing. Grids with an extent
/// above INT32_MAX are rejected with KILN_ERROR_INVALID_ARGUMENT.
kiln_status kiln_host_launch(kiln_host_program_fn fn, void **args, uint32_t gx,
                             uint32_t gy, uint32_t gz);

/// Number of worker threads the pool uses (KILN_NUM_THREADS, else the core count).
int kiln_host_num_threads(void);

/// Message of the last failed call on this thread ("" when none).
const char *kiln_host_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
