/* BFloat16.c: the bf16 conversion routines LLVM calls on x86-64 CPUs without native bf16.
 * LLVM expects them from the compiler runtime, but libgcc only has them from GCC 13 on.
 * bf16 values travel in the low 16 bits of an SSE register, so a float return whose low
 * 16 bits hold the result matches the calling convention. */
#include <stdint.h>
#include <math.h>
#include <string.h>

static float kiln_bf16_bits_as_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Round to nearest even; NaN stays a quiet NaN. */
static uint32_t kiln_f32_to_bf16_bits(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (u >> 16) | 0x40u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return u >> 16;
}

float __truncsfbf2(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return kiln_bf16_bits_as_float(kiln_f32_to_bf16_bits(u));
}

float __truncdfbf2(double x) {
  /* Round to odd into f32 (truncate toward zero, then set the lowest bit if anything was
   * dropped), so the final rounding to bf16 sees the true position of x. */
  float f = (float)x;
  if ((double)f != x && f == f) {
    if (fabs((double)f) > fabs(x))
      f = nextafterf(f, 0.0f);
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u |= 1u;
    memcpy(&f, &u, sizeof f);
  }
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return kiln_bf16_bits_as_float(kiln_f32_to_bf16_bits(u));
}
