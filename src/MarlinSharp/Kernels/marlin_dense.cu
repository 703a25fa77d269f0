// marlin_dense.cu — FP16 x INT4 matrix multiply, C[m][n] = A[m][k] * dequant(B)[k][n].
//
// Why it is shaped this way
// -------------------------
// For small m the product is a pure weight stream: every 4-bit weight is used by only m rows of A,
// so the kernel is fast exactly when the HBM -> shared memory stream of B never stalls and every
// other cost (A, scales, dequantisation, tensor-core work, reduction) hides underneath it. All the
// choices below serve that goal; the kernel is compiled by NVRTC at run time with the tile shape
// fixed by -D macros so that every loop is unrolled and every register index is static.
//
// Data layout (byte-compatible with the reference Marlin packer, see MarlinPacker.cs)
//  * B is int32 [k/16][2n]. Row kb holds the 16 x n band of codes for k in [16kb, 16kb+16), cut into
//    64-column chunks of 128 words. Inside a chunk, word 4*t + j (t = lane, j = 0..3) holds the 8 codes
//    that lane t needs as the mma.m16n8k16 "B" operand of the 16x16 tile j: column t/4 and t/4+8, rows
//    2(t%4), +1, +8, +9, with nibbles ordered so that (q & 0x000f000f) yields the two rows of one
//    half2 register directly. One 16-byte load per lane per 16x64 piece is therefore all the
//    shuffling the kernel ever does: the expensive permutation happened once, offline.
//  * Scales s are FP16 [k/g][n] (grouped, g = 32, 64, 128) or [1][n] (per output channel), permuted in
//    chunks so that one 16-byte shared-memory load gives a lane the scales of its 8 columns.
//  * A is FP16 row-major [m][k], C FP16 row-major [m][n]. A launch covers at most 16*M_BLOCKS rows;
//    rows past m are zero-filled on load and never stored, so callers pad nothing.
//
// Pipeline
//  * The (n/TN column tiles) x (k/TK k tiles) iteration space is walked column by column and cut into
//    gridDim.x contiguous stripes, one per CTA (one or two resident CTAs per SM). Every SM streams the
//    same number of tiles, whatever the shape, and a column tile split between CTAs is summed at the end.
//    Two CTAs per SM (small batches, whose accumulators need few registers) double the bytes in flight
//    and give the schedulers twice the warps to hide dequantisation and barrier latency behind.
//  * Each tile's B slab, A slab and scale rows go into a ring of STAGES shared-memory buffers with
//    cp.async.cg (16 bytes, bypassing L1; B optionally with an L2 evict-first policy so that the weight
//    stream does not push A out of L2). STAGES-1 tiles are always in flight.
//  * Warps: TN/64 warps side by side along n, the rest stacked along k. Each warp owns a 64-column
//    slice and a contiguous run of the tile's k16 slabs: it ldmatrix-loads A fragments from a
//    XOR-swizzled (conflict-free) A buffer, loads one int4 of B per slab, dequantises in registers
//    with lop3 + the FP16 "1024 + x" magic number, applies grouped scales with half2 math, and feeds
//    mma.sync m16n8k16 with FP32 accumulation. The warps that share a column slice are summed through
//    shared memory in a fixed order at the end of each column tile.
//  * At most 16 rows (MARLIN_SWAP_AB) the operands swap: the weights become the mma A operand, which
//    halves the tensor instructions at m <= 8, and grouped scales are applied once per group in FP32
//    instead of once per weight in FP16 (see compute_tile_swapped): the dequantisation stream, not
//    the tensor cores, is what a small batch waits on.
//  * Global reduction: a CTA that covered a whole column writes C directly. Otherwise it writes its
//    FP32 partial to its own workspace slot, and the last CTA to arrive (atomic counter per column)
//    sums all partials in CTA order and writes C. No CTA ever waits for another, the summation order
//    never depends on timing (results are bitwise reproducible), and the last arriver resets the
//    counter so that the next launch on the stream finds it zero.
//  * Overlap with the previous kernel (sm_90+, programmatic dependent launch): small layers are
//    latency-bound (a few MB of weights take a few microseconds, about what a launch, the first HBM
//    round trip and the reduction cost), so the launcher lets a GEMM start while the kernel before it
//    on the stream is still running. Weights and scales are never written by earlier kernels, so the
//    prologue issues the first STAGES-1 tiles of them at once and only then executes
//    griddepcontrol.wait, which returns when the previous grid has finished and its writes are
//    visible; activations, the workspace, the counters and C are touched only after it. Just before
//    waiting it signals launch_dependents, so that the kernel after it can be resident (and do the
//    same) by the time this one ends; every kernel waits for its predecessor before touching
//    memory, so the stream's order of memory effects is kept. Without the launch
//    attribute both instructions are no-ops, and before sm_90 they are compiled out.

#ifndef MARLIN_M_BLOCKS
#define MARLIN_M_BLOCKS 1
#endif
#ifndef MARLIN_TILE_N
#define MARLIN_TILE_N 128
#endif
#ifndef MARLIN_TILE_K
#define MARLIN_TILE_K 128
#endif
#ifndef MARLIN_STAGES
#define MARLIN_STAGES 4
#endif
#ifndef MARLIN_GROUP_BLOCKS          // group size / 16; 0 = per-output-channel scales
#define MARLIN_GROUP_BLOCKS 8
#endif
#ifndef MARLIN_B_EVICT_FIRST         // 1: weight loads carry an L2 evict-first cache policy
#define MARLIN_B_EVICT_FIRST 0
#endif
#ifndef MARLIN_B_PREFETCH            // 0, 128 or 256: L2 prefetch size hint on weight loads
#define MARLIN_B_PREFETCH 0
#endif
// Development switches for timing experiments (results are wrong when set): leave out the tensor-core
// work, or the weight loads, to see which side of the pipeline bounds the kernel.
#ifndef MARLIN_DEBUG_SKIP_COMPUTE
#define MARLIN_DEBUG_SKIP_COMPUTE 0
#endif
#ifndef MARLIN_DEBUG_SKIP_B_LOADS
#define MARLIN_DEBUG_SKIP_B_LOADS 0
#endif
#ifndef MARLIN_DEBUG_CONTIGUOUS_B     // read each weight tile as one contiguous block (same bytes, wrong order)
#define MARLIN_DEBUG_CONTIGUOUS_B 0
#endif
#ifndef MARLIN_SWAP_AB               // 0: activations are the mma A operand; 1, 2 or 4: the weights are (8, 16 or 32 rows)
#define MARLIN_SWAP_AB 0
#endif
#ifndef MARLIN_BULK_B                // 1: weight slabs arrive by TMA bulk copies on an mbarrier (sm_90, CUDA 12+)
#define MARLIN_BULK_B 0
#endif
#if MARLIN_BULK_B && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDACC_VER_MAJOR__) && __CUDACC_VER_MAJOR__ >= 12
#define MARLIN_USE_BULK 1
#else
#define MARLIN_USE_BULK 0
#endif
#ifndef MARLIN_RELEASE_NEXT_FIRST    // 1: let the next grid launch before waiting for the previous one (timing switch)
#define MARLIN_RELEASE_NEXT_FIRST 1
#endif
#ifndef MARLIN_CTAS_PER_SM           // resident CTAs per SM the register budget is sized for (1 or 2)
#define MARLIN_CTAS_PER_SM 1
#endif

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

struct __align__(16) Vec16 { u32 x, y, z, w; };
struct __align__(16) Float4 { float x, y, z, w; };

namespace cfg {
constexpr int threads = 256;
constexpr int warps = threads / 32;
constexpr int m_blocks = MARLIN_M_BLOCKS;
constexpr int tile_n = MARLIN_TILE_N;
constexpr int tile_k = MARLIN_TILE_K;
constexpr int stages = MARLIN_STAGES;
constexpr int group_blocks = MARLIN_GROUP_BLOCKS;
constexpr int ctas_per_sm = MARLIN_CTAS_PER_SM;
constexpr int swap_ab = MARLIN_SWAP_AB;
constexpr int batch_blocks = swap_ab;                    // 8-row batch blocks when the operands are swapped
constexpr bool per_channel = group_blocks == 0;
constexpr int warps_n = tile_n / 64;
constexpr int warps_k = warps / warps_n;
constexpr int slabs = tile_k / 16;                       // k16 slabs per tile
constexpr int slabs_per_warp = slabs / warps_k;
constexpr int b_slab_vecs = tile_n / 2;                  // 16 rows x tile_n codes = tile_n/2 16-byte vectors
constexpr int b_stage_vecs = slabs * b_slab_vecs;
constexpr int a_row_vecs = tile_k / 8;
constexpr int a_rows = 16 * m_blocks;
constexpr int a_stage_vecs = a_rows * a_row_vecs;
constexpr int s_rows = per_channel ? 0 : (tile_k >= 16 * group_blocks ? tile_k / (16 * group_blocks) : 1);
constexpr int s_row_vecs = tile_n / 8;
constexpr int s_stage_vecs = s_rows * s_row_vecs;
constexpr int stage_vecs = b_stage_vecs + a_stage_vecs + s_stage_vecs;
constexpr int red_stride = tile_n + 8;                   // floats per row of the reduction tile (padded)
constexpr int red_rows = swap_ab == 1 ? 8 : 16;          // rows an m-block carries (8-row launches need half)
constexpr int red_layer = red_rows * red_stride;         // one m-block of one k-stacked warp layer
constexpr int red_vecs = warps_k * red_layer / 4;
constexpr int smem_vecs = stages * stage_vecs + red_vecs;
constexpr int tile_vecs4 = red_rows * tile_n / 4;        // Float4s in one red_rows x tile_n m-block
constexpr int tile_passes = (tile_vecs4 + threads - 1) / threads;
constexpr int part_floats = m_blocks * 16 * tile_n;      // one workspace slot

static_assert(tile_n == 64 || tile_n == 128 || tile_n == 256, "tile_n");
static_assert(tile_k == 64 || tile_k == 128, "tile_k");
static_assert(m_blocks >= 1 && m_blocks <= 4, "m_blocks");
static_assert(slabs % warps_k == 0, "every warp needs the same number of k16 slabs");
static_assert(b_stage_vecs % threads == 0, "B tile must split evenly over the threads");
static_assert(s_stage_vecs <= threads, "a tile's scale rows are copied in one pass");
static_assert(stages >= 2 && stages <= 8, "stages");
static_assert(per_channel || group_blocks == 2 || group_blocks == 4 || group_blocks == 8, "group size");
static_assert(a_row_vecs >= 8, "A swizzle needs 8 vectors per row");
static_assert(tile_vecs4 % threads == 0 || tile_vecs4 < threads, "epilogue tile must split evenly over the threads");
static_assert(swap_ab == 0 || swap_ab == 1 || swap_ab == 2 || swap_ab == 4, "swap_ab");
static_assert(swap_ab == 0 || m_blocks == (swap_ab + 1) / 2, "swapped operands: one m-block per 16 batch rows");
}  // namespace cfg

// ---------------------------------------------------------------------------------------------
// PTX helpers (header-free so that any NVRTC from 11.8 on compiles this file)
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ u32 smem_addr(const void* p) {
  u32 r;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(r) : "l"(p));
  return r;
}

#if MARLIN_B_PREFETCH == 256
#define MARLIN_B_PREFETCH_QUALIFIER ".L2::256B"
#elif MARLIN_B_PREFETCH == 128
#define MARLIN_B_PREFETCH_QUALIFIER ".L2::128B"
#else
#define MARLIN_B_PREFETCH_QUALIFIER ""
#endif

// Shared-memory operands are 32-bit shared-window addresses throughout the main loop: a stage base
// plus compile-time offsets, so that no generic-to-shared conversion or 64-bit arithmetic is spent there.
__device__ __forceinline__ void cp_async_b(u32 dst, const void* src, u64 policy) {
#if MARLIN_B_EVICT_FIRST
  asm volatile("cp.async.cg.shared.global.L2::cache_hint" MARLIN_B_PREFETCH_QUALIFIER " [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "l"(policy));
#else
  (void)policy;
  asm volatile("cp.async.cg.shared.global" MARLIN_B_PREFETCH_QUALIFIER " [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
#endif
}

#if MARLIN_USE_BULK
// One thread hands a whole slab row (tile_n * 8 bytes, contiguous in the packed layout) to the copy engine; the stage's
// mbarrier completes when every byte has landed, so no per-thread copy instructions are spent on weights.
__device__ __forceinline__ void mbar_init(u32 bar, u32 count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_bytes(u32 bar, u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void bulk_copy(u32 dst, const void* src, u32 bytes, u32 bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
               ::"r"(dst), "l"(src), "r"(bytes), "r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(u32 bar, u32 phase) {
  asm volatile("{\n .reg .pred done;\n WAIT_%=:\n mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n @!done bra WAIT_%=;\n}\n"
               ::"r"(bar), "r"(phase) : "memory");
}
#endif

__device__ __forceinline__ Vec16 lds128(u32 addr) {
  Vec16 v;
  asm volatile("ld.shared.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(addr));
  return v;
}

__device__ __forceinline__ void cp_async_plain(u32 dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int n>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(n)); }

__device__ __forceinline__ u64 make_evict_first_policy() {
  u64 policy = 0;
#if MARLIN_B_EVICT_FIRST
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
#endif
  return policy;
}

__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x2(u32 (&r)[4], u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  r[2] = r[3] = 0;
}

__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
  asm(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// (a & b) | c in one instruction.
__device__ __forceinline__ u32 and_or(u32 a, u32 b, u32 c) {
  u32 d;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

__device__ __forceinline__ u32 hsub2(u32 a, u32 b) {
  u32 d;
  asm("sub.rn.f16x2 %0, %1, %2;\n" : "=r"(d) : "r"(a), "r"(b));
  return d;
}

__device__ __forceinline__ u32 hfma2(u32 a, u32 b, u32 c) {
  u32 d;
  asm("fma.rn.f16x2 %0, %1, %2, %3;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

__device__ __forceinline__ u32 hmul2(u32 a, u32 b) {
  u32 d;
  asm("mul.rn.f16x2 %0, %1, %2;\n" : "=r"(d) : "r"(a), "r"(b));
  return d;
}

// Replicates the low (sel = 0) or high (sel = 1) half of x into both halves.
__device__ __forceinline__ u32 broadcast_half(u32 x, int sel) {
  u32 d;
  if (sel == 0)
    asm("prmt.b32 %0, %1, 0, 0x1010;\n" : "=r"(d) : "r"(x));
  else
    asm("prmt.b32 %0, %1, 0, 0x3232;\n" : "=r"(d) : "r"(x));
  return d;
}

__device__ __forceinline__ u32 pack_half2(float lo, float hi) {
  u32 d;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;\n" : "=r"(d) : "f"(hi), "f"(lo));
  return d;
}

__device__ __forceinline__ float half_to_float(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;\n" : "=f"(f) : "h"(h));
  return f;
}

__device__ __forceinline__ Float4 load_cg(const Float4* p) {
  Float4 v;
  asm volatile("ld.global.cg.v4.f32 {%0,%1,%2,%3}, [%4];\n" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "l"(p));
  return v;
}

__device__ __forceinline__ void store_cg(Float4* p, const Float4& v) {
  asm volatile("st.global.cg.v4.f32 [%0], {%1,%2,%3,%4};\n" ::"l"(p), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w) : "memory");
}

__device__ __forceinline__ void fence_gpu() { asm volatile("membar.gl;\n" ::: "memory"); }

__device__ __forceinline__ int atomic_add_gpu(int* p, int v) {
  int old;
  asm volatile("atom.global.add.s32 %0, [%1], %2;\n" : "=r"(old) : "l"(p), "r"(v) : "memory");
  return old;
}

__device__ __forceinline__ void store_relaxed(int* p, int v) {
  asm volatile("st.global.s32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory");
}

__device__ __forceinline__ u32 dynamic_smem_bytes() {
  u32 r;
  asm("mov.u32 %0, %%dynamic_smem_size;\n" : "=r"(r));
  return r;
}

// ---------------------------------------------------------------------------------------------
// Dequantisation: one 32-bit word = 8 codes = the two B registers of two adjacent n8 blocks.
// ---------------------------------------------------------------------------------------------
struct BFrag { u32 b0, b1, c0, c1; };  // (b0, b1): n8 block 2j; (c0, c1): n8 block 2j+1

__device__ __forceinline__ BFrag dequant8(u32 q) {
  const u32 lo_mask = 0x000f000f, hi_mask = 0x00f000f0, magic = 0x64006400;  // 1024 in both halves
  const u32 lo_bias = 0x64086408;                    // 1032 = 1024 + 8 (zero point)
  const u32 hi_scale = 0x2c002c00, hi_bias = 0xd480d480;  // 1/16 and -72 = -(1024/16 + 8)
  BFrag f;
  u32 lo = and_or(q, lo_mask, magic), hi = and_or(q, hi_mask, magic);
  q >>= 8;
  u32 lo2 = and_or(q, lo_mask, magic), hi2 = and_or(q, hi_mask, magic);
  f.b0 = hsub2(lo, lo_bias);
  f.b1 = hfma2(hi, hi_scale, hi_bias);
  f.c0 = hsub2(lo2, lo_bias);
  f.c1 = hfma2(hi2, hi_scale, hi_bias);
  return f;
}

// ---------------------------------------------------------------------------------------------
// The kernel
// ---------------------------------------------------------------------------------------------
struct Problem {
  const Vec16* a;       // [m][k] fp16 (the rows of this launch)
  const Vec16* b;       // [k/16][2n] int32
  const Vec16* s;       // packed scales
  u16* c;               // [m][n] fp16
  Float4* workspace;    // 2 slots per CTA, each m_blocks * 16 * tile_n floats
  int* counters;        // n / tile_n ints, zero on entry, zero on exit
  int m, n, k;
};

// Where this thread's copies of every tile come from and go to, computed once per CTA: issuing a tile's
// copies then costs a few additions, not divisions and 64-bit multiplies on the dequantisation's pipe.
struct CopyPlan {
  u32 b_src, b_step;  // 16-byte-vector offset of the thread's first B vector in a tile, and to its next one
  u32 a_src, a_step;  // the same for A, from the tile's first column
  u32 a_dst;          // byte offset of its first A vector in a stage (swizzled)
  int a_row;          // first A row it copies
  u32 s_src;          // its scale vector, from the tile's first scale row
};

__device__ __forceinline__ CopyPlan make_copy_plan(const Problem& p, int tid) {
  using namespace cfg;
  CopyPlan c;
  const u32 b_row_vecs = (u32)p.n / 2, a_vecs_per_row = (u32)p.k / 8;
  c.b_src = (tid / b_slab_vecs) * b_row_vecs + tid % b_slab_vecs;
  c.b_step = (threads / b_slab_vecs) * b_row_vecs;
  c.a_row = tid / a_row_vecs;
  const int ac = tid % a_row_vecs;
  c.a_src = c.a_row * a_vecs_per_row + ac;
  c.a_step = (threads / a_row_vecs) * a_vecs_per_row;
  c.a_dst = 16 * (b_stage_vecs + c.a_row * a_row_vecs + (ac ^ (c.a_row & 7)));
  c.s_src = (tid / s_row_vecs) * ((u32)p.n / 8) + tid % s_row_vecs;
  return c;
}

// Column tile and k tile of a position in a CTA's stripe, advanced one tile at a time.
struct TileCursor {
  int col, kt;
  __device__ __forceinline__ void advance(int k_tiles) {
    if (++kt == k_tiles) { kt = 0; ++col; }
  }
};

// Programmatic dependent launch (see the header). Compiled out before sm_90, no-ops without the launch attribute.
__device__ __forceinline__ void wait_for_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void allow_next_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

// The weight part of a tile (B slab and scale rows): nothing any earlier kernel writes, so the prologue may
// fetch it before waiting for the previous grid.
__device__ __forceinline__ void fetch_weights(u32 stage, const Problem& p, const CopyPlan& c, TileCursor t, int tid, u64 policy, u32 bar) {
  (void)bar;
  using namespace cfg;
#if MARLIN_USE_BULK
  (void)policy;
  if (tid == 0) {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // the slot was last read through the generic proxy
    mbar_expect_bytes(bar, 16 * b_stage_vecs);
    const Vec16* row = p.b + (size_t)(t.kt * slabs) * ((u32)p.n / 2) + (u32)(t.col * b_slab_vecs);
#pragma unroll
    for (int slab = 0; slab < slabs; ++slab) bulk_copy(stage + 16 * slab * b_slab_vecs, row + (size_t)slab * ((u32)p.n / 2), 16 * b_slab_vecs, bar);
  }
#else
#if MARLIN_DEBUG_CONTIGUOUS_B
  const Vec16* gb = p.b + ((size_t)t.col * (p.k / tile_k) + t.kt) * b_stage_vecs + tid;
  const u32 b_step = threads;
#else
  const Vec16* gb = p.b + (size_t)(t.kt * slabs) * ((u32)p.n / 2) + (u32)(t.col * b_slab_vecs) + c.b_src;
  const u32 b_step = c.b_step;
#endif
#pragma unroll
  for (int r = 0; r < (MARLIN_DEBUG_SKIP_B_LOADS ? 0 : b_stage_vecs / threads); ++r) {
    cp_async_b(stage + 16 * (tid + r * threads), gb, policy);
    gb += b_step;
  }
#endif

  if constexpr (!per_channel) {
    if (tid < s_stage_vecs) {
      const int first_group = (t.kt * tile_k) / (16 * (per_channel ? 1 : group_blocks));  // guarded: NVRTC 13 warns of a division by zero
      const Vec16* gs = p.s + (size_t)first_group * ((u32)p.n / 8) + (u32)(t.col * s_row_vecs) + c.s_src;
      cp_async_plain(stage + 16 * (b_stage_vecs + a_stage_vecs + tid), gs);
    }
  }
}

// The activation part of a tile (the A slab), written by the previous kernel.
__device__ __forceinline__ void fetch_activations(u32 stage, const Problem& p, const CopyPlan& c, TileCursor t) {
  using namespace cfg;
  constexpr int a_rows_per_pass = threads / a_row_vecs;
  const Vec16* ga = p.a + (u32)(t.kt * a_row_vecs) + c.a_src;
#pragma unroll
  for (int r = 0; r < (a_rows + a_rows_per_pass - 1) / a_rows_per_pass; ++r) {
    // Rows past m were zeroed once at kernel start and are never loaded.
    const int row = c.a_row + r * a_rows_per_pass;
    if (row < a_rows && row < p.m) cp_async_plain(stage + c.a_dst + 16 * r * a_rows_per_pass * a_row_vecs, ga);
    ga += c.a_step;
  }
}

__device__ __forceinline__ void fetch_tile(u32 stage, const Problem& p, const CopyPlan& c, TileCursor t, int tid, u64 policy, u32 bar) {
  fetch_weights(stage, p, c, t, tid, policy, bar);
  fetch_activations(stage, p, c, t);
}

// Shared-memory addresses of a warp's fragments within a stage: per-thread parts computed once, slab and
// m-block parts compile-time offsets.
struct FragmentAddresses {
  u32 b;       // this lane's B vector of slab 0
  u32 a;       // this lane's ldmatrix row of m-block 0 (row part only; the swizzled chunk is added per slab)
  u32 s;       // this lane's scale vector of scale row 0
  int a_swizzle, a_half;
};

__device__ __forceinline__ FragmentAddresses fragment_addresses(int warp_n, int lane) {
  using namespace cfg;
  FragmentAddresses f;
  f.b = 16 * (warp_n * 32 + lane);
  const int row = swap_ab > 0 ? (lane & 7) + (batch_blocks >= 2 ? 8 * (lane >> 4) : 0) : (lane & 15);
  f.a = 16 * (b_stage_vecs + row * a_row_vecs);
  f.a_swizzle = row & 7;
  f.a_half = swap_ab > 0 ? (lane >> 3) & 1 : lane >> 4;
  f.s = 16 * (b_stage_vecs + a_stage_vecs + warp_n * 8 + (lane >> 2));
  return f;
}

__device__ __forceinline__ u32 a_fragment_address(u32 stage, const FragmentAddresses& f, int slab, int m_block) {
  using namespace cfg;
  return stage + f.a + 16 * (m_block * 16 * a_row_vecs + ((2 * slab + f.a_half) ^ f.a_swizzle));
}

__device__ __forceinline__ void compute_tile(u32 stage, const FragmentAddresses& fa, float (&acc)[cfg::m_blocks][8][4], int warp_k) {
  using namespace cfg;
  // Small m: load every fragment of this warp's slabs up front so that the shared-memory latency
  // overlaps. Large m: one slab at a time, since the accumulators already fill the register file
  // and the tensor-core work of a slab hides the next slab's loads.
  constexpr int preload = m_blocks <= 2 ? slabs_per_warp : 1;
  static_assert(slabs_per_warp % preload == 0, "preload");
#pragma unroll
  for (int base = 0; base < slabs_per_warp; base += preload) {
    Vec16 bq[preload];
    u32 af[preload][m_blocks][4];
#pragma unroll
    for (int sl = 0; sl < preload; ++sl) {
      const int slab = warp_k * slabs_per_warp + base + sl;
      bq[sl] = lds128(stage + fa.b + 16 * slab * b_slab_vecs);
#pragma unroll
      for (int mb = 0; mb < m_blocks; ++mb) ldmatrix_x4(af[sl][mb], a_fragment_address(stage, fa, slab, mb));
    }

#pragma unroll
    for (int sl = 0; sl < preload; ++sl) {
      const int slab = warp_k * slabs_per_warp + base + sl;
      Vec16 sc = {0, 0, 0, 0};
      if constexpr (!per_channel) {
        const int srow = tile_k >= 16 * group_blocks ? slab / group_blocks : 0;
        sc = lds128(stage + fa.s + 16 * srow * s_row_vecs);
      }
      const u32 words[4] = {bq[sl].x, bq[sl].y, bq[sl].z, bq[sl].w};
      const u32 scales[4] = {sc.x, sc.y, sc.z, sc.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        BFrag f = dequant8(words[j]);
        if constexpr (!per_channel) {
          const u32 s0 = broadcast_half(scales[j], 0), s1 = broadcast_half(scales[j], 1);
          f.b0 = hmul2(f.b0, s0);
          f.b1 = hmul2(f.b1, s0);
          f.c0 = hmul2(f.c0, s1);
          f.c1 = hmul2(f.c1, s1);
        }
#pragma unroll
        for (int mb = 0; mb < m_blocks; ++mb) {
          mma_16816(acc[mb][2 * j], af[sl][mb], f.b0, f.b1);
          mma_16816(acc[mb][2 * j + 1], af[sl][mb], f.c0, f.c1);
        }
      }
    }
  }
}

// Small batches (at most 16 rows) swap the operands: a lane's 32-bit word already holds exactly the
// mma A fragment of a 16-column x 16-k weight tile (columns g and g+8, k rows 2t, 2t+1, 2t+8, 2t+9), so
// with the activations as the B operand one mma covers 16 columns for 8 batch rows: half the tensor
// instructions at m <= 8. Grouped scales are not multiplied into every weight; each run of slabs of one
// group accumulates sum (q - 8) * a exactly in FP32, and is then scaled once per column in FP32. The
// per-lane scale vector the packed layout provides (columns g + 8j) is exactly what the swapped C
// fragment (rows = columns g and g+8 of each 16-column tile) needs.
__device__ __forceinline__ void compute_tile_swapped(u32 stage, const FragmentAddresses& fa, float (&acc)[cfg::m_blocks][8][4], int warp_k) {
  using namespace cfg;
  Vec16 bq[slabs_per_warp];
  u32 xf[slabs_per_warp][m_blocks][4];  // per 16 batch rows: {b0, b1} of rows 0-7, then of rows 8-15
#pragma unroll
  for (int sl = 0; sl < slabs_per_warp; ++sl) {
    const int slab = warp_k * slabs_per_warp + sl;
    bq[sl] = lds128(stage + fa.b + 16 * slab * b_slab_vecs);
#pragma unroll
    for (int mb = 0; mb < m_blocks; ++mb) {
      if constexpr (batch_blocks >= 2)
        ldmatrix_x4(xf[sl][mb], a_fragment_address(stage, fa, slab, mb));
      else
        ldmatrix_x2(xf[sl][mb], a_fragment_address(stage, fa, slab, mb));
    }
  }

  float grp[batch_blocks > 0 ? batch_blocks : 1][4][4];
#pragma unroll
  for (int sl = 0; sl < slabs_per_warp; ++sl) {
    const int slab = warp_k * slabs_per_warp + sl;
    const bool run_start = sl == 0 || (!per_channel && slab % (per_channel ? 1 : group_blocks) == 0);
    const bool run_end = sl == slabs_per_warp - 1 || (!per_channel && (slab + 1) % (per_channel ? 1 : group_blocks) == 0);
    if constexpr (!per_channel) {
      if (run_start) {
#pragma unroll
        for (int bb = 0; bb < batch_blocks; ++bb)
#pragma unroll
          for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) grp[bb][j][e] = 0.0f;
      }
    }
    const u32 words[4] = {bq[sl].x, bq[sl].y, bq[sl].z, bq[sl].w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const BFrag f = dequant8(words[j]);
      const u32 a[4] = {f.b0, f.c0, f.b1, f.c1};
#pragma unroll
      for (int bb = 0; bb < batch_blocks; ++bb) {
        const u32 x0 = xf[sl][bb / 2][2 * (bb % 2)], x1 = xf[sl][bb / 2][2 * (bb % 2) + 1];
        if constexpr (per_channel)
          mma_16816(acc[bb / 2][4 * (bb % 2) + j], a, x0, x1);
        else
          mma_16816(grp[bb][j], a, x0, x1);
      }
    }
    if constexpr (!per_channel) {
      if (run_end) {
        const int srow = tile_k >= 16 * group_blocks ? slab / group_blocks : 0;
        const Vec16 sc = lds128(stage + fa.s + 16 * srow * s_row_vecs);
        const u32 sw[4] = {sc.x, sc.y, sc.z, sc.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float s_lo = half_to_float((u16)(sw[j] & 0xffff)), s_hi = half_to_float((u16)(sw[j] >> 16));
#pragma unroll
          for (int bb = 0; bb < batch_blocks; ++bb) {
            float* a4 = acc[bb / 2][4 * (bb % 2) + j];
            a4[0] += s_lo * grp[bb][j][0];
            a4[1] += s_lo * grp[bb][j][1];
            a4[2] += s_hi * grp[bb][j][2];
            a4[3] += s_hi * grp[bb][j][3];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Epilogue. The accumulators leave registers through a padded row-major FP32 tile in shared memory,
// one 16-row m-block at a time; from there all 256 threads work on whole Float4s, which keeps the
// register file free for the main loop and makes every global store coalesced.
// ---------------------------------------------------------------------------------------------
struct __align__(8) Float2 { float x, y; };

__device__ __forceinline__ void dump_m_block(float* red, const float (&acc)[cfg::m_blocks][8][4], int mb, int warp_n, int warp_k, int lane) {
  using namespace cfg;
  float* layer = red + warp_k * red_layer + (lane >> 2) * red_stride + warp_n * 64 + 2 * (lane & 3);
#pragma unroll
  for (int b = 0; b < 8; ++b) {
    *reinterpret_cast<Float2*>(layer + 8 * b) = Float2{acc[mb][b][0], acc[mb][b][1]};
    *reinterpret_cast<Float2*>(layer + 8 * red_stride + 8 * b) = Float2{acc[mb][b][2], acc[mb][b][3]};
  }
}

// Swapped layout: acc[bb / 2][4 (bb % 2) + j] holds columns 16j + g (e = 0, 1) and 16j + g + 8 (e = 2, 3) of
// the warp's slice for batch rows 8bb + 2t and 8bb + 2t + 1. Rows no batch block covers are written as zeros.
__device__ __forceinline__ void dump_swapped(float* red, const float (&acc)[cfg::m_blocks][8][4], int mb, int warp_n, int warp_k, int lane) {
  using namespace cfg;
  float* layer = red + warp_k * red_layer;
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int half = 0; half < red_rows / 8; ++half)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = warp_n * 64 + 16 * j + g, row = 8 * half + 2 * t;
      const bool live = 2 * mb + half < batch_blocks;
      const float* a4 = acc[mb][4 * half + j];
      layer[row * red_stride + col] = live ? a4[0] : 0.0f;
      layer[(row + 1) * red_stride + col] = live ? a4[1] : 0.0f;
      layer[row * red_stride + col + 8] = live ? a4[2] : 0.0f;
      layer[(row + 1) * red_stride + col + 8] = live ? a4[3] : 0.0f;
    }
}

// Sum of the k-stacked warp layers for Float4 number v of the m-block tile, always in layer order.
__device__ __forceinline__ Float4 sum_layers(const float* red, int v) {
  using namespace cfg;
  const int row = v / (tile_n / 4), c = 4 * (v % (tile_n / 4));
  Float4 s = *reinterpret_cast<const Float4*>(red + row * red_stride + c);
#pragma unroll
  for (int l = 1; l < warps_k; ++l) {
    const Float4 t = *reinterpret_cast<const Float4*>(red + l * red_layer + row * red_stride + c);
    s.x += t.x; s.y += t.y; s.z += t.z; s.w += t.w;
  }
  return s;
}

// Writes four finished sums (row `row` of the launch, columns c..c+3) to C as FP16.
__device__ __forceinline__ void store_c(const Problem& p, int row, int c, Float4 v) {
  using namespace cfg;
  if (row >= p.m) return;
  if constexpr (per_channel) {
    // Per-channel scales are packed in chunks of 32 columns; column w of a chunk sits at
    // 8 * ((w % 8) / 2) + 2 * (w / 8) + (w % 2), so columns c, c+1 and c+2, c+3 are two half2 words.
    const u16* s = reinterpret_cast<const u16*>(p.s);
    const int w = c & 31, base = (c & ~31) + 8 * ((w & 7) >> 1) + 2 * (w >> 3);
    const u32 s01 = *reinterpret_cast<const u32*>(s + base), s23 = *reinterpret_cast<const u32*>(s + base + 8);
    v.x *= half_to_float((u16)(s01 & 0xffff));
    v.y *= half_to_float((u16)(s01 >> 16));
    v.z *= half_to_float((u16)(s23 & 0xffff));
    v.w *= half_to_float((u16)(s23 >> 16));
  }
  u32* out = reinterpret_cast<u32*>(p.c + (size_t)row * p.n + c);
  asm volatile("st.global.v2.b32 [%0], {%1,%2};\n" ::"l"(out), "r"(pack_half2(v.x, v.y)), "r"(pack_half2(v.z, v.w)) : "memory");
}

// Stripe bookkeeping: CTA i owns tiles [first_tile(i), first_tile(i+1)). 32-bit on purpose (a 64-bit
// division is a subroutine call that costs registers); the launcher checks (total + 1) * ctas < 2^32.
__device__ __forceinline__ u32 first_tile(u32 cta, u32 total, u32 ctas) { return cta * total / ctas; }
__device__ __forceinline__ u32 owner_of(u32 tile, u32 total, u32 ctas) { return ((tile + 1) * ctas + total - 1) / total - 1; }

constexpr int reduce_batch = 4;  // workspace partials in flight per thread in the global reduction

extern "C" __global__ void __launch_bounds__(cfg::threads, cfg::ctas_per_sm) marlin_gemm(Problem p) {
  using namespace cfg;
  extern __shared__ Vec16 smem[];
  if (dynamic_smem_bytes() < (u32)(smem_vecs * 16)) asm volatile("trap;");

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int warp_n = warp % warps_n, warp_k = warp / warps_n;
  const int k_tiles = p.k / tile_k;
  const u32 total = (u32)(p.n / tile_n) * (u32)k_tiles;
  const u32 ctas = gridDim.x;
  const int begin = (int)first_tile(blockIdx.x, total, ctas);
  const int end = (int)first_tile(blockIdx.x + 1, total, ctas);
  if (begin >= end) return;
  const int my_first_col = begin / k_tiles;
  const u64 policy = make_evict_first_policy();
  const CopyPlan plan = make_copy_plan(p, tid);
  const FragmentAddresses frag = fragment_addresses(warp_n, lane);
  constexpr u32 stage_bytes = 16 * stage_vecs;
  const u32 ring = smem_addr(smem), ring_end = ring + stages * stage_bytes;
  __shared__ __align__(8) u64 stage_full[stages];  // TMA completion per stage (bulk weight copies only)
  const u32 bars = smem_addr(stage_full);
#if MARLIN_USE_BULK
  if (tid == 0) {
    for (int s = 0; s < stages; ++s) mbar_init(bars + 8 * s, 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
#endif

  float* red = reinterpret_cast<float*>(smem + stages * stage_vecs);
  __shared__ int last_arriver;

  // A rows past m are never loaded: zero them once in every stage (the mma reads them).
  for (int i = tid; i < stages * a_stage_vecs; i += threads) {
    const int stage = i / a_stage_vecs, v = i % a_stage_vecs;
    if (v / a_row_vecs >= p.m) smem[stage * stage_vecs + b_stage_vecs + v] = Vec16{0, 0, 0, 0};
  }

  // Prologue: the weights of the first STAGES-1 tiles (one commit group), then, once the previous grid has
  // finished, their activations (one group per stage). The extra, older group only makes the main loop's
  // wait_group<STAGES-2> stricter: tile i's group is still followed by exactly STAGES-2 newer ones.
  const TileCursor start = {my_first_col, begin - my_first_col * k_tiles};
  TileCursor next_fetch = start;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (begin + s < end) {
      fetch_weights(ring + s * stage_bytes, p, plan, next_fetch, tid, policy, bars + 8 * s);
      next_fetch.advance(k_tiles);
    }
  }
  cp_async_commit();
#if MARLIN_RELEASE_NEXT_FIRST
  allow_next_grid();
  wait_for_previous_grid();
#else
  wait_for_previous_grid();
  allow_next_grid();
#endif
  next_fetch = start;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (begin + s < end) {
      fetch_activations(ring + s * stage_bytes, p, plan, next_fetch);
      next_fetch.advance(k_tiles);
    }
    cp_async_commit();
  }

  float acc[m_blocks][8][4];
#pragma unroll
  for (int mb = 0; mb < m_blocks; ++mb)
#pragma unroll
    for (int b = 0; b < 8; ++b)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[mb][b][e] = 0.0f;

  int seg_first_kt = start.kt;
  TileCursor current = start;
  u32 read_stage = ring, write_stage = ring + (stages - 1) * stage_bytes;
  int read_slot = 0, write_slot = stages - 1;
  u32 read_phase = 0;
  for (int tile = begin; tile < end; ++tile) {
    cp_async_wait<stages - 2>();
    __syncthreads();
    if (tile + stages - 1 < end) {
      fetch_tile(write_stage, p, plan, next_fetch, tid, policy, bars + 8 * write_slot);
      next_fetch.advance(k_tiles);
    }
    cp_async_commit();
    write_stage = write_stage + stage_bytes == ring_end ? ring : write_stage + stage_bytes;
    write_slot = write_slot + 1 == stages ? 0 : write_slot + 1;
#if MARLIN_USE_BULK
    mbar_wait(bars + 8 * read_slot, read_phase);
#endif
    if (++read_slot == stages) { read_slot = 0; read_phase ^= 1; }

    if constexpr (!MARLIN_DEBUG_SKIP_COMPUTE) {
      if constexpr (swap_ab > 0)
        compute_tile_swapped(read_stage, frag, acc, warp_k);
      else
        compute_tile(read_stage, frag, acc, warp_k);
    }
    read_stage = read_stage + stage_bytes == ring_end ? ring : read_stage + stage_bytes;

    const int col = current.col, kt = current.kt;
    current.advance(k_tiles);
    if (kt != k_tiles - 1 && tile != end - 1) continue;

    // ---- end of this CTA's part of column tile `col` ----
    const bool whole_column = seg_first_kt == 0 && kt == k_tiles - 1;
    const int slot_index = col == my_first_col ? 0 : 1;
    Float4* mine = p.workspace + ((size_t)blockIdx.x * 2 + slot_index) * (part_floats / 4);
#pragma unroll
    for (int mb = 0; mb < m_blocks; ++mb) {
      if constexpr (swap_ab > 0)
        dump_swapped(red, acc, mb, warp_n, warp_k, lane);
      else
        dump_m_block(red, acc, mb, warp_n, warp_k, lane);
      __syncthreads();
#pragma unroll
      for (int r = 0; r < tile_passes; ++r) {
        const int v = tid + r * threads;
        if (tile_vecs4 % threads != 0 && v >= tile_vecs4) break;
        const Float4 sum = sum_layers(red, v);
        if (whole_column)
          store_c(p, mb * 16 + v / (tile_n / 4), col * tile_n + 4 * (v % (tile_n / 4)), sum);
        else
          store_cg(mine + mb * tile_vecs4 + v, sum);
      }
      __syncthreads();
    }

    if (!whole_column) {
      // Split column: the last CTA to publish its partial sums all of them, in CTA order.
      fence_gpu();
      __syncthreads();
      const u32 col_first = (u32)col * (u32)k_tiles;
      const int first_cta = (int)owner_of(col_first, total, ctas);
      const int last_cta = (int)owner_of(col_first + k_tiles - 1, total, ctas);
      if (tid == 0) {
        const int arrived = atomic_add_gpu(p.counters + col, 1);
        last_arriver = arrived == last_cta - first_cta;
        if (last_arriver) store_relaxed(p.counters + col, 0);
      }
      __syncthreads();
      if (last_arriver) {
        fence_gpu();
        for (int v = tid; v < m_blocks * tile_vecs4; v += threads) {
          // The partials are L2 round trips: issue reduce_batch of them before adding any, so that a column
          // split over many CTAs (small layers) costs a few round trips, not one per CTA. Still summed in CTA order.
          Float4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
          for (int cta0 = first_cta; cta0 <= last_cta; cta0 += reduce_batch) {
            Float4 t[reduce_batch];
#pragma unroll
            for (int u = 0; u < reduce_batch; ++u) {
              const int cta = cta0 + u;
              if (cta > last_cta) break;
              const int cta_first_col = (int)(first_tile(cta, total, ctas) / k_tiles);
              t[u] = load_cg(p.workspace + ((size_t)cta * 2 + (col == cta_first_col ? 0 : 1)) * (part_floats / 4) + v);
            }
#pragma unroll
            for (int u = 0; u < reduce_batch; ++u) {
              if (cta0 + u > last_cta) break;
              sum.x += t[u].x; sum.y += t[u].y; sum.z += t[u].z; sum.w += t[u].w;
            }
          }
          const int mb = v / tile_vecs4, w = v % tile_vecs4;
          store_c(p, mb * 16 + w / (tile_n / 4), col * tile_n + 4 * (w % (tile_n / 4)), sum);
        }
      }
    }

#pragma unroll
    for (int mb = 0; mb < m_blocks; ++mb)
#pragma unroll
      for (int b = 0; b < 8; ++b)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mb][b][e] = 0.0f;
    seg_first_kt = 0;
  }
  cp_async_wait<0>();
}
