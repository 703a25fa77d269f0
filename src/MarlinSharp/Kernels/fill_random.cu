// fill_random.cu — fills device buffers with reproducible pseudo-random values, on the GPU.
//
// Benchmarks and random-weight models need gigabytes of non-zero data (zeros hide unwritten outputs and can
// run faster than real data). Generating that on the host and copying it over costs seconds; here every
// element is an independent hash of (seed, index), so a grid-stride loop fills any size at memory speed and
// the same seed always gives the same contents, whatever the launch shape.
//
// Layout: plain contiguous arrays. FP16 values are produced as raw 16-bit patterns (no cuda_fp16.h) so the
// file stays header-free like every kernel of MarlinSharp.

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

__device__ __forceinline__ u64 mix64(u64 x) {  // SplitMix64 finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

__device__ __forceinline__ u16 float_to_half_bits(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;\n" : "=h"(h) : "f"(f));
  return h;
}

// out[i] = lo + (hi - lo) * u, u uniform in [0, 1), rounded to FP16.
extern "C" __global__ void fill_uniform_f16(u16* out, u64 count, float lo, float hi, u64 seed) {
  const u64 stride = (u64)gridDim.x * blockDim.x;
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
    const float u = (float)(mix64(seed ^ mix64(i)) >> 40) * (1.0f / 16777216.0f);
    out[i] = float_to_half_bits(lo + (hi - lo) * u);
  }
}

// Uniformly random 32-bit words (e.g. packed INT4 weights: every bit pattern is a valid set of 8 codes).
extern "C" __global__ void fill_bits_u32(u32* out, u64 count, u64 seed) {
  const u64 stride = (u64)gridDim.x * blockDim.x;
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) out[i] = (u32)(mix64(seed ^ mix64(i)) >> 16);
}
