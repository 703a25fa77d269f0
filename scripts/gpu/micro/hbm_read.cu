// Microbenchmark (development only, not part of the library): how fast can one kernel read N bytes of HBM once, for
// the sizes of Llama-2-7B's INT4 layers? Each thread keeps DEPTH 16-byte loads in flight (ld.global.nc, no L1
// allocation); the grid is CTAS_PER_SM x SMs CTAs of THREADS threads, each CTA reading one contiguous share.
// Buffers rotate over 1 GB so no launch finds its bytes in the 60 MB L2. Back-to-back launches, timed with events.
#include <cstdio>
#include <cuda_runtime.h>
static bool g_pdl = false;
struct __align__(16) V { unsigned x, y, z, w; };
__device__ __forceinline__ V ld(const V* p) {
  V v; asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p)); return v;
}
template <int DEPTH>
__global__ void read_kernel(const V* base, size_t vecs, unsigned* out) {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");   // no-op unless launched with PDL
  const size_t per_cta = (vecs + gridDim.x - 1) / gridDim.x;
  const size_t b = blockIdx.x * per_cta, e = min(vecs, b + per_cta);
  unsigned acc = 0;
  for (size_t i = b + threadIdx.x; i < e; i += (size_t)blockDim.x * DEPTH) {
    V v[DEPTH];
#pragma unroll
    for (int d = 0; d < DEPTH; ++d) { size_t j = i + (size_t)d * blockDim.x; v[d] = j < e ? ld(base + j) : V{0,0,0,0}; }
#pragma unroll
    for (int d = 0; d < DEPTH; ++d) acc ^= v[d].x ^ v[d].y ^ v[d].z ^ v[d].w;
  }
  if (acc == 0x12345678u) out[blockIdx.x] = acc;
}
template <int DEPTH>
float run(const char* name, char* pool, size_t pool_bytes, size_t bytes, int ctas, int threads, unsigned* out) {
  const int reps = 200; size_t slots = pool_bytes / bytes; if (slots > 64) slots = 64;
  cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b);
  cudaLaunchConfig_t cfg = {}; cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization; attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.gridDim = ctas; cfg.blockDim = threads; cfg.attrs = attr; cfg.numAttrs = g_pdl ? 1 : 0;
  auto launch = [&](int r) { cudaLaunchKernelEx(&cfg, read_kernel<DEPTH>, (const V*)(pool + (r % slots) * bytes), bytes / 16, out); };
  for (int r = 0; r < 20; ++r) launch(r);
  cudaEventRecord(a);
  for (int r = 0; r < reps; ++r) launch(r);
  cudaEventRecord(b); cudaEventSynchronize(b);
  float ms; cudaEventElapsedTime(&ms, a, b); ms /= reps;
  printf("%s %-7s %7.1f MB ctas %4d thr %4d depth %2d: %7.2f us  %5.2f TB/s\n", g_pdl ? "pdl" : "   ", name, bytes / 1e6, ctas, threads, DEPTH, ms * 1e3, bytes / (ms * 1e-3) / 1e12);
  return ms;
}
int main() {
  int sms; cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  size_t pool_bytes = 2ull << 30; char* pool; cudaMalloc(&pool, pool_bytes); cudaMemset(pool, 1, pool_bytes);
  unsigned* out; cudaMalloc(&out, 1 << 20);
  const size_t sizes[] = {8388608, 22544384, 25165824, 45088768, 117440512};
  for (int pdl = 0; pdl < 2; ++pdl)
  for (size_t bytes : sizes) {
    g_pdl = pdl;
    for (int cps : {1, 2, 4}) for (int thr : {256, 512}) {
      run<4>("nc", pool, pool_bytes, bytes, cps * sms, thr, out);
      run<8>("nc", pool, pool_bytes, bytes, cps * sms, thr, out);
      if (thr == 256) run<16>("nc", pool, pool_bytes, bytes, cps * sms, thr, out);
    }
  }
  // device-to-device copy for reference
  for (size_t bytes : sizes) {
    cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b);
    cudaEventRecord(a);
    for (int r = 0; r < 50; ++r) cudaMemcpyAsync(pool + pool_bytes / 2, pool + (r % 8) * bytes, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(b); cudaEventSynchronize(b); float ms; cudaEventElapsedTime(&ms, a, b); ms /= 50;
    printf("memcpy     %7.1f MB: %7.2f us  %5.2f TB/s (read+write %5.2f)\n", bytes / 1e6, ms * 1e3, bytes / (ms * 1e-3) / 1e12, 2 * bytes / (ms * 1e-3) / 1e12);
  }
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
