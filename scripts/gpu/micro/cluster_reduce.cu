// cluster_reduce.cu — what the streamed GEMM's cluster reduction costs on this GPU, piece by piece (session 19).
//
// The kernel timeline of session 19 (docs/NOTES.md) put 0.55-0.75 us between a cluster's last main loop and its barrier
// after the partials, and ~2 us from there to its last exit at batch 16. Three questions, each a kernel here:
//  1. barrier: how long one barrier.cluster.arrive + wait takes when every CTA arrives at once, by cluster size and by
//     CTAs per SM (grids of 132..396 CTAs of 128 or 256 threads);
//  2. dsmem: how fast CTAs read each other's shared memory when every CTA of the grid does so at once, as the reduction
//     does: each thread reads `per_thread` Float4s, `batch` in flight, from ranks in turn;
//  3. mbarrier: the round trip of a remote mbarrier arrive (release, cluster scope) answered by the peer, between the
//     two CTAs of a cluster.
// Times are %globaltimer ns, medians over CTAs (printed by the host). nvcc -O2 -arch=sm_90 cluster_reduce.cu
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cuda_runtime.h>

#define CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); exit(1); } } while (0)

__device__ __forceinline__ unsigned long long now() {
  unsigned long long t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); return t;
}
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.aligned;\nbarrier.cluster.wait.aligned;\n" ::: "memory");
}
__device__ __forceinline__ unsigned rank() { unsigned r; asm("mov.u32 %0, %%cluster_ctarank;" : "=r"(r)); return r; }
__device__ __forceinline__ unsigned nranks() { unsigned r; asm("mov.u32 %0, %%cluster_nctarank;" : "=r"(r)); return r; }
__device__ __forceinline__ unsigned smem(const void* p) { return (unsigned)__cvta_generic_to_shared(p); }

__global__ void barrier_kernel(int iters, unsigned long long* out) {
  cluster_sync();
  unsigned long long t0 = now();
  for (int i = 0; i < iters; ++i) cluster_sync();
  if (threadIdx.x == 0) out[blockIdx.x] = (now() - t0) / iters;
}

__global__ void dsmem_kernel(int per_thread, int batch, unsigned long long* out, float* sink) {
  extern __shared__ float4 buf[];
  const int n = blockDim.x * per_thread;  // Float4s per CTA, all read by someone
  for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = make_float4(i, rank(), 1.f, 2.f);
  cluster_sync();
  const unsigned P = nranks(), me = rank();
  unsigned long long t0 = now();
  float4 acc = make_float4(0, 0, 0, 0);
  for (int i0 = 0; i0 < per_thread; i0 += batch) {
    float4 v[16];
#pragma unroll
    for (int b = 0; b < 16; ++b) {
      if (b < batch && i0 + b < per_thread) {
        const int i = i0 + b;
        const unsigned peer = (me + 1 + i) % P;          // mostly remote, like the reduction's ranks
        unsigned remote, local = smem(&buf[(threadIdx.x + i * blockDim.x) % n]);
        asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(local), "r"(peer));
        asm volatile("ld.shared::cluster.v4.f32 {%0,%1,%2,%3}, [%4];" : "=f"(v[b].x), "=f"(v[b].y), "=f"(v[b].z), "=f"(v[b].w) : "r"(remote) : "memory");
      }
    }
#pragma unroll
    for (int b = 0; b < 16; ++b)
      if (b < batch && i0 + b < per_thread) { acc.x += v[b].x; acc.y += v[b].y; acc.z += v[b].z; acc.w += v[b].w; }
  }
  unsigned long long t1 = now();
  __syncthreads();
  unsigned long long t2 = now();
  cluster_sync();
  if (threadIdx.x == 0) out[blockIdx.x] = (t2 - t0) | ((now() - t0) << 32);
  if (acc.x == -1.f) sink[0] = acc.y + acc.z + acc.w + (float)t1;
}

__global__ void mbarrier_kernel(int iters, unsigned long long* out) {
  __shared__ unsigned long long bar;
  const unsigned me = rank(), peer = me ^ 1;
  if (threadIdx.x == 0) asm volatile("mbarrier.init.shared.b64 [%0], 1;" ::"r"(smem(&bar)));
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  cluster_sync();
  unsigned remote;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(smem(&bar)), "r"(peer));
  unsigned long long t0 = now();
  if (threadIdx.x == 0) {
    // Rank 0 arrives on rank 1's barrier and waits for the answer on its own; rank 1 waits, then answers. Each barrier
    // counts one arrival per phase, so iteration i waits for the phase of parity i & 1.
    for (int i = 0; i < iters; ++i) {
      if (me == 0) asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];" ::"r"(remote) : "memory");
      unsigned done = 0;
      while (!done)
        asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                     : "=r"(done) : "r"(smem(&bar)), "r"((unsigned)(i & 1)) : "memory");
      if (me == 1) asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];" ::"r"(remote) : "memory");
    }
    out[blockIdx.x] = (now() - t0) / iters;
  }
  cluster_sync();
}

static unsigned long long median(std::vector<unsigned long long> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; }

template <typename K, typename... A>
static void launch(K kernel, int grid, int threads, int cluster, int smem_bytes, A... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(grid); cfg.blockDim = dim3(threads); cfg.dynamicSmemBytes = smem_bytes;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension; attr[0].val.clusterDim.x = cluster; attr[0].val.clusterDim.y = 1; attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr; cfg.numAttrs = 1;
  CHECK(cudaLaunchKernelEx(&cfg, kernel, args...));
  CHECK(cudaDeviceSynchronize());
}

int main() {
  unsigned long long* out; float* sink;
  CHECK(cudaMalloc(&out, 4096 * 8)); CHECK(cudaMalloc(&sink, 16));
  std::vector<unsigned long long> h(4096);
  CHECK(cudaFuncSetAttribute(dsmem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
  printf("barrier.cluster arrive+wait, ns per barrier (median over CTAs)\n");
  for (int threads : {128, 256})
    for (int cluster : {1, 2, 4, 6, 8})
      for (int grid : {120, 288, 384}) {
        int g = grid / cluster * cluster;
        launch(barrier_kernel, g, threads, cluster, 0, 200, out);
        CHECK(cudaMemcpy(h.data(), out, g * 8, cudaMemcpyDeviceToHost));
        printf("  threads %3d cluster %d grid %3d: %llu\n", threads, cluster, g, median(std::vector<unsigned long long>(h.begin(), h.begin() + g)));
      }
  printf("DSMEM reads: per thread Float4s, batch in flight -> ns until the CTA's reads are done | until the cluster barrier after them\n");
  for (int threads : {128, 256})
    for (int cluster : {2, 6})
      for (int grid : {132, 288})
        for (int per : {2, 8, 16})
          for (int batch : {1, 8, 16}) {
            if (batch > per) continue;
            int g = grid / cluster * cluster;
            launch(dsmem_kernel, g, threads, cluster, threads * per * 16, per, batch, out, sink);
            CHECK(cudaMemcpy(h.data(), out, g * 8, cudaMemcpyDeviceToHost));
            std::vector<unsigned long long> a(g), b(g);
            for (int i = 0; i < g; ++i) { a[i] = h[i] & 0xffffffffull; b[i] = h[i] >> 32; }
            printf("  threads %3d cluster %d grid %3d per %2d batch %2d (%5d B/CTA): %llu | %llu\n", threads, cluster, g, per, batch,
                   threads * per * 16, median(a), median(b));
          }
  printf("mbarrier remote arrive round trip between the 2 CTAs of a cluster, ns\n");
  for (int grid : {2, 264}) {
    launch(mbarrier_kernel, grid, 32, 2, 0, 200, out);
    CHECK(cudaMemcpy(h.data(), out, grid * 8, cudaMemcpyDeviceToHost));
    printf("  grid %3d: %llu\n", grid, median(std::vector<unsigned long long>(h.begin(), h.begin() + grid)));
  }
  return 0;
}
