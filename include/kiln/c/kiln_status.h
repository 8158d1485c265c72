/* kiln_status.h: the status codes every Kiln C API returns (host and vendor runtimes). */
#ifndef KILN_C_KILN_STATUS_H
#define KILN_C_KILN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a Kiln C API call; the cause is in that API's last-error message. */
typedef enum kiln_status {
  KILN_SUCCESS = 0,
  KILN_ERROR_DRIVER_NOT_FOUND = 1,
  KILN_ERROR_DRIVER_TOO_OLD = 2,
  KILN_ERROR_NO_DEVICE = 3,
  KILN_ERROR_INVALID_ARGUMENT = 4,
  KILN_ERROR_INVALID_LAUNCH_ARGUMENT = 5,
  KILN_ERROR_OUT_OF_MEMORY = 6,
  KILN_ERROR_NOT_FOUND = 7,
  KILN_ERROR_IO = 8,
  KILN_ERROR_CUDA = 9,
  KILN_ERROR_COMPILE = 10,
  KILN_ERROR_HIP = 11,
  KILN_ERROR_LEVEL_ZERO = 12
} kiln_status;

#ifdef __cplusplus
}
#endif
#endif
