// Microbenchmark (development only, not part of the library): does cuBLASLt offer faster FP16 algorithms than
// cublasGemmEx's default choice for the decode GEMMs of Llama-2-7B (y[m][n] = x[m][k] · W[n][k]^T)? For each shape and
// m it times GemmEx(default) and every algorithm cublasLtMatmulAlgoGetHeuristic returns (up to 32, 64 MB workspace),
// rotating over weight copies that together exceed L2, and prints the bandwidth each reaches.
// Build on the GPU host: nvcc -O2 -arch=sm_90 cublaslt_algos.cu -lcublasLt -lcublas -o /tmp/lt
#include <cstdio>
#include <cstdlib>
#include <vector>
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

int main() {
  const int shapes[][2] = {{12288, 4096}, {4096, 4096}, {22016, 4096}, {4096, 11008}};  // n, k
  const int ms[] = {1, 16};
  cublasHandle_t blas; CK(cublasCreate(&blas));
  cublasLtHandle_t lt; CK(cublasLtCreate(&lt));
  const size_t ws_bytes = 64 << 20; void* ws; CK(cudaMalloc(&ws, ws_bytes));
  CK(cublasSetWorkspace(blas, ws, ws_bytes));
  cudaStream_t st; CK(cudaStreamCreate(&st)); CK(cublasSetStream(blas, st));
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  for (auto& sh : shapes) {
    const int n = sh[0], k = sh[1];
    const size_t wbytes = (size_t)n * k * 2;
    const int copies = (int)((240ull << 20) / wbytes) + 2;
    std::vector<half*> w(copies);
    for (int c = 0; c < copies; ++c) { CK(cudaMalloc(&w[c], wbytes)); fill<<<1024, 256>>>(w[c], (size_t)n * k, 17 + c); }
    half *x, *y; CK(cudaMalloc(&x, (size_t)64 * k * 2)); CK(cudaMalloc(&y, (size_t)64 * n * 2)); fill<<<64, 256>>>(x, (size_t)64 * k, 5);
    CK(cudaDeviceSynchronize());
    for (int m : ms) {
      const float alpha = 1.f, beta = 0.f;
      const int reps = 60;
      auto time = [&](auto launch) {
        for (int i = 0; i < 6; ++i) launch(w[i % copies]);
        cudaEventRecord(e0, st);
        for (int i = 0; i < reps; ++i) launch(w[i % copies]);
        cudaEventRecord(e1, st); cudaEventSynchronize(e1);
        float ms_; cudaEventElapsedTime(&ms_, e0, e1); return ms_ * 1000.f / reps;  // us
      };
      float base = time([&](half* wp) {
        cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, wp, CUDA_R_16F, k, x, CUDA_R_16F, k, &beta, y, CUDA_R_16F, n,
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
      });
      printf("n=%d k=%d m=%d gemmex %.2f us %.0f GB/s\n", n, k, m, base, wbytes / base / 1e3);
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
      cublasLtMatmulHeuristicResult_t res[32]; int found = 0;
      CK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 32, res, &found));
      float best = 1e9; int best_i = -1;
      for (int i = 0; i < found; ++i) {
        if (res[i].state != CUBLAS_STATUS_SUCCESS) continue;
        float t = time([&](half* wp) {
          cublasLtMatmul(lt, desc, &alpha, wp, la, x, lb, &beta, y, lc, y, lc, &res[i].algo, ws, ws_bytes, st);
        });
        int id = 0, tile = 0, splitk = 0, red = 0; size_t sz;
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &sz);
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, &sz);
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk, sizeof splitk, &sz);
        cublasLtMatmulAlgoConfigGetAttribute(&res[i].algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &red, sizeof red, &sz);
        printf("   lt #%d id=%d tile=%d splitk=%d red=%d ws=%zu: %.2f us %.0f GB/s\n", i, id, tile, splitk, red, res[i].workspaceSize, t, wbytes / t / 1e3);
        if (t < best) { best = t; best_i = i; }
      }
      printf("n=%d k=%d m=%d best lt #%d %.2f us (gemmex %.2f): %.2fx\n", n, k, m, best_i, best, base, base / best);
      cublasLtMatmulPreferenceDestroy(pref); cublasLtMatrixLayoutDestroy(la); cublasLtMatrixLayoutDestroy(lb); cublasLtMatrixLayoutDestroy(lc);
      cublasLtMatmulDescDestroy(desc);
    }
    for (auto p : w) cudaFree(p);
    cudaFree(x); cudaFree(y);
  }
  return 0;
}
