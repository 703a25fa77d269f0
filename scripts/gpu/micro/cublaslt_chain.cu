// Microbenchmark (development only, not part of the library): what each cuBLAS FP16 GEMM algorithm costs inside a
// decode step's chain, not alone. The engine's FP16 graph runs "our small kernel -> cuBLAS GEMM -> our small kernel";
// cublasGemmEx picks split-K algorithms with a separate reduction kernel for the narrow layers (o 4096x4096 and down
// 4096x11008 at one row), which puts one more kernel boundary in the chain. This captures graphs of 16 pairs "writer
// (a small kernel launched as a programmatic dependent, as the engine launches its own) -> GEMM" over rotated weights
// and times each cuBLASLt heuristic algorithm against GemmEx, printing split-K count, reduction scheme and the kernels
// per GEMM in the graph.
// Build on the GPU host (CUDA 13): nvcc -O2 -arch=sm_90 cublaslt_chain.cu -lcublasLt -lcublas -o /tmp/chain
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <functional>
#include <cuda_fp16.h>
#include <cublas_v2.h>
#include <cublasLt.h>
#define CK(x) do { auto e_ = (x); if ((int)e_ != 0) { printf("%s:%d %s -> %d\n", __FILE__, __LINE__, #x, (int)e_); exit(1); } } while (0)

__global__ void fill(half* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed; h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15;
    p[i] = __float2half(((h & 0xffff) / 65536.0f - 0.5f) * 0.1f);
  }
}

// The engine's small kernels: let the next launch, wait for the previous grid, write the next GEMM's input.
__global__ void writer(half* x, int n, float value) {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  asm volatile("griddepcontrol.wait;" ::: "memory");
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] = __float2half(value);
}

static void launch_writer(cudaStream_t st, half* x, int n, float value) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(8); cfg.blockDim = dim3(256); cfg.stream = st;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr; cfg.numAttrs = 1;
  CK(cudaLaunchKernelEx(&cfg, writer, x, n, value));
}

int main() {
  struct Shape { int n, k; float beta; const char* name; };
  const Shape shapes[] = {{4096, 4096, 1.f, "o"}, {4096, 11008, 1.f, "down"}, {12288, 4096, 0.f, "qkv"}, {22016, 4096, 0.f, "gate|up"}};
  const int ms[] = {1, 16};
  const int pairs = 16, reps = 30;
  cublasHandle_t blas; CK(cublasCreate(&blas));
  cublasLtHandle_t lt; CK(cublasLtCreate(&lt));
  const size_t ws_bytes = 64 << 20; void* ws; CK(cudaMalloc(&ws, ws_bytes));
  CK(cublasSetWorkspace(blas, ws, ws_bytes));
  cudaStream_t st; CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking)); CK(cublasSetStream(blas, st));
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  for (auto& sh : shapes) {
    const int n = sh.n, k = sh.k;
    const size_t wbytes = (size_t)n * k * 2;
    const int copies = (int)((240ull << 20) / wbytes) + 2;
    std::vector<half*> w(copies);
    for (int c = 0; c < copies; ++c) { CK(cudaMalloc(&w[c], wbytes)); fill<<<1024, 256>>>(w[c], (size_t)n * k, 17 + c); }
    half *x, *y; CK(cudaMalloc(&x, (size_t)16 * k * 2)); CK(cudaMalloc(&y, (size_t)16 * n * 2));
    CK(cudaMemset(y, 0, (size_t)16 * n * 2));
    CK(cudaDeviceSynchronize());
    for (int m : ms) {
      const float alpha = 1.f, beta = sh.beta;
      // Captures pairs x (writer, gemm), returns us per pair and kernels per GEMM.
      auto chain = [&](std::function<void(half*)> gemm, int& kernels_per_gemm) {
        cudaGraph_t g;
        CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
        for (int r = 0; r < pairs; r++) {
          launch_writer(st, x, m * k, 0.01f * (1 + r % 3));
          gemm(w[r % copies]);
        }
        CK(cudaStreamEndCapture(st, &g));
        size_t count = 0;
        CK(cudaGraphGetNodes(g, nullptr, &count));
        std::vector<cudaGraphNode_t> nodes(count);
        CK(cudaGraphGetNodes(g, nodes.data(), &count));
        int kernels = 0;
        for (auto nd : nodes) { cudaGraphNodeType t; CK(cudaGraphNodeGetType(nd, &t)); kernels += t == cudaGraphNodeTypeKernel; }
        kernels_per_gemm = kernels / pairs - 1;
        cudaGraphExec_t exec;
        CK(cudaGraphInstantiate(&exec, g, 0));
        CK(cudaGraphDestroy(g));
        for (int i = 0; i < 3; i++) CK(cudaGraphLaunch(exec, st));
        CK(cudaEventRecord(e0, st));
        for (int i = 0; i < reps; i++) CK(cudaGraphLaunch(exec, st));
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        float t; cudaEventElapsedTime(&t, e0, e1);
        CK(cudaGraphExecDestroy(exec));
        return t * 1000.f / reps / pairs;
      };
      int kg = 0;
      float base = chain([&](half* wp) {
        CK(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, wp, CUDA_R_16F, k, x, CUDA_R_16F, k, &beta, y, CUDA_R_16F, n,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      }, kg);
      printf("%s n=%d k=%d m=%d beta=%.0f: gemmex %.2f us per pair (%d kernels per GEMM)\n", sh.name, n, k, m, beta, base, kg);
      cublasLtMatmulDesc_t desc; CK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
      cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
      CK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
      CK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
      cublasLtMatrixLayout_t la, lb, lc;
      CK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, k, n, k));
      CK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, k, m, k));
      CK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, n, m, n));
      cublasLtMatmulPreference_t pref; CK(cublasLtMatmulPreferenceCreate(&pref));
      CK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes, sizeof ws_bytes));
      cublasLtMatmulHeuristicResult_t res[24]; int found = 0;
      CK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 24, res, &found));
      float best = 1e9; int best_i = -1;
      for (int i = 0; i < found; ++i) {
        if (res[i].state != CUBLAS_STATUS_SUCCESS) continue;
        int kl = 0;
        float t = chain([&](half* wp) {
          CK(cublasLtMatmul(lt, desc, &alpha, wp, la, x, lb, &beta, y, lc, y, lc, &res[i].algo, ws, ws_bytes, st));
        }, kl);
        int id = 0, splitk = 0, red = 0; size_t sz;
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &sz);
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk, sizeof splitk, &sz);
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &red, sizeof red, &sz);
        printf("   lt #%2d id=%d splitk=%d red=%d ws=%zu kernels=%d: %.2f us per pair\n", i, id, splitk, red, res[i].workspaceSize, kl, t);
        if (t < best) { best = t; best_i = i; }
      }
      printf("%s m=%d: best lt #%d %.2f us against gemmex %.2f (%+.2f us per GEMM)\n", sh.name, m, best_i, best, base, best - base);
      cublasLtMatmulPreferenceDestroy(pref); cublasLtMatrixLayoutDestroy(la); cublasLtMatrixLayoutDestroy(lb); cublasLtMatrixLayoutDestroy(lc);
      cublasLtMatmulDescDestroy(desc);
    }
    for (auto p : w) cudaFree(p);
    cudaFree(x); cudaFree(y);
  }
  return 0;
}
