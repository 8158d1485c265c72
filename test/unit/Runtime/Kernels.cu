// Kernels for the GPU runtime tests and kiln-cuda-smoke, built with nvcc -cubin -arch=sm_90a.

// c = a + b over n elements; extern "C" keeps the name unmangled for cuModuleGetFunction.
extern "C" __global__ void vadd(const float *a, const float *b, float *c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    c[i] = a[i] + b[i];
}

// Reverses each block's slice of `in` through dynamic shared memory of `words` floats per
// block (>= blockDim.x); every word is written and read, so a launch with too little dynamic
// shared memory faults under compute-sanitizer instead of passing silently.
extern "C" __global__ void smem_reverse(const float *in, float *out, int n, int words) {
  extern __shared__ float s[];
  int t = threadIdx.x;
  for (int w = t; w < words; w += blockDim.x)
    s[w] = 0.f;
  __syncthreads();
  int base = blockIdx.x * blockDim.x;
  int i = base + t;
  s[words - 1 - t] = i < n ? in[i] : 0.f;
  __syncthreads();
  if (i < n) // out[base + t] = in[base + blockDim.x - 1 - t], or 0 past the end of in.
    out[i] = s[words - blockDim.x + t];
}
