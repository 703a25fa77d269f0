// Microbenchmark (development only, not part of the library): may a cuBLAS FP16 GEMM follow one of our kernels through a
// programmatic (PDL) graph edge? Such an edge lets the GEMM launch as soon as the kernel before it triggers
// (griddepcontrol.launch_dependents), which is safe only if the GEMM's kernels wait (griddepcontrol.wait) before reading
// their inputs. The test captures pairs "write x, then y = x W^T (cublasGemmEx)" where the writer triggers first and
// writes x only after spinning for a while; it then turns the writer -> GEMM edges into programmatic ones and checks
// every y against the value the writer wrote: a GEMM that does not wait reads the old x and gives the wrong sums, and
// finishes while the writer still spins. Also times both graphs without the spin (the engine's case).
// Build on the GPU host (CUDA 13): nvcc -O2 -arch=sm_90 cublas_pdl.cu -lcublas -o /tmp/pdl
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cmath>
#include <cuda_fp16.h>
#include <cublas_v2.h>
#define CK(x) do { auto e_ = (x); if ((int)e_ != 0) { printf("%s:%d %s -> %d\n", __FILE__, __LINE__, #x, (int)e_); exit(1); } } while (0)

__global__ void fill(half* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed; h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15;
    p[i] = __float2half(((h & 0xffff) / 65536.0f - 0.5f) * 0.1f);
  }
}

// Lets the next kernel launch, spins for spin_ns, then writes x = value.
__global__ void writer(half* x, int n, long long spin_ns, float value) {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  asm volatile("griddepcontrol.wait;" ::: "memory");
  if (spin_ns > 0) {
    long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); } while (t - t0 < spin_ns);
  }
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] = __float2half(value);
}

__global__ void row_sums(const half* w, int n, int k, float* out) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n) return;
  float s = 0.f;
  for (int i = 0; i < k; i++) s += __half2float(w[(size_t)r * k + i]);
  out[r] = s;
}

// Rewires every edge writer -> kernel node as programmatic; returns how many.
static int make_programmatic(cudaGraph_t g) {
  size_t ne = 0;
  CK(cudaGraphGetEdges(g, nullptr, nullptr, nullptr, &ne));
  std::vector<cudaGraphNode_t> from(ne), to(ne);
  std::vector<cudaGraphEdgeData> data(ne);
  CK(cudaGraphGetEdges(g, from.data(), to.data(), data.data(), &ne));
  int changed = 0;
  for (size_t i = 0; i < ne; i++) {
    cudaGraphNodeType tf, tt;
    CK(cudaGraphNodeGetType(from[i], &tf));
    CK(cudaGraphNodeGetType(to[i], &tt));
    if (tf != cudaGraphNodeTypeKernel || tt != cudaGraphNodeTypeKernel) continue;
    cudaKernelNodeParams p;
    if (cudaGraphKernelNodeGetParams(from[i], &p) != cudaSuccess) {  // a cuBLAS kernel (not a runtime-API function)
      cudaGetLastError();
      continue;
    }
    if (p.func != (void*)writer) continue;
    cudaGraphEdgeData e = {};
    CK(cudaGraphRemoveDependencies(g, &from[i], &to[i], &data[i], 1));
    e.from_port = cudaGraphKernelNodePortProgrammatic;
    e.type = cudaGraphDependencyTypeProgrammatic;
    CK(cudaGraphAddDependencies(g, &from[i], &to[i], &e, 1));
    changed++;
  }
  return changed;
}

int main() {
  const int shapes[][2] = {{12288, 4096}, {4096, 4096}, {22016, 4096}, {4096, 11008}};  // n, k
  const int ms[] = {1, 16};
  cublasHandle_t blas; CK(cublasCreate(&blas));
  void* ws; CK(cudaMalloc(&ws, 64 << 20)); CK(cublasSetWorkspace(blas, ws, 64 << 20));
  cudaStream_t st; CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking)); CK(cublasSetStream(blas, st));
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  const int pairs = 12;
  for (auto& sh : shapes) {
    const int n = sh[0], k = sh[1];
    const size_t wbytes = (size_t)n * k * 2;
    const int copies = (int)((240ull << 20) / wbytes) + 2;
    std::vector<half*> w(copies);
    std::vector<float*> sums(copies);
    for (int c = 0; c < copies; ++c) {
      CK(cudaMalloc(&w[c], wbytes)); fill<<<1024, 256>>>(w[c], (size_t)n * k, 17 + c);
      CK(cudaMalloc(&sums[c], n * 4)); row_sums<<<(n + 255) / 256, 256>>>(w[c], n, k, sums[c]);
    }
    half* x; CK(cudaMalloc(&x, (size_t)16 * k * 2));
    std::vector<half*> y(pairs);
    for (auto& p : y) CK(cudaMalloc(&p, (size_t)16 * n * 2));
    CK(cudaDeviceSynchronize());
    std::vector<float> hs(n);
    std::vector<half> hy((size_t)16 * n);
    for (int m : ms) {
      for (long long spin : {20000LL, 0LL}) {
        cudaGraphExec_t exec[2];
        int rewired = 0;
        for (int variant = 0; variant < 2; variant++) {
          cudaGraph_t g;
          CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
          for (int r = 0; r < pairs; r++) {
            writer<<<16, 256, 0, st>>>(x, m * k, spin, (float)(1 + r % 3));
            const float alpha = 1.f, beta = 0.f;
            CK(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, w[r % copies], CUDA_R_16F, k, x, CUDA_R_16F, k,
                            &beta, y[r], CUDA_R_16F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
          }
          CK(cudaStreamEndCapture(st, &g));
          if (variant == 1) rewired = make_programmatic(g);
          CK(cudaGraphInstantiate(&exec[variant], g, 0));
          CK(cudaGraphDestroy(g));
        }
        float ms_of[2];
        int wrong[2] = {0, 0};
        for (int variant = 0; variant < 2; variant++) {
          for (int r = 0; r < pairs; r++) CK(cudaMemsetAsync(y[r], 0, (size_t)16 * n * 2, st));
          CK(cudaGraphLaunch(exec[variant], st));
          CK(cudaStreamSynchronize(st));
          for (int r = 0; r < pairs; r++) {  // y[r] rows must be (1 + r % 3) * row sums of w[r % copies]
            CK(cudaMemcpy(hs.data(), sums[r % copies], n * 4, cudaMemcpyDeviceToHost));
            CK(cudaMemcpy(hy.data(), y[r], (size_t)m * n * 2, cudaMemcpyDeviceToHost));
            for (int i = 0; i < m; i++)
              for (int j = 0; j < n; j++) {
                float want = (1 + r % 3) * hs[j], got = __half2float(hy[(size_t)i * n + j]);
                if (fabsf(got - want) > 0.02f + 0.01f * fabsf(want)) wrong[variant]++;
              }
          }
          CK(cudaGraphLaunch(exec[variant], st));  // warm
          CK(cudaEventRecord(e0, st));
          const int reps = 20;
          for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(exec[variant], st));
          CK(cudaEventRecord(e1, st));
          CK(cudaEventSynchronize(e1));
          float t; cudaEventElapsedTime(&t, e0, e1);
          ms_of[variant] = t * 1000.f / reps / pairs;
        }
        printf("n %5d k %5d m %2d spin %5lld ns: plain %7.2f us/pair (%d wrong), programmatic (%d edges) %7.2f us/pair (%d wrong)\n",
               n, k, m, spin, ms_of[0], wrong[0], rewired, ms_of[1], wrong[1]);
        for (auto& e : exec) CK(cudaGraphExecDestroy(e));
      }
    }
    for (auto p : w) cudaFree(p);
    for (auto p : sums) cudaFree(p);
    for (auto p : y) cudaFree(p);
    cudaFree(x);
  }
  return 0;
}
