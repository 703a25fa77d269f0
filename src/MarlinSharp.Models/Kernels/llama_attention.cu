// llama_attention.cu — causal grouped-query attention over the KV cache: a prefill kernel (many query
// tokens per sequence), a decode kernel (one query token per sequence, many sequences of different
// lengths at once, optionally split over the cache; also in a variant that applies the rotary embedding
// and appends the new key and value to the cache itself) and the kernel that merges decode splits.
//
// KV cache choice: per-sequence contiguous slots
// ----------------------------------------------
// Keys and values live in two FP16 buffers [slot][layer][kv_head][position][head_dim], each slot
// max_context positions long. A sequence owns one slot from admission to completion. Why not pages:
//  * the keys of one (sequence, layer, kv head) are one contiguous run, so a tile of keys is a single
//    coalesced 16-byte-per-thread copy with no page-table indirection in the inner loop;
//  * the serving pattern we target (the paper's batch of requests with known maximum lengths) fits in
//    memory with whole slots: llama2-7b, 64 slots x 128 positions is 2 GiB of cache;
//  * the cost is memory held for positions a sequence never reaches, which only matters when many
//    requests of very different lengths share a long context; paging can replace the slot base
//    address computation later without touching the math below.
//
// Numerics: scores, the running maximum and the softmax sum are FP32 in the base-2 domain (q is
// scaled by log2(e)/sqrt(head_dim)), output accumulators are FP32; only the final output is rounded
// to FP16. Online softmax: each tile rescales the running sum and accumulators by 2^(m_old - m_new).
// Masked keys get a score of -inf while running maxima start at a finite -1e30, so a fully masked
// tile contributes exp2(-inf) = 0 and never produces inf - inf.
//
// Work decomposition
//  * Prefill: a block takes 16 query rows of one sequence and one query head; each of its 4 warps owns
//    4 rows. The block stages a tile of keys (row-padded by one word so that "one lane per key" dot
//    products are bank-conflict free) and the matching values in shared memory; each lane scores one
//    or two keys of the tile for its warp's 4 rows, then every lane accumulates the contiguous
//    head_dim/32 output dimensions it owns. Causality: row r sees keys [0, start + r].
//  * Decode: a block takes one sequence, one KV head and all LLAMA_GROUP query heads that share it
//    (so each key and value is read from memory once per group, not once per query head), and one
//    contiguous split of the cache. Warps take 32-key slices of each tile. The scores come from the
//    tensor cores: the group's query heads (FP16, padded to 16 rows) times the warp's 32 keys as m16n8k16
//    MMAs with FP32 accumulation, read from a key tile whose rows are padded to 16-byte multiples so that
//    the fragment reads are free of bank conflicts; a scalar one-key-per-lane dot product over 64 word pairs
//    was the longest chain after the wait at batch 1. The fragments then go through shared memory to one
//    key per lane, the layout of the softmax and of the value sums. Values are read straight from global
//    memory (a warp reads whole rows, fully coalesced, 32 rows in flight as packed halves) because each
//    value is used by exactly one warp. The warps' partial softmax states are merged in shared memory;
//    with several splits they go to a workspace merged by attention_combine. A split of a single tile
//    stages its cache rows before it waits for the previous kernel (see the fused kernel below); in
//    attention_decode the previous kernel is rope_append, which writes only row ctx - 1, read after the wait.
//  * Fused decode (attention_decode_rope): a decode step's rotary embedding and cache append cost a launch of
//    their own per layer (rope_append, ~5 us at batch 1, for a few kilobytes of work), so this variant takes
//    the unrotated QKV row and does both. Every block rotates its group's query heads while loading them into
//    shared memory (each rotated value rounded to FP16 first, exactly as rope_append stores it, so the scores
//    are the two-kernel path's bit for bit). Only the block whose split holds the new position ctx - 1
//    handles the new key and value: it rotates the key, keeps key and value in shared memory, and writes both
//    to the cache for later steps. Within the kernel the new key and value never travel through the cache:
//    the key tile takes that row from shared memory and the new value is accumulated from shared memory after
//    the warp's other rows (the same order of FP32 additions as the two-kernel path). Reading them back from
//    the cache instead would need the write to be visible to the reads of the same kernel, and the cache
//    loads are read-only-path loads (ld.global.nc, from const __restrict__) in attention_decode; a coherent
//    reload would also put a store-then-load round trip on the step's critical path. Every other position a
//    block reads is < ctx - 1, which no block of the launch writes. A row with slot -1 (a padding row of a
//    bucketed step) writes nothing and reads the cache as attention_decode does. The engine's padding rows
//    read position 0 of the first real sequence's slot: if that sequence's new token is at position 0 in the
//    same step, the padding row races with its write and may see the old contents (the two-kernel path sees
//    the new one); padding outputs are never used. The QKV row itself is left unrotated: nothing reads it
//    after attention in a decode step. Prefill keeps rope_append.
//    A split of a single tile (every split up to ~1,100 positions of context at batch 1) also stages its cache
//    keys and values into shared memory before it waits for the QKV GEMM: positions below ctx - 1 were written
//    by earlier steps, which the step's stream-ordered metadata copy follows, so only the query and the new key
//    and value wait for the GEMM. The cache round trips (two or three per tile) then overlap the GEMM's tail
//    instead of sitting on the step's critical path; the new key and value go into the staged tile after the
//    wait, and the values are summed from shared memory in the same order as from the cache. The staged values
//    need 32 KB of dynamic shared memory per block (head_dim 128), which leaves room for three blocks per SM; a
//    launch of more blocks than fit at once (batch 16 of a 32-head model: 512) is given no room for the values, so it
//    runs in one wave: its single-tile splits then stage only the keys (whose tile is static shared memory anyway)
//    before the wait and ask L2 for their value rows (prefetch.global.L2), so that neither the key tile nor the value
//    loads wait on HBM after the GEMM (H200, llama2-7b, batch 16 / 32 / 64: 2.33 / 3.60 / 4.66 -> 2.23 / 3.47 / 4.45
//    ms per token).
//    With a residual row (FP16 models whose input norm is folded into the QKV projection) the fused kernel also
//    does rope_append_normed's job: it reads the residual row with the QKV row, takes 1/rms with one block
//    reduction and scales q, the new key and the new value by it (each rounded to FP16) before rotating, so that
//    an FP16 decode layer needs no separate rotary launch either.
//
// Compile-time parameters (-D): LLAMA_HEAD_DIM (multiple of 32, at most 256) and LLAMA_GROUP (query
// heads per KV head). Header-free like every MarlinSharp kernel.

#ifndef LLAMA_HEAD_DIM
#define LLAMA_HEAD_DIM 128
#endif
#ifndef LLAMA_GROUP
#define LLAMA_GROUP 1
#endif
// Timing experiments only (MARLINSHARP_NVRTC_EXTRA; results are wrong when set): 1 = decode blocks end after their wait,
// 3 = no query-key dot products, 4 = no value sums.
#ifndef LLAMA_DEBUG_ATTN
#define LLAMA_DEBUG_ATTN 0
#endif

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

struct __align__(16) Vec16 { u32 x, y, z, w; };
struct __align__(8) Vec8 { u32 x, y; };

namespace att {
constexpr int hd = LLAMA_HEAD_DIM;
constexpr int group = LLAMA_GROUP;
constexpr int dpl = hd / 32;             // output dimensions owned by each lane (contiguous)
constexpr int krow = hd / 2 + 1;         // prefill's padded shared-memory key row, in 32-bit words (one lane per key)
// Prefill
constexpr int p_rows = 16;               // query rows per block
constexpr int p_warps = 4;
constexpr int p_rpw = p_rows / p_warps;  // rows per warp
constexpr int p_kpl = hd <= 128 ? 2 : 1; // keys per lane per tile
constexpr int p_kt = 32 * p_kpl;         // keys per tile
// Decode
constexpr int d_warps = hd <= 128 ? 4 : 2;
constexpr int d_kt = 32 * d_warps;
constexpr int d_words = (dpl + 1) / 2;  // 32-bit registers that hold a lane's dimensions of one value row
constexpr int d_vbatch = 64 / d_words > 32 ? 32 : 64 / d_words;  // value rows in flight (64 registers)
constexpr int d_krow = hd / 2 + 4;       // decode key row in 32-bit words: 16-byte aligned, fragment reads conflict-free
constexpr int d_qrow = hd + 8;           // decode query row in halves, padded the same way
constexpr int d_mtiles = (group + 15) / 16;  // 16-row MMA tiles that hold the group's query heads
}  // namespace att

static_assert(att::hd % 32 == 0 && att::hd <= 256, "LLAMA_HEAD_DIM must be a multiple of 32, at most 256");
static_assert(att::group >= 1 && att::group <= 16 && att::group * att::hd <= 2048,
              "LLAMA_GROUP must be 1..16 and LLAMA_GROUP * LLAMA_HEAD_DIM at most 2048");
static_assert(att::d_warps * att::group * (att::hd + 2) <= att::d_kt * att::d_krow, "decode merge buffer must fit in the key tile");

// Development switch for measurements: the device address of a timeline buffer (set by `marlin bench e2e` under
// MARLINSHARP_DEBUG_TIMELINE; the same buffer and record layout as marlin_stream.cu's). Thread 0 of every decode block
// appends %globaltimer stamps (entry, wait returned, exit) and its grid. 0: compiled out.
#ifndef MARLIN_DEBUG_TIMELINE
#define MARLIN_DEBUG_TIMELINE 0
#endif
#ifndef MARLIN_DEBUG_TIMELINE_RECORDS
#define MARLIN_DEBUG_TIMELINE_RECORDS 0
#endif

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

#if MARLIN_DEBUG_TIMELINE
__shared__ unsigned long long timeline_waited;
#endif

// Kind 2: attention_decode_rope, 3: attention_decode. Tag: kind | gridDim.x << 16 | gridDim.y << 32 | gridDim.z << 48.
__device__ __forceinline__ void timeline_record(unsigned kind, unsigned long long t0) {
#if MARLIN_DEBUG_TIMELINE
  unsigned long long* buf = reinterpret_cast<unsigned long long*>(MARLIN_DEBUG_TIMELINE);
  const unsigned long long t3 = global_ns();
  unsigned smid;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(smid));
  const unsigned r = atomicAdd(reinterpret_cast<unsigned*>(buf), 1u);
  if (r < MARLIN_DEBUG_TIMELINE_RECORDS) {
    unsigned long long* rec = buf + 8 + 8 * (unsigned long long)r;
    rec[0] = t0; rec[1] = timeline_waited; rec[2] = t3; rec[3] = t3;
    rec[4] = kind | (unsigned long long)gridDim.x << 16 | (unsigned long long)gridDim.y << 32 | (unsigned long long)gridDim.z << 48;
    rec[5] = (unsigned long long)blockIdx.x | (unsigned long long)blockIdx.y << 16 | (unsigned long long)smid << 32 |
             (unsigned long long)blockIdx.z << 48;
  }
#else
  (void)kind; (void)t0;
#endif
}

// Programmatic dependent launch (sm_90+): the engine launches every kernel of a step as a dependent of the
// one before it, so a kernel may already be resident while its predecessor finishes. Each kernel first lets
// the next one launch (so that a GEMM after it can fetch weights while it runs: these kernels are short and
// latency-bound), then waits for the previous grid (its writes become visible) before touching memory. The
// next kernel waits the same way, so the order of all memory effects is the stream's. No-ops without the
// launch attribute; compiled out before sm_90.
__device__ __forceinline__ void allow_next_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wait_for_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void enter_after_previous_grid() {
  allow_next_grid();
  wait_for_previous_grid();
}

__device__ __forceinline__ unsigned dynamic_smem_bytes() {
  unsigned r;
  asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(r));
  return r;
}

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

__device__ __forceinline__ float lo_half(u32 w) { return h2f((u16)(w & 0xffffu)); }
__device__ __forceinline__ float hi_half(u32 w) { return h2f((u16)(w >> 16)); }

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// c += a * b on the tensor cores: one m16n8k16 tile, FP16 inputs, FP32 accumulators (sm_80+), in the fragment
// layout of the PTX ISA: a holds rows lane/4 and lane/4 + 8, b column lane/4, c rows lane/4 and lane/4 + 8.
__device__ __forceinline__ void mma_16816(float* c, const u32* a, u32 b0, u32 b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Reads the att::dpl contiguous FP16 values at p (aligned to 2*dpl bytes) as floats.
__device__ __forceinline__ void load_dims(const u16* p, float* out) {
  if constexpr (att::dpl == 8) {
    const Vec16 v = *reinterpret_cast<const Vec16*>(p);
    const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; i++) { out[2 * i] = lo_half(w[i]); out[2 * i + 1] = hi_half(w[i]); }
  } else if constexpr (att::dpl == 4) {
    const Vec8 v = *reinterpret_cast<const Vec8*>(p);
    out[0] = lo_half(v.x); out[1] = hi_half(v.x); out[2] = lo_half(v.y); out[3] = hi_half(v.y);
  } else if constexpr (att::dpl == 2) {
    const u32 v = *reinterpret_cast<const u32*>(p);
    out[0] = lo_half(v); out[1] = hi_half(v);
  } else {
#pragma unroll
    for (int i = 0; i < att::dpl; i++) out[i] = h2f(p[i]);
  }
}

// A lane's att::dpl FP16 dimensions of one value row, still packed: half the registers of floats while loads are in flight.
struct PackedDims { u32 w[att::d_words]; };

__device__ __forceinline__ PackedDims load_packed(const u16* p) {
  PackedDims r;
  if constexpr (att::dpl == 8) {
    const Vec16 v = *reinterpret_cast<const Vec16*>(p);
    r.w[0] = v.x; r.w[1] = v.y; r.w[2] = v.z; r.w[3] = v.w;
  } else if constexpr (att::dpl == 4) {
    const Vec8 v = *reinterpret_cast<const Vec8*>(p);
    r.w[0] = v.x; r.w[1] = v.y;
  } else if constexpr (att::dpl == 2) {
    r.w[0] = *reinterpret_cast<const u32*>(p);
  } else {  // odd dpl: only 2-byte aligned
#pragma unroll
    for (int w = 0; w < att::d_words; w++) r.w[w] = 0u;
#pragma unroll
    for (int e = 0; e < att::dpl; e++) r.w[e >> 1] |= (u32)p[e] << (16 * (e & 1));
  }
  return r;
}

__device__ __forceinline__ float packed_dim(const PackedDims& d, int e) { return (e & 1) ? hi_half(d.w[e >> 1]) : lo_half(d.w[e >> 1]); }

// acc[g] += sum over rows j < n of p[g] of lane j times value row j, in row order. rows points at this lane's dimensions of
// row 0 (global or shared memory), rows hd apart. BATCH rows are loaded before any is summed, so that a warp's 32 rows
// cost one or two memory round trips rather than 32 (rows past n are not read; their weight is 0 anyway).
template <int BATCH>
__device__ __forceinline__ void add_values(const u16* rows, int n, const float (&p)[att::group], float (&acc)[att::group][att::dpl]) {
  for (int j0 = 0; j0 < n; j0 += BATCH) {
    PackedDims v[BATCH];
#pragma unroll
    for (int u = 0; u < BATCH; u++) {
      if (j0 + u < n) v[u] = load_packed(rows + (u64)(j0 + u) * att::hd);
      else {
#pragma unroll
        for (int w = 0; w < att::d_words; w++) v[u].w[w] = 0u;
      }
    }
#pragma unroll
    for (int u = 0; u < BATCH; u++)
#pragma unroll
      for (int g = 0; g < att::group; g++) {
        const float pj = __shfl_sync(0xffffffffu, p[g], (j0 + u) & 31);
#pragma unroll
        for (int e = 0; e < att::dpl; e++) acc[g][e] += pj * packed_dim(v[u], e);
      }
  }
}

// Rotary embedding of one pair (i, i + hd/2) with the table's cos c and sin s, each result rounded to FP16: the
// same expression as rope_append in llama_ops.cu, so that the compiler contracts it into the same FMAs and the
// fused decode kernel produces the same bits.
// Rounded products and sums, never contracted into FMAs: rope_append in llama_ops.cu computes the same way, so both
// kernels write bitwise the same keys (the compiler may contract a*b - c*d either way round otherwise).
__device__ __forceinline__ void rope_pair(float x0, float x1, float c, float s, u16& y0, u16& y1) {
  y0 = f2h(__fadd_rn(__fmul_rn(x0, c), -__fmul_rn(x1, s)));
  y1 = f2h(__fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s)));
}

// Copies keys [t0, t0 + rows) of a contiguous [position][hd] run into the padded tile ks (32-bit words),
// zero-filling rows at or beyond limit. When vs is non-null the values go to vs [rows][hd] unpadded.
// With SUB, row jnew (if the tile holds it) comes from knew (shared memory, hd halves, 16-byte aligned) instead of
// the cache: the fused decode kernel's new key, which it writes to the cache in the same launch.
// Every thread loads its share of the tile's 16-byte pieces in batches of up to MAX_BATCH before storing any, so a tile
// costs two or three memory round trips rather than one per piece (a loop the compiler cannot unroll, because
// the trip count depended on blockDim, did the latter). THREADS must equal blockDim.x.
template <int ROWS, int KROW, int THREADS, int MAX_BATCH, bool SUB = false>
__device__ __forceinline__ void stage_tile(const u16* __restrict__ kbase, const u16* __restrict__ vbase, int t0,
                                           int limit, u32* ks, u16* vs, const u16* knew = nullptr, int jnew = -1) {
  constexpr int chunks = att::hd / 8;  // 16-byte pieces per row
  constexpr int pieces = ROWS * chunks;
  constexpr int per_thread = (pieces + THREADS - 1) / THREADS;
  constexpr int batch = per_thread < MAX_BATCH ? per_thread : MAX_BATCH;
#pragma unroll 1
  for (int b0 = 0; b0 < per_thread; b0 += batch) {
    Vec16 k[batch], v[batch];
#pragma unroll
    for (int u = 0; u < batch; u++) {
      const int idx = (int)threadIdx.x + (b0 + u) * THREADS;
      const int r = idx / chunks, c = idx - r * chunks;
      const int j = t0 + r;
      k[u] = Vec16{0u, 0u, 0u, 0u};
      v[u] = Vec16{0u, 0u, 0u, 0u};
      if (b0 + u < per_thread && idx < pieces && j < limit) {
        if (SUB && j == jnew) k[u] = *reinterpret_cast<const Vec16*>(knew + c * 8);
        else k[u] = *reinterpret_cast<const Vec16*>(kbase + (u64)j * att::hd + c * 8);
        if (vs != 0) v[u] = *reinterpret_cast<const Vec16*>(vbase + (u64)j * att::hd + c * 8);
      }
    }
#pragma unroll
    for (int u = 0; u < batch; u++) {
      const int idx = (int)threadIdx.x + (b0 + u) * THREADS;
      if (b0 + u >= per_thread || idx >= pieces) continue;
      const int r = idx / chunks, c = idx - r * chunks;
      u32* kd = ks + r * KROW + c * 4;
      if constexpr (KROW % 4 == 0) {
        *reinterpret_cast<Vec16*>(kd) = k[u];
      } else {
        kd[0] = k[u].x; kd[1] = k[u].y; kd[2] = k[u].z; kd[3] = k[u].w;
      }
      if (vs != 0) *reinterpret_cast<Vec16*>(vs + r * att::hd + c * 8) = v[u];
    }
  }
}

// seq_info: 4 ints per sequence: token offset of its first new token in the step's rows, number of new
// tokens, position of the first new token, cache slot.
struct SeqInfo { int offset, length, start, slot; };

__device__ __forceinline__ SeqInfo read_seq(const int* info, int s) {
  return SeqInfo{info[4 * s], info[4 * s + 1], info[4 * s + 2], info[4 * s + 3]};
}

__device__ __forceinline__ u64 cache_offset(int slot, int layer, int num_layers, int kv_heads, int kvh, int max_ctx) {
  return (((u64)slot * num_layers + layer) * kv_heads + kvh) * (u64)max_ctx * att::hd;
}

// grid (ceil(max_new_tokens / 16), heads, sequences), block 128.
extern "C" __global__ void __launch_bounds__(128) attention_prefill(
    const u16* __restrict__ qkv, u16* __restrict__ out, const u16* __restrict__ k_cache, const u16* __restrict__ v_cache,
    const int* __restrict__ seq_info, int qkv_stride, int heads, int kv_heads, int layer, int num_layers, int max_ctx,
    float scale_log2) {
  enter_after_previous_grid();
  using namespace att;
  __shared__ u32 ks[p_kt * krow];
  __shared__ __align__(16) u16 vs[p_kt * hd];
  __shared__ u32 qs[p_rows * hd / 2];

  const SeqInfo seq = read_seq(seq_info, blockIdx.z);
  const int row0 = blockIdx.x * p_rows;
  if (row0 >= seq.length) return;
  const int h = blockIdx.y, kvh = h / (heads / kv_heads);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int rows_here = min(p_rows, seq.length - row0);
  const int kv_end = seq.start + row0 + rows_here;  // keys [0, kv_end) are visible to some row of the block

#pragma unroll
  for (int i = 0; i < (p_rows * hd / 2 + 32 * p_warps - 1) / (32 * p_warps); i++) {
    const int idx = (int)threadIdx.x + i * 32 * p_warps;
    if (idx >= p_rows * hd / 2) break;
    const int r = idx / (hd / 2), c = idx - r * (hd / 2);
    qs[idx] = r < rows_here ? reinterpret_cast<const u32*>(qkv + (u64)(seq.offset + row0 + r) * qkv_stride + h * hd)[c] : 0u;
  }

  const u64 cbase = cache_offset(seq.slot, layer, num_layers, kv_heads, kvh, max_ctx);
  const u16* kbase = k_cache + cbase;
  const u16* vbase = v_cache + cbase;

  float m[p_rpw], l[p_rpw], acc[p_rpw][dpl];
#pragma unroll
  for (int r = 0; r < p_rpw; r++) {
    m[r] = -1e30f;
    l[r] = 0.f;
#pragma unroll
    for (int e = 0; e < dpl; e++) acc[r][e] = 0.f;
  }

  for (int t0 = 0; t0 < kv_end; t0 += p_kt) {
    __syncthreads();  // previous tile fully consumed (and, the first time, qs written)
    stage_tile<p_kt, krow, 32 * p_warps, 4>(kbase, vbase, t0, kv_end, ks, vs);
    __syncthreads();

    float s[p_rpw][p_kpl];
#pragma unroll
    for (int r = 0; r < p_rpw; r++)
#pragma unroll
      for (int kk = 0; kk < p_kpl; kk++) s[r][kk] = 0.f;
#pragma unroll 4
    for (int c = 0; c < hd / 2; c++) {
      float k0[p_kpl], k1[p_kpl];
#pragma unroll
      for (int kk = 0; kk < p_kpl; kk++) {
        const u32 w = ks[(kk * 32 + lane) * krow + c];
        k0[kk] = lo_half(w);
        k1[kk] = hi_half(w);
      }
#pragma unroll
      for (int r = 0; r < p_rpw; r++) {
        const u32 q = qs[(warp * p_rpw + r) * (hd / 2) + c];
        const float q0 = lo_half(q), q1 = hi_half(q);
#pragma unroll
        for (int kk = 0; kk < p_kpl; kk++) s[r][kk] += q0 * k0[kk] + q1 * k1[kk];
      }
    }

    float p[p_rpw][p_kpl];
#pragma unroll
    for (int r = 0; r < p_rpw; r++) {
      const int qrow = row0 + warp * p_rpw + r;
      const int last_key = seq.start + qrow;  // inclusive
      float tmax = -__int_as_float(0x7f800000);
#pragma unroll
      for (int kk = 0; kk < p_kpl; kk++) {
        const int j = t0 + kk * 32 + lane;
        s[r][kk] = (qrow < seq.length && j <= last_key) ? s[r][kk] * scale_log2 : -__int_as_float(0x7f800000);
        tmax = fmaxf(tmax, s[r][kk]);
      }
      tmax = warp_max(tmax);
      const float m_new = fmaxf(m[r], tmax);
      const float corr = fast_exp2(m[r] - m_new);
      float psum = 0.f;
#pragma unroll
      for (int kk = 0; kk < p_kpl; kk++) {
        p[r][kk] = fast_exp2(s[r][kk] - m_new);
        psum += p[r][kk];
      }
      l[r] = l[r] * corr + warp_sum(psum);
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < dpl; e++) acc[r][e] *= corr;
    }

    const int keys_here = min(p_kt, kv_end - t0);
#pragma unroll
    for (int kk = 0; kk < p_kpl; kk++) {
      const int n = min(32, keys_here - kk * 32);
      for (int jj = 0; jj < n; jj++) {
        float v[dpl];
        load_dims(vs + (kk * 32 + jj) * hd + lane * dpl, v);
#pragma unroll
        for (int r = 0; r < p_rpw; r++) {
          const float pj = __shfl_sync(0xffffffffu, p[r][kk], jj);
#pragma unroll
          for (int e = 0; e < dpl; e++) acc[r][e] += pj * v[e];
        }
      }
    }
  }

#pragma unroll
  for (int r = 0; r < p_rpw; r++) {
    const int qrow = row0 + warp * p_rpw + r;
    if (qrow >= seq.length) continue;
    const float inv = 1.f / l[r];
    u16* o = out + (u64)(seq.offset + qrow) * heads * hd + h * hd + lane * dpl;
#pragma unroll
    for (int e = 0; e < dpl; e++) o[e] = f2h(acc[r][e] * inv);
  }
}

// The fused decode kernel's extra inputs (all unused, and compiled out, in attention_decode): the position and
// cache slot of each token row (slot -1: a padding row, which must not write the cache), the rotary tables
// FP32 [max_positions][hd/2] as rope_append takes them, and writable aliases of the two cache buffers.
struct RopeArgs {
  const int* positions;
  const int* slots;
  const float* cos_table;
  const float* sin_table;
  u16* k_cache;
  u16* v_cache;
  const u16* x;  // null, or the residual rows whose 1/rms scales the QKV row first (norm folded into the projection)
  int hidden;
  float eps;
};

// h as a float, times r and rounded to FP16 when normed.
__device__ __forceinline__ float scaled(u16 h, float r, bool normed) { return normed ? h2f(f2h(h2f(h) * r)) : h2f(h); }

// 1/sqrt(mean(x^2) + eps) of one FP16 row (hidden % 8 == 0, 16-byte aligned) over the whole block; every thread gets it.
// Four 16-byte loads per thread are in flight at once. scratch: one float per warp.
__device__ __forceinline__ float block_rstd(const u16* x, int hidden, float eps, float* scratch) {
  const int vecs = hidden >> 3, threads = (int)blockDim.x;
  const Vec16* xr = reinterpret_cast<const Vec16*>(x);
  float ss = 0.f;
  for (int v0 = 0; v0 < vecs; v0 += 4 * threads) {
    Vec16 xv[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int v = v0 + (int)threadIdx.x + j * threads;
      xv[j] = v < vecs ? xr[v] : Vec16{0u, 0u, 0u, 0u};
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const u32 w[4] = {xv[j].x, xv[j].y, xv[j].z, xv[j].w};
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float a = lo_half(w[e]), b = hi_half(w[e]);
        ss += a * a + b * b;
      }
    }
  }
  ss = warp_sum(ss);
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = ss;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < threads >> 5; ++w) total += scratch[w];
  return rsqrtf(total / (float)hidden + eps);
}

// The body of both decode kernels (see attention_decode for the grid and the outputs). With ROPE the QKV row is
// unrotated: q is rotated as it is loaded, and the block whose split holds position ctx - 1 rotates the new key,
// appends key and value to the cache and feeds both to its tiles from shared memory (see the file comment).
template <bool ROPE>
__device__ __forceinline__ void decode_body(
    const u16* qkv, u16* out, const u16* k_cache, const u16* v_cache, const int* seq_info, float* part_o, float* part_ml,
    const RopeArgs& rope, int qkv_stride, int heads, int kv_heads, int layer, int num_layers, int max_ctx,
    float scale_log2, int keys_per_split) {
  using namespace att;
  __shared__ __align__(16) u32 ks[d_kt * d_krow];
  __shared__ __align__(16) u16 qh[group * d_qrow];  // the group's query heads, FP16 (rotated with ROPE)
  __shared__ float scores[d_warps * group * 33];    // each warp's [group][32 keys] scores, rows padded
  __shared__ __align__(16) u16 new_kv[ROPE ? 2 * hd : 8];  // the new token's rotated key, then its value
  __shared__ float rope_cs[ROPE ? hd : 2];                 // cos, then sin, of the new token's position
  __shared__ float rstd_scratch[d_warps];
  extern __shared__ __align__(16) u16 vs_staged[];         // ROPE: the values of a pre-staged single tile [d_kt][hd]

  // Metadata only (the stream-ordered copy before the step wrote it): safe before the wait.
  const SeqInfo seq = read_seq(seq_info, blockIdx.x);
  const int kvh = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int tok = seq.offset + seq.length - 1;
  const int ctx = seq.start + seq.length;
  const int lo = split * keys_per_split;
  const int hi = min(ctx, lo + keys_per_split);

  const u64 cbase = cache_offset(seq.slot, layer, num_layers, kv_heads, kvh, max_ctx);
  const u16* kbase = k_cache + cbase;
  const u16* vbase = v_cache + cbase;

  // sub: position ctx - 1 (= hi - 1) is left out of the tile staged before the wait. With ROPE this block takes
  // its key and value from new_kv rather than the cache: exactly one block per (sequence, KV head) owns the new
  // position, and a padding row (slot < 0) appends nothing. Without ROPE the previous kernel (rope_append) wrote
  // that row, so the block reads it from the cache after the wait.
  bool sub = false, owner = false;
  int pos = 0, slot = -1;
  if constexpr (ROPE) {
    pos = rope.positions[tok];
    slot = rope.slots[tok];
    // The rotation of position pos, from constant tables: read before the wait, off the step's critical path.
    for (int d = (int)threadIdx.x; d < hd / 2; d += 32 * d_warps) {
      rope_cs[d] = rope.cos_table[(u64)pos * (hd / 2) + d];
      rope_cs[hd / 2 + d] = rope.sin_table[(u64)pos * (hd / 2) + d];
    }
    owner = split == (ctx - 1) / keys_per_split && slot >= 0;
    // The engine's rows always satisfy this (the new token of a sequence is at ctx - 1 of its own slot); should
    // they not, the block reads the cache as attention_decode would.
    sub = owner && slot == seq.slot && pos == ctx - 1;
  } else {
    sub = lo < hi && hi == ctx;  // (a split past a short sequence's context holds nothing)
  }
  // Only where the launch gave the tile's values their shared memory: the engine leaves it out when the blocks
  // would not all be resident at once with it (a second wave costs more than the overlap saves).
  const bool prestaged = hi - lo <= d_kt && dynamic_smem_bytes() >= (unsigned)(d_kt * hd * 2);
  // Without room for the values, the keys alone are staged (their tile is static shared memory anyway) and the value
  // rows are asked of L2, so that neither waits on HBM after the previous kernel.
  const bool k_staged = !prestaged && hi - lo <= d_kt;
  if (prestaged || k_staged) {
    stage_tile<d_kt, d_krow, 32 * d_warps, 8>(kbase, prestaged ? vbase : nullptr, lo, sub ? hi - 1 : hi, ks, prestaged ? vs_staged : nullptr);
    if (k_staged)
      for (int line = (int)threadIdx.x; line < (hi - lo) * (hd / 64); line += 32 * d_warps)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(vbase + (u64)lo * hd + (u64)line * 64));
  }
  // The zero fill of row hi - 1 - lo lands before the new key (and value) are written there; rope_cs is complete.
  if (ROPE || prestaged || k_staged) __syncthreads();
  wait_for_previous_grid();
#if MARLIN_DEBUG_TIMELINE
  if (threadIdx.x == 0) timeline_waited = global_ns();
#endif
#if LLAMA_DEBUG_ATTN == 1
  return;  // timing experiment: the launch, the staging and the wait alone
#endif
  if constexpr (!ROPE) {
    // The row the previous kernel appended, into the staged tile (16-byte pieces: keys, then values if staged).
    constexpr int chunks = hd / 8;
    if (sub && (prestaged || k_staged) && (int)threadIdx.x < (prestaged ? 2 : 1) * chunks) {
      const bool value = (int)threadIdx.x >= chunks;
      const int c = (int)threadIdx.x - (value ? chunks : 0);
      const Vec16 piece = *reinterpret_cast<const Vec16*>((value ? vbase : kbase) + (u64)(hi - 1) * hd + c * 8);
      if (value) {
        *reinterpret_cast<Vec16*>(vs_staged + (hi - 1 - lo) * hd + c * 8) = piece;
      } else {
        *reinterpret_cast<Vec16*>(ks + (hi - 1 - lo) * d_krow + c * 4) = piece;
      }
    }
  }
  if constexpr (ROPE) {
    constexpr int half = hd / 2;
    const float* ct = rope_cs;
    const float* st = rope_cs + half;
    constexpr int threads = 32 * d_warps;
    constexpr int q_iters = (group * half + threads - 1) / threads, kv_iters = (half + threads - 1) / threads;
    const u16* row = qkv + (u64)tok * qkv_stride;
    const u16* qrow = row + kvh * group * hd;
    const u16* krow = row + (u64)(heads + kvh) * hd;
    const u16* vrow = row + (u64)(heads + kv_heads + kvh) * hd;
    // Every load of the row first, so that they share one round trip (with the residual row's when normalising).
    u16 qa[q_iters][2], ka[kv_iters][2], va[kv_iters][2];
#pragma unroll
    for (int i = 0; i < q_iters; i++) {
      const int idx = (int)threadIdx.x + i * threads, g = idx / half, d = idx - g * half;
      qa[i][0] = idx < group * half ? qrow[g * hd + d] : (u16)0;
      qa[i][1] = idx < group * half ? qrow[g * hd + d + half] : (u16)0;
    }
#pragma unroll
    for (int i = 0; i < kv_iters; i++) {
      const int d = (int)threadIdx.x + i * threads;
      const bool mine = owner && d < half;
      ka[i][0] = mine ? krow[d] : (u16)0;
      ka[i][1] = mine ? krow[d + half] : (u16)0;
      va[i][0] = mine ? vrow[d] : (u16)0;
      va[i][1] = mine ? vrow[d + half] : (u16)0;
    }
    // A QKV projection with the input norm's weight folded in (rope.x set): its outputs times 1/rms of the residual row
    // tok, each rounded to FP16 first, as rope_append_normed in llama_ops.cu computes them.
    const float r = rope.x != nullptr ? block_rstd(rope.x + (u64)tok * rope.hidden, rope.hidden, rope.eps, rstd_scratch) : 1.f;
    const bool normed = rope.x != nullptr;
#pragma unroll
    for (int i = 0; i < q_iters; i++) {
      const int idx = (int)threadIdx.x + i * threads;
      if (idx < group * half) {
        const int g = idx / half, d = idx - g * half;
        u16 y0, y1;
        rope_pair(scaled(qa[i][0], r, normed), scaled(qa[i][1], r, normed), ct[d], st[d], y0, y1);
        qh[g * d_qrow + d] = y0;
        qh[g * d_qrow + d + half] = y1;
      }
    }
    if (owner) {
      const u64 at = cache_offset(slot, layer, num_layers, kv_heads, kvh, max_ctx) + (u64)pos * hd;
#pragma unroll
      for (int i = 0; i < kv_iters; i++) {
        const int d = (int)threadIdx.x + i * threads;
        if (d < half) {
          u16 y0, y1;
          rope_pair(scaled(ka[i][0], r, normed), scaled(ka[i][1], r, normed), ct[d], st[d], y0, y1);
          const u16 v0 = normed ? f2h(scaled(va[i][0], r, true)) : va[i][0];
          const u16 v1 = normed ? f2h(scaled(va[i][1], r, true)) : va[i][1];
          new_kv[d] = y0;
          new_kv[d + half] = y1;
          new_kv[hd + d] = v0;
          new_kv[hd + d + half] = v1;
          rope.k_cache[at + d] = y0;
          rope.k_cache[at + d + half] = y1;
          rope.v_cache[at + d] = v0;
          rope.v_cache[at + d + half] = v1;
          if ((prestaged || k_staged) && sub) {  // the staged tile's last row (hi - 1 - lo), left empty before the wait
            u16* kr = reinterpret_cast<u16*>(ks + (hi - 1 - lo) * att::d_krow);
            kr[d] = y0;
            kr[d + half] = y1;
            if (prestaged) {
              u16* vr = vs_staged + (hi - 1 - lo) * hd;
              vr[d] = v0;
              vr[d + half] = v1;
            }
          }
        }
      }
    }
  } else {
#pragma unroll
    for (int i = 0; i < (group * hd + 32 * d_warps - 1) / (32 * d_warps); i++) {
      const int idx = (int)threadIdx.x + i * 32 * d_warps;
      if (idx < group * hd) qh[(idx / hd) * d_qrow + idx % hd] = qkv[(u64)tok * qkv_stride + kvh * group * hd + idx];
    }
  }

  float m[group], l[group], acc[group][dpl];
#pragma unroll
  for (int g = 0; g < group; g++) {
    m[g] = -1e30f;
    l[g] = 0.f;
#pragma unroll
    for (int e = 0; e < dpl; e++) acc[g][e] = 0.f;
  }

  // Values read from the cache (or the staged tile): [lo, vend). With ROPE and no staged values, the new one comes last from new_kv.
  const int vend = ROPE && sub && !prestaged ? hi - 1 : hi;
  for (int t0 = lo; t0 < hi; t0 += d_kt) {
    __syncthreads();  // previous tile fully consumed (and, the first time, qh and new_kv written)
    if (!prestaged && !k_staged)
      stage_tile<d_kt, d_krow, 32 * d_warps, (group * dpl <= 8 ? 8 : 4), ROPE>(kbase, nullptr, t0, hi, ks, nullptr, new_kv, sub ? hi - 1 : -1);
    __syncthreads();

    const int key = warp * 32 + lane;
    const bool valid = t0 + key < hi;
    // Scores of the warp's 32 keys on the tensor cores: [group rows, padded to 16] x [hd] times [hd] x [32 keys] as
    // four m16n8k16 tiles per 16 dimensions, FP32 accumulation (FP16 products are exact in FP32). The fragments then
    // go through shared memory to one key per lane, the layout the softmax and the value sums below work in.
    {
      const int fr = lane >> 2, fc = lane & 3;  // fragment row (query head / key within 8) and column pair
      float c[d_mtiles][4][4];
#pragma unroll
      for (int mt = 0; mt < d_mtiles; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
          for (int e = 0; e < 4; e++) c[mt][nt][e] = 0.f;
#pragma unroll 4
      for (int kstep = 0; kstep < (LLAMA_DEBUG_ATTN == 3 ? 0 : hd / 16); kstep++) {
        u32 b[4][2];
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
          const u32* kr = ks + (warp * 32 + nt * 8 + fr) * d_krow + kstep * 8 + fc;
          b[nt][0] = kr[0];
          b[nt][1] = kr[4];
        }
#pragma unroll
        for (int mt = 0; mt < d_mtiles; mt++) {
          const int g0 = mt * 16 + fr, g1 = g0 + 8;
          const u32* q0 = reinterpret_cast<const u32*>(qh + g0 * d_qrow) + kstep * 8 + fc;
          const u32* q1 = reinterpret_cast<const u32*>(qh + g1 * d_qrow) + kstep * 8 + fc;
          const u32 a[4] = {g0 < group ? q0[0] : 0u, g1 < group ? q1[0] : 0u, g0 < group ? q0[4] : 0u, g1 < group ? q1[4] : 0u};
#pragma unroll
          for (int nt = 0; nt < 4; nt++) mma_16816(c[mt][nt], a, b[nt][0], b[nt][1]);
        }
      }
      float* ws = scores + warp * group * 33;
#pragma unroll
      for (int mt = 0; mt < d_mtiles; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
          for (int e = 0; e < 4; e++) {
            const int g = mt * 16 + fr + (e >> 1) * 8;
            if (g < group) ws[g * 33 + nt * 8 + 2 * fc + (e & 1)] = c[mt][nt][e];
          }
      __syncwarp();
    }
    float s[group];
#pragma unroll
    for (int g = 0; g < group; g++) s[g] = scores[(warp * group + g) * 33 + lane] * scale_log2;
    __syncwarp();  // read before the next tile's scores overwrite them
    float p[group];
#pragma unroll
    for (int g = 0; g < group; g++) {
      const float sg = valid ? s[g] : -__int_as_float(0x7f800000);
      const float m_new = fmaxf(m[g], warp_max(sg));
      const float corr = fast_exp2(m[g] - m_new);
      p[g] = fast_exp2(sg - m_new);
      l[g] = l[g] * corr + warp_sum(p[g]);
      m[g] = m_new;
#pragma unroll
      for (int e = 0; e < dpl; e++) acc[g][e] *= corr;
    }

    // Values from the staged tile (the new value included: summed in position order), or straight from global memory
    // with d_vbatch rows in flight: a warp's 32 rows are otherwise 32 dependent round trips, which is what a
    // short-context decode step waits on. Each value row is used by one warp only, so nothing is gained by staging it.
    // With ROPE and sub but no staged tile, position hi - 1 (the last row of the warp whose slice holds it) is left out
    // here (vend) and added from new_kv below, after the others: the same order of additions as from the cache.
    const int n = LLAMA_DEBUG_ATTN == 4 ? 0 : min(32, vend - (t0 + warp * 32));
    if (prestaged)
      add_values<8>(vs_staged + (warp * 32) * hd + lane * dpl, n, p, acc);
    else
      add_values<d_vbatch>(vbase + (u64)(t0 + warp * 32) * hd + lane * dpl, n, p, acc);
    if constexpr (ROPE) {
      if (sub && !prestaged && ((hi - 1 - t0) >> 5) == warp) {  // warp-uniform; only in the last tile
        float v[dpl];
        load_dims(new_kv + hd + lane * dpl, v);
#pragma unroll
        for (int g = 0; g < group; g++) {
          const float pj = __shfl_sync(0xffffffffu, p[g], (hi - 1 - t0) & 31);
#pragma unroll
          for (int e = 0; e < dpl; e++) acc[g][e] += pj * v[e];
        }
      }
    }
  }

  // Merge the warps' states: merge[warp][g] = (acc[hd], m, l), reusing the key tile's shared memory.
  __syncthreads();
  float* merge = reinterpret_cast<float*>(ks);
#pragma unroll
  for (int g = 0; g < group; g++) {
    float* slotp = merge + (warp * group + g) * (hd + 2);
#pragma unroll
    for (int e = 0; e < dpl; e++) slotp[lane * dpl + e] = acc[g][e];
    if (lane == 0) { slotp[hd] = m[g]; slotp[hd + 1] = l[g]; }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < group * hd; idx += blockDim.x) {
    const int g = idx / hd, e = idx - g * hd;
    float mm = -1e30f;
#pragma unroll
    for (int w = 0; w < d_warps; w++) mm = fmaxf(mm, merge[(w * group + g) * (hd + 2) + hd]);
    float ll = 0.f, o = 0.f;
#pragma unroll
    for (int w = 0; w < d_warps; w++) {
      const float* sp = merge + (w * group + g) * (hd + 2);
      const float f = fast_exp2(sp[hd] - mm);
      ll += sp[hd + 1] * f;
      o += sp[e] * f;
    }
    const int h = kvh * group + g;
    if (splits == 1) {
      out[(u64)tok * heads * hd + h * hd + e] = f2h(o / ll);
    } else {
      const u64 part = ((u64)blockIdx.x * heads + h) * splits + split;
      part_o[part * hd + e] = o;
      if (e == 0) { part_ml[2 * part] = mm; part_ml[2 * part + 1] = ll; }
    }
  }
}

// grid (sequences, kv_heads, splits), block 32 * att::d_warps. Attends the last new token of each sequence
// to cache positions [0, start + length). Split z covers positions [z * keys_per_split, (z + 1) * keys_per_split);
// keys_per_split is a multiple of att::d_kt. With one split the result goes to out; otherwise each split writes its
// unnormalised output to part_o [seq][head][split][hd] and (max, sum) to part_ml [seq][head][split][2].
extern "C" __global__ void __launch_bounds__(32 * att::d_warps, 1) attention_decode(
    const u16* __restrict__ qkv, u16* __restrict__ out, const u16* __restrict__ k_cache, const u16* __restrict__ v_cache,
    const int* __restrict__ seq_info, float* __restrict__ part_o, float* __restrict__ part_ml,
    int qkv_stride, int heads, int kv_heads, int layer, int num_layers, int max_ctx, float scale_log2, int keys_per_split) {
  const unsigned long long t_entry = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
  allow_next_grid();  // the wait comes inside, after a single-tile split has staged its cache rows
  const RopeArgs none{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 0.f};
  decode_body<false>(qkv, out, k_cache, v_cache, seq_info, part_o, part_ml, none, qkv_stride, heads, kv_heads, layer,
                     num_layers, max_ctx, scale_log2, keys_per_split);
  if (MARLIN_DEBUG_TIMELINE && threadIdx.x == 0) timeline_record(3, t_entry);
}

// rope_append followed by attention_decode, in one launch, for a decode step (one token row per sequence; the
// QKV rows unrotated). Same grid, outputs and splits as attention_decode; positions and slots per token row (slot
// -1: no cache write), cos/sin tables FP32 [max_positions][hd/2]. The rotated key and the value of row tok go to
// the cache at (slots[tok], layer, positions[tok]). The cache pointers are not const: the kernel writes them, so
// the compiler cannot give their loads the read-only path (which would not be coherent with those writes; the
// kernel does not rely on that either, see the file comment). Launch bounds with a minimum of one block per SM: the
// grid is sized for about two blocks per SM (AttentionPlan.Decode), and without it ptxas squeezed some head shapes
// into 128 or 168 registers (four or three blocks per SM) by spilling in the value loop.
// x: null, or the residual rows [rows][hidden] (hidden % 8 == 0) of an FP16 decode step whose QKV projection has the
// input norm's weight folded in (rope_append_normed's job, done here): the QKV row is first scaled by 1/rms of x[tok].
extern "C" __global__ void __launch_bounds__(32 * att::d_warps, 1) attention_decode_rope(
    const u16* __restrict__ qkv, u16* __restrict__ out, u16* __restrict__ k_cache, u16* __restrict__ v_cache,
    const int* __restrict__ seq_info, const int* __restrict__ positions, const int* __restrict__ slots,
    const float* __restrict__ cos_table, const float* __restrict__ sin_table, float* __restrict__ part_o,
    float* __restrict__ part_ml, int qkv_stride, int heads, int kv_heads, int layer, int num_layers, int max_ctx,
    float scale_log2, int keys_per_split, const u16* __restrict__ x, int hidden, float eps) {
  const unsigned long long t_entry = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
  allow_next_grid();  // the wait comes inside, after a single-tile split has staged its cache rows
  const RopeArgs rope{positions, slots, cos_table, sin_table, k_cache, v_cache, x, hidden, eps};
  decode_body<true>(qkv, out, k_cache, v_cache, seq_info, part_o, part_ml, rope, qkv_stride, heads, kv_heads, layer,
                    num_layers, max_ctx, scale_log2, keys_per_split);
  if (MARLIN_DEBUG_TIMELINE && threadIdx.x == 0) timeline_record(2, t_entry);
}

// grid (sequences, heads), block hd. Merges the decode splits of each (sequence, head).
extern "C" __global__ void attention_combine(const float* __restrict__ part_o, const float* __restrict__ part_ml,
                                             const int* __restrict__ seq_info, u16* __restrict__ out, int heads, int splits) {
  enter_after_previous_grid();
  const SeqInfo seq = read_seq(seq_info, blockIdx.x);
  const int h = blockIdx.y, e = threadIdx.x;
  const int tok = seq.offset + seq.length - 1;
  const u64 part0 = ((u64)blockIdx.x * heads + h) * splits;
  float mm = -1e30f;
  for (int z = 0; z < splits; z++) mm = fmaxf(mm, part_ml[2 * (part0 + z)]);
  float ll = 0.f, o = 0.f;
  for (int z = 0; z < splits; z++) {
    const float f = fast_exp2(part_ml[2 * (part0 + z)] - mm);
    ll += part_ml[2 * (part0 + z) + 1] * f;
    o += part_o[(part0 + z) * att::hd + e] * f;
  }
  out[(u64)tok * heads * att::hd + h * att::hd + e] = f2h(o / ll);
}
