/* kiln-gpu-info: is there an AMD (HIP) or Intel (Level Zero) GPU here, and does a kilnc
 * binary load on it? Written against the C APIs, without MLIR.
 *
 *   kiln-gpu-info amd|intel [BINARY [KERNEL]]
 *
 * Exit status: 0 the GPU (and kernel) is there; 2 no such GPU or runtime (the message says
 * which); 1 any other error. */
#include "kiln/c/kiln_hip.h"
#include "kiln/c/kiln_levelzero.h"

#include <stdio.h>
#include <string.h>

static int report(kiln_status status, const char *message) {
  fprintf(stderr, "kiln-gpu-info: %s\n", message);
  return status == KILN_ERROR_NO_DEVICE || status == KILN_ERROR_DRIVER_NOT_FOUND ? 2 : 1;
}

static int amd(const char *binary, const char *kernel) {
  kiln_hip_device device;
  kiln_hip_module module;
  kiln_hip_kernel k;
  char name[256];
  kiln_status s = kiln_hip_device_open(0, &device);
  if (s != KILN_SUCCESS)
    return report(s, kiln_hip_last_error());
  if ((s = kiln_hip_device_name(device, name, sizeof name)) != KILN_SUCCESS)
    return report(s, kiln_hip_last_error());
  printf("AMD GPU 0: %s\n", name);
  if (binary) {
    if ((s = kiln_hip_module_load_file(device, binary, &module)) != KILN_SUCCESS)
      return report(s, kiln_hip_last_error());
    if (kernel) {
      if ((s = kiln_hip_module_get_kernel(module, kernel, &k)) != KILN_SUCCESS)
        return report(s, kiln_hip_last_error());
      printf("kernel '%s' loaded from %s\n", kernel, binary);
      kiln_hip_kernel_release(k);
    }
    kiln_hip_module_unload(module);
  }
  kiln_hip_device_close(device);
  return 0;
}

static int intel(const char *binary, const char *kernel) {
  kiln_ze_device device;
  kiln_ze_module module;
  kiln_ze_kernel k;
  char name[256];
  kiln_status s = kiln_ze_device_open(0, &device);
  if (s != KILN_SUCCESS)
    return report(s, kiln_ze_last_error());
  if ((s = kiln_ze_device_name(device, name, sizeof name)) != KILN_SUCCESS)
    return report(s, kiln_ze_last_error());
  printf("Intel GPU 0: %s\n", name);
  if (binary) {
    if ((s = kiln_ze_module_load_file(device, binary, &module)) != KILN_SUCCESS)
      return report(s, kiln_ze_last_error());
    if (kernel) {
      if ((s = kiln_ze_module_get_kernel(module, kernel, &k)) != KILN_SUCCESS)
        return report(s, kiln_ze_last_error());
      printf("kernel '%s' loaded from %s\n", kernel, binary);
      kiln_ze_kernel_release(k);
    }
    kiln_ze_module_unload(module);
  }
  kiln_ze_device_close(device);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4 || (strcmp(argv[1], "amd") && strcmp(argv[1], "intel"))) {
    fprintf(stderr, "usage: kiln-gpu-info amd|intel [BINARY [KERNEL]]\n");
    return 1;
  }
  const char *binary = argc > 2 ? argv[2] : NULL;
  const char *kernel = argc > 3 ? argv[3] : NULL;
  return strcmp(argv[1], "amd") == 0 ? amd(binary, kernel) : intel(binary, kernel);
}
