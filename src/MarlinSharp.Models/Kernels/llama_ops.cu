// llama_ops.cu — the small per-token kernels of the Llama forward pass (everything except the linear
// layers, which are cuBLAS or Marlin, and attention, which lives in llama_attention.cu).
//
// Why these kernels look the way they do
// --------------------------------------
// Between the weight-streaming GEMMs of a decode step the activations are tiny (rows x hidden FP16),
// so these kernels are bound by launch count and latency, not bandwidth: each is one launch over all
// rows of the step, one block per row where a row-wide reduction is needed, and fused where the
// data flow allows (residual add + RMSNorm; rotary embedding + KV-cache append). FP16 decode steps of models
// whose norm weights are folded into the projections need no norm kernel at all (rope_append_normed,
// swiglu_normed below).
//
// Numerics follow Hugging Face's FP16 Llama so that logits can be compared tightly: RMSNorm sums
// squares in FP32, rounds the normalised value to FP16 and multiplies by the FP16 weight (one more
// rounding); the residual add rounds to FP16; SwiGLU rounds silu(gate) to FP16 before multiplying by
// up. The rotary cos/sin table is FP32 and computed on the host (llama3 / linear scaling included),
// one row per position, half a head wide: HF's rotate_half pairs dimension i with i + head_dim/2.
//
// Data layout
//  * Activations are row-major FP16 [rows][features]; one row per token of the step.
//  * The fused QKV projection output is [rows][(heads + 2*kv_heads) * head_dim]: all query heads,
//    then all key heads, then all value heads, each head_dim wide (the order of the fused weight).
//  * The fused gate|up output is [rows][2*inter]: gate in columns [0, inter), up in [inter, 2*inter) for FP16
//    models; INT4 models interleave them in blocks of 32 (see swiglu).
//  * The KV cache is FP16 [slot][layer][kv_head][position][head_dim], one buffer for keys and one for
//    values (see llama_attention.cu for why).
//
// Header-free on purpose (any NVRTC from 11.8 on compiles it, and CI compile-checks it without a
// GPU): FP16 values are carried as raw 16-bit patterns and converted with cvt instructions.

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

struct __align__(16) Vec16 { u32 x, y, z, w; };

__device__ __forceinline__ float h2f(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}

__device__ __forceinline__ u16 f2h(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

__device__ __forceinline__ float round_half(float f) { return h2f(f2h(f)); }

// Programmatic dependent launch (sm_90+): the engine launches every kernel of a step as a dependent of the
// one before it, so a kernel may already be resident while its predecessor finishes. Each kernel first lets
// the next one launch (so that a GEMM after it can fetch weights while it runs: these kernels are short and
// latency-bound), then waits for the previous grid (its writes become visible) before touching memory. The
// next kernel waits the same way, so the order of all memory effects is the stream's. No-ops without the
// launch attribute; compiled out before sm_90.
__device__ __forceinline__ void enter_after_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < warps ? scratch[lane] : 0.f;
  t = warp_sum(t);
  __syncthreads();  // scratch may be reused by the caller
  return t;
}

// out[t][:] = table[ids[t]][:]. One block per token, 16-byte copies (hidden % 8 == 0, checked by the host;
// ids are validated on the host before upload, the clamp only keeps a bad id from reading out of range).
// A negative id -1 - r is a chained decode step's input: the greedy token of row r of the previous step, which
// argmax_rows left in chained[r] on the device, so that the host need not read it back before queueing this step.
extern "C" __global__ void embed_gather(const u16* __restrict__ table, const int* __restrict__ ids, const int* __restrict__ chained,
                                        u16* __restrict__ out, int hidden, int vocab) {
  enter_after_previous_grid();
  int id = ids[blockIdx.x];
  if (id < 0) id = chained[-1 - id];
  id = id < 0 ? 0 : (id >= vocab ? vocab - 1 : id);
  const Vec16* src = reinterpret_cast<const Vec16*>(table + (u64)id * hidden);
  Vec16* dst = reinterpret_cast<Vec16*>(out + (u64)blockIdx.x * hidden);
#pragma unroll 4
  for (int i = threadIdx.x; i < hidden / 8; i += blockDim.x) dst[i] = src[i];
}

// Row normalisation at decode batch sizes is one block per row doing almost no work: its time is memory
// latency. So each thread issues all of its loads at once (at most norm_vecs 16-byte vectors of the row,
// held in registers), reduces, and writes once: one round trip to memory instead of one per element.
constexpr int norm_vecs = 4;   // vectors per thread: with up to 1024 threads, hidden up to 32768

__device__ __forceinline__ void unpack8(const Vec16& v, float (&f)[8]) {
  const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = h2f((u16)(w[i] & 0xffff));
    f[2 * i + 1] = h2f((u16)(w[i] >> 16));
  }
}

__device__ __forceinline__ Vec16 pack8(const float (&f)[8]) {
  u32 w[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) w[i] = (u32)f2h(f[2 * i]) | ((u32)f2h(f[2 * i + 1]) << 16);
  return Vec16{w[0], w[1], w[2], w[3]};
}

// x holds this thread's vectors of the row (vector j is number threadIdx.x + j * blockDim.x), already rounded
// to FP16; writes out = RMSNorm(x) * w for them.
__device__ __forceinline__ void rmsnorm_vectors(const float (&x)[norm_vecs][8], const Vec16* __restrict__ w, Vec16* __restrict__ out,
                                                int vecs, int hidden, float eps, float* scratch) {
  Vec16 wv[norm_vecs];
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) {
    const int v = threadIdx.x + j * blockDim.x;
    if (v < vecs) wv[j] = w[v];
  }
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j)
#pragma unroll
    for (int e = 0; e < 8; ++e) ss += x[j][e] * x[j][e];
  ss = block_sum(ss, scratch);
  const float r = rsqrtf(ss / (float)hidden + eps);
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) {
    const int v = threadIdx.x + j * blockDim.x;
    if (v >= vecs) continue;
    float wf[8], y[8];
    unpack8(wv[j], wf);
#pragma unroll
    for (int e = 0; e < 8; ++e) y[e] = wf[e] * round_half(x[j][e] * r);
    out[v] = pack8(y);
  }
}

// out[row] = RMSNorm(x[row]) * w. One block per row; hidden % 8 == 0 and hidden <= 8 * norm_vecs * blockDim.x
// (checked by the host).
extern "C" __global__ void rmsnorm(const u16* __restrict__ x, const u16* __restrict__ w, u16* __restrict__ out, int hidden, float eps) {
  enter_after_previous_grid();
  __shared__ float scratch[32];
  const int vecs = hidden >> 3;
  const Vec16* xr = reinterpret_cast<const Vec16*>(x + (u64)blockIdx.x * hidden);
  Vec16 xv[norm_vecs];
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) {
    const int v = threadIdx.x + j * blockDim.x;
    xv[j] = v < vecs ? xr[v] : Vec16{0, 0, 0, 0};
  }
  float xf[norm_vecs][8];
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) unpack8(xv[j], xf[j]);
  rmsnorm_vectors(xf, reinterpret_cast<const Vec16*>(w), reinterpret_cast<Vec16*>(out + (u64)blockIdx.x * hidden), vecs, hidden, eps, scratch);
}

// residual[row] += delta[row] (rounded to FP16), then out[row] = RMSNorm(residual[row]) * w. One block per row,
// same limits as rmsnorm.
extern "C" __global__ void add_rmsnorm(u16* __restrict__ residual, const u16* __restrict__ delta, const u16* __restrict__ w,
                                       u16* __restrict__ out, int hidden, float eps) {
  enter_after_previous_grid();
  __shared__ float scratch[32];
  const int vecs = hidden >> 3;
  Vec16* xr = reinterpret_cast<Vec16*>(residual + (u64)blockIdx.x * hidden);
  const Vec16* dr = reinterpret_cast<const Vec16*>(delta + (u64)blockIdx.x * hidden);
  Vec16 xv[norm_vecs], dv[norm_vecs];
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) {
    const int v = threadIdx.x + j * blockDim.x;
    xv[j] = v < vecs ? xr[v] : Vec16{0, 0, 0, 0};
    dv[j] = v < vecs ? dr[v] : Vec16{0, 0, 0, 0};
  }
  float xf[norm_vecs][8];
#pragma unroll
  for (int j = 0; j < norm_vecs; ++j) {
    float df[8];
    unpack8(xv[j], xf[j]);
    unpack8(dv[j], df);
#pragma unroll
    for (int e = 0; e < 8; ++e) xf[j][e] = round_half(xf[j][e] + df[e]);
    const int v = threadIdx.x + j * blockDim.x;
    if (v < vecs) xr[v] = pack8(xf[j]);
  }
  rmsnorm_vectors(xf, reinterpret_cast<const Vec16*>(w), reinterpret_cast<Vec16*>(out + (u64)blockIdx.x * hidden), vecs, hidden, eps, scratch);
}

// x[r][c] += bias[c] for the attention biases of Qwen2-style models (applied to the fused QKV output).
extern "C" __global__ void add_bias(u16* __restrict__ x, const u16* __restrict__ bias, int cols, u64 total) {
  enter_after_previous_grid();
  const u64 stride = (u64)gridDim.x * blockDim.x;
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    x[i] = f2h(h2f(x[i]) + h2f(bias[i % cols]));
}

// Rotary embedding of pair (i, i + half_dim) of head `head` of one token's QKV row h, given as floats x0, x1 (FP16
// values), with the table's cos c and sin s: query and key heads are rotated in place, and keys and values appended to
// the cache at (slot, layer, pos) when slot >= 0 (a negative slot is a padding row). Value heads are only appended.
// Rounded products and sums, never contracted into FMAs, so that attention_decode_rope (llama_attention.cu) writes
// bitwise the same keys.
__device__ __forceinline__ void rotate_and_append(u16* h, int i, int half_dim, float x0, float x1, float c, float s, int head, int heads,
                                                  int kv_heads, int slot, int pos, int layer, int num_layers, int max_ctx,
                                                  u16* __restrict__ k_cache, u16* __restrict__ v_cache) {
  const int head_dim = 2 * half_dim;
  const bool append = slot >= 0;
  const u64 cache_base = append ? ((u64)slot * num_layers + layer) * (u64)kv_heads * max_ctx * head_dim : 0;
  if (head >= heads + kv_heads) {  // a value head: only appended
    if (append) {
      u16* v = v_cache + cache_base + ((u64)(head - heads - kv_heads) * max_ctx + pos) * head_dim;
      v[i] = f2h(x0);
      v[i + half_dim] = f2h(x1);
    }
    return;
  }
  const u16 y0 = f2h(__fadd_rn(__fmul_rn(x0, c), -__fmul_rn(x1, s)));
  const u16 y1 = f2h(__fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s)));
  h[i] = y0;
  h[i + half_dim] = y1;
  if (append && head >= heads) {
    u16* k = k_cache + cache_base + ((u64)(head - heads) * max_ctx + pos) * head_dim;
    k[i] = y0;
    k[i + half_dim] = y1;
  }
}

// Rotary embedding of every query and key head of every token of the step, in place in the fused QKV row, and
// (when k_cache is non-null) the append of the rotated key and the value to the token's cache slot.
// cos/sin tables: FP32 [max_positions][head_dim/2].
extern "C" __global__ void rope_append(u16* __restrict__ qkv, const int* __restrict__ positions, const int* __restrict__ slots,
                                       const float* __restrict__ cos_table, const float* __restrict__ sin_table,
                                       u16* __restrict__ k_cache, u16* __restrict__ v_cache,
                                       int qkv_stride, int heads, int kv_heads, int head_dim,
                                       int layer, int num_layers, int max_ctx) {
  enter_after_previous_grid();
  // grid (tokens, heads + 2 * kv_heads), block head_dim / 2: one thread per rotation pair of one head, so that
  // every load of the step is in flight at once (decode steps are a handful of tokens: latency, not bandwidth).
  const int t = blockIdx.x, head = blockIdx.y, i = threadIdx.x;
  const int half_dim = head_dim >> 1;
  if (i >= half_dim) return;
  const int pos = positions[t];
  // A negative slot marks a padding row of a bucketed decode step: rotate it but leave the cache alone.
  const int slot = k_cache != 0 ? slots[t] : -1;
  u16* h = qkv + (u64)t * qkv_stride + (u64)head * head_dim;
  const bool rotated = head < heads + kv_heads;
  const float c = rotated ? cos_table[(u64)pos * half_dim + i] : 0.f, s = rotated ? sin_table[(u64)pos * half_dim + i] : 0.f;
  rotate_and_append(h, i, half_dim, h2f(h[i]), h2f(h[i + half_dim]), c, s, head, heads, kv_heads, slot, pos, layer, num_layers,
                    max_ctx, k_cache, v_cache);
}

// out[r][i] = silu(gate[r][i]) * up[r][i] from the fused [rows][2*inter] gate|up buffer, whose columns come in
// blocks of `block`: gate columns [2*block*j, 2*block*j + block) hold gate[j*block ...], the next block the
// matching up columns. block = inter is the plain [gate | up] order; block = 32 the interleaved order that INT4
// models use so that marlin_stream.cu can apply SwiGLU in its epilogue (inter % block == 0, checked by the host).
extern "C" __global__ void swiglu(const u16* __restrict__ gate_up, u16* __restrict__ out, int inter, int block, u64 total) {
  enter_after_previous_grid();
  const u64 stride = (u64)gridDim.x * blockDim.x;
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    const u64 r = i / inter, c = i - r * inter;
    const u64 j = c / block, gate_col = 2 * (u64)block * j + (c - j * block);
    const float g = h2f(gate_up[r * 2 * inter + gate_col]);
    const float u = h2f(gate_up[r * 2 * inter + gate_col + block]);
    const float silu = g / (1.f + __expf(-g));
    out[i] = f2h(round_half(silu) * u);
  }
}

// ---- FP16 decode steps with the RMSNorm weights folded into the projections ----
// With each norm's weight folded into the input features of the projection after it (QKV, gate|up; NormFolding.cs),
// RMSNorm(x)·W = rstd(x) · (x·W'), so an FP16 decode step needs no norm kernel: the cuBLAS GEMMs read the residual
// stream x itself (and the O and down GEMMs add into it), and the one factor per row, rstd = 1/sqrt(mean(x²) + eps),
// is applied by the small kernel after the projection, which reads the row of x alongside its own inputs (one L2
// round trip for both, then a block reduction). The projection's output times rstd is rounded to FP16 first, as the
// GEMM of a normalised input would have rounded it, and then goes through the usual rotary / SwiGLU arithmetic.

// 1/sqrt(mean(x²) + eps) of one row, for every thread of the block (all of which must call it).
__device__ __forceinline__ float row_rstd(const u16* __restrict__ x, int hidden, float eps, float* scratch) {
  const int vecs = hidden >> 3;
  const Vec16* xr = reinterpret_cast<const Vec16*>(x);
  float ss = 0.f;
  for (int v0 = 0; v0 < vecs; v0 += norm_vecs * (int)blockDim.x) {
    Vec16 xv[norm_vecs];
#pragma unroll
    for (int j = 0; j < norm_vecs; ++j) {
      const int v = v0 + (int)threadIdx.x + j * (int)blockDim.x;
      xv[j] = v < vecs ? xr[v] : Vec16{0, 0, 0, 0};
    }
#pragma unroll
    for (int j = 0; j < norm_vecs; ++j) {
      float f[8];
      unpack8(xv[j], f);
#pragma unroll
      for (int e = 0; e < 8; ++e) ss += f[e] * f[e];
    }
  }
  return rsqrtf(block_sum(ss, scratch) / (float)hidden + eps);
}

// rope_append for a decode step of a model whose input norm is folded into the QKV projection: every value of the
// QKV row is first multiplied by rstd of the residual row x (hidden wide), then queries and keys are rotated, the
// query written back to the row, key and value appended to the cache. grid (tokens, ceil(heads_total / hpb)),
// block hpb * head_dim / 2 threads (one rotation pair each, hpb heads per block), hidden % 8 == 0.
extern "C" __global__ void rope_append_normed(u16* __restrict__ qkv, const int* __restrict__ positions, const int* __restrict__ slots,
                                              const float* __restrict__ cos_table, const float* __restrict__ sin_table,
                                              u16* __restrict__ k_cache, u16* __restrict__ v_cache,
                                              int qkv_stride, int heads, int kv_heads, int head_dim,
                                              int layer, int num_layers, int max_ctx,
                                              const u16* __restrict__ x, int hidden, float eps) {
  enter_after_previous_grid();
  __shared__ float scratch[32];
  const int t = blockIdx.x, half_dim = head_dim >> 1;
  const int hpb = blockDim.x / half_dim;
  const int head = blockIdx.y * hpb + (int)threadIdx.x / half_dim, i = (int)threadIdx.x % half_dim;
  const bool active = head < heads + 2 * kv_heads;
  u16* h = qkv + (u64)t * qkv_stride + (u64)(active ? head : 0) * head_dim;
  const int pos = positions[t], slot = slots[t];
  // Loaded before the reduction, so that they travel with the row of x.
  const float a0 = active ? h2f(h[i]) : 0.f, a1 = active ? h2f(h[i + half_dim]) : 0.f;
  const bool rotated = active && head < heads + kv_heads;
  const float c = rotated ? cos_table[(u64)pos * half_dim + i] : 0.f, s = rotated ? sin_table[(u64)pos * half_dim + i] : 0.f;
  const float r = row_rstd(x + (u64)t * hidden, hidden, eps, scratch);
  if (!active) return;
  rotate_and_append(h, i, half_dim, round_half(a0 * r), round_half(a1 * r), c, s, head, heads, kv_heads, slot, pos, layer, num_layers,
                    max_ctx, k_cache, v_cache);
}

// swiglu for a model whose post-attention norm is folded into the gate|up projection, plain [gate | up] order:
// out[r][c] = silu(g) * u with g = rstd(x[r]) * gate[r][c] and u = rstd(x[r]) * up[r][c], each rounded to FP16 first.
// grid (ceil(inter / (8 * blockDim.x)), rows): eight columns per thread, inter % 8 == 0 and hidden % 8 == 0.
extern "C" __global__ void swiglu_normed(const u16* __restrict__ gate_up, u16* __restrict__ out, int inter,
                                         const u16* __restrict__ x, int hidden, float eps) {
  enter_after_previous_grid();
  __shared__ float scratch[32];
  const int row = blockIdx.y, v = blockIdx.x * blockDim.x + threadIdx.x;
  const bool active = v < (inter >> 3);
  const Vec16* gr = reinterpret_cast<const Vec16*>(gate_up + (u64)row * 2 * inter);
  const Vec16 gv = active ? gr[v] : Vec16{0, 0, 0, 0};
  const Vec16 uv = active ? gr[(inter >> 3) + v] : Vec16{0, 0, 0, 0};
  const float r = row_rstd(x + (u64)row * hidden, hidden, eps, scratch);
  if (!active) return;
  float g[8], u[8], y[8];
  unpack8(gv, g);
  unpack8(uv, u);
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    const float gn = round_half(g[e] * r), un = round_half(u[e] * r);
    y[e] = round_half(gn / (1.f + __expf(-gn))) * un;
  }
  reinterpret_cast<Vec16*>(out + (u64)row * inter)[v] = pack8(y);
}

// sq[r][b] = sum of x[r][16b .. 16b + 15]^2 in FP32: the per-row block sums of squares that marlin_stream.cu's
// normed epilogues turn into 1/rms. The residual GEMMs of a fused decode step write them as they update the residual
// stream; this kernel makes them for the embedding output, before the first layer. One block per row.
extern "C" __global__ void row_squares(const u16* __restrict__ x, float* __restrict__ sq, int hidden) {
  enter_after_previous_grid();
  const int blocks = hidden >> 4;
  const Vec16* xr = reinterpret_cast<const Vec16*>(x + (u64)blockIdx.x * hidden);
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
    const Vec16 v0 = xr[2 * b], v1 = xr[2 * b + 1];
    float f0[8], f1[8];
    unpack8(v0, f0);
    unpack8(v1, f1);
    float ss = 0.f;
#pragma unroll
    for (int e = 0; e < 8; ++e) ss += f0[e] * f0[e] + f1[e] * f1[e];
    sq[(u64)blockIdx.x * blocks + b] = ss;
  }
}

// out[i][:] = x[rows[i]][:]: picks the last token of each sequence before the final norm and LM head.
extern "C" __global__ void gather_rows(const u16* __restrict__ x, const int* __restrict__ rows, u16* __restrict__ out, int cols) {
  enter_after_previous_grid();
  // 16-byte copies (cols % 8 == 0: hidden sizes are checked by the norm launchers), unrolled so that a thread's
  // loads are in flight together.
  const Vec16* src = reinterpret_cast<const Vec16*>(x + (u64)rows[blockIdx.x] * cols);
  Vec16* dst = reinterpret_cast<Vec16*>(out + (u64)blockIdx.x * cols);
#pragma unroll 4
  for (int i = threadIdx.x; i < cols / 8; i += blockDim.x) dst[i] = src[i];
}

// Finishes a step's logits, one block per row: the FP16 logits of the LM head become FP32 (what host-side sampling
// reads), and the row's greedy token is taken on the way: the first index of the largest logit (NaN never wins; a row
// with no maximum gives 0). Greedy decoding then needs no launch of its own after the step. The token goes to
// `greedy` (device memory, where a chained decode step's embedding reads it) and to greedy_host[*ring + row]: page-
// locked host memory mapped into the device, so the host reads it once the step is done, without a copy. `ring`
// lives in the step's metadata, so a step captured in a graph still writes the host buffer that the host chose for
// this step. A row is scanned in 16-byte vectors (8 logits) when cols % 8 == 0, all of a thread's loads in flight
// together; each thread visits its indices in increasing order, so a strict > keeps the first maximum.
extern "C" __global__ void finish_logits(const u16* __restrict__ logits_half, float* __restrict__ logits, int cols,
                                         int* __restrict__ greedy, int* __restrict__ greedy_host, const int* __restrict__ ring) {
  enter_after_previous_grid();
  __shared__ float best_v[32];
  __shared__ int best_i[32];
  const u16* x = logits_half + (u64)blockIdx.x * cols;
  float* y = logits + (u64)blockIdx.x * cols;
  float v = -__int_as_float(0x7f800000);
  int idx = 0x7fffffff;
  if ((cols & 7) == 0) {
    const Vec16* xv = reinterpret_cast<const Vec16*>(x);
    float4* yv = reinterpret_cast<float4*>(y);
#pragma unroll 4
    for (int i = threadIdx.x; i < cols / 8; i += blockDim.x) {
      float f[8];
      unpack8(xv[i], f);
      yv[2 * i] = make_float4(f[0], f[1], f[2], f[3]);
      yv[2 * i + 1] = make_float4(f[4], f[5], f[6], f[7]);
#pragma unroll
      for (int e = 0; e < 8; e++)
        if (f[e] > v) { v = f[e]; idx = 8 * i + e; }
    }
  } else {
#pragma unroll 8
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
      const float f = h2f(x[i]);
      y[i] = f;
      if (f > v) { v = f; idx = i; }
    }
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
    if (ov > v || (ov == v && oi < idx)) { v = ov; idx = oi; }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (lane == 0) { best_v[warp] = v; best_i[warp] = idx; }
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? best_v[lane] : -__int_as_float(0x7f800000);
    idx = lane < warps ? best_i[lane] : 0x7fffffff;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, v, o);
      const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
      if (ov > v || (ov == v && oi < idx)) { v = ov; idx = oi; }
    }
    if (lane == 0) {
      const int token = idx == 0x7fffffff ? 0 : idx;
      greedy[blockIdx.x] = token;
      greedy_host[*ring + blockIdx.x] = token;
    }
  }
}

// Spins for `ns` nanoseconds of the GPU's global timer. A profiled step is queued behind it, so that the host has
// queued every launch of the step before the GPU reaches the first one: the per-op times then measure the GPU alone,
// not the host's launch rate. Launched plainly (never as a programmatic dependent).
extern "C" __global__ void hold(u64 ns) {
  u64 t0, t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  } while (t - t0 < ns);
}
