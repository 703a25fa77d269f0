// marlin_wgmma.cu — FP16 x INT4 matrix multiply for wide batches on Hopper (sm_90a): C[m][n] = A[m][k] * dequant(B)[k][n].
//
// Why a second dense kernel
// -------------------------
// From a few dozen rows on, the product stops being a pure weight stream: every weight is used by tens to hundreds
// of rows, and the tensor cores set the pace. marlin_dense.cu issues mma.sync (m16n8k16), which on Hopper reaches
// only about two thirds of the tensor cores' rate and covers at most 64 rows per launch, so a large batch re-reads
// every weight once per 64 rows. This kernel feeds the warpgroup-wide wgmma.mma_async instead and covers up to 128
// rows per launch. Everything about the data stays Marlin's: the same packed words, the same scale permutation, the
// same stripe partition and last-arriver reduction as marlin_dense.cu.
//
// The trick that makes INT4 weights fit wgmma
// -------------------------------------------
// wgmma wants its B operand in shared memory in a fixed (swizzled) layout, but its A operand may come from registers,
// and a warp's part of the register A operand is laid out exactly like the A fragment of mma.m16n8k16. A packed
// Marlin word already holds that fragment for a 16-column x 16-k weight tile (columns g and g+8, k rows 2t, 2t+1,
// 2t+8, 2t+9; see marlin_dense.cu's swapped operands). So the operands swap: the weights, dequantised in registers,
// are the M = 64 side (four warps x 16 output columns), and the activations, copied
// into shared memory in the 128-byte-swizzled K-major layout the wgmma descriptor describes, are the N side (the
// batch rows: N = 32, 64 or 128). The accumulator of one wgmma is then 64 output columns x N rows.
//
// Data layout
//  * B is int32 [k/16][2n] in Marlin's layout (64-column chunks of 128 words per 16-k slab; word 4t + j of a chunk
//    is lane t's word of 16-column tile j). Scales are FP16 [k/g][n] or [1][n], permuted as marlin_dense.cu reads them.
//  * A is FP16 row-major [m][k], C FP16 row-major [m][n]. A launch covers at most MARLIN_ROWS rows; rows past m are
//    zeroed once in shared memory, never loaded and never stored.
//
// Tiles, warps and the pipeline
//  * A CTA tile is 256 output columns x MARLIN_TILE_K k. Two warpgroups (256 threads) split the columns: warp w of
//    warpgroup h takes half (w % 2) of 64-column chunk 2h + w / 2, i.e. tiles j = 2 (w % 2) and 2 (w % 2) + 1 of
//    that chunk, 8 bytes of each lane's 16-byte Marlin vector. Per 16-k slab a warpgroup issues two wgmmas, one per
//    tile j, each 64 columns x N rows, so each warp dequantises 2 words per slab: the dequantisation (a dozen integer
//    and FP16 instructions per word) stays far below the tensor-core time of the slab.
//  * The (n/256 column tiles) x (k/TILE_K k tiles) space is cut into gridDim.x contiguous stripes, one per CTA, as
//    in marlin_dense.cu; a column tile split between CTAs is summed by the last to arrive, in CTA order, so results
//    are bitwise reproducible.
//  * Each tile's weights, scales and activations go into a ring of STAGES shared-memory buffers with cp.async;
//    STAGES-2 tiles are in flight, because the stage a tile is read from is only refilled two tiles later: the last
//    wgmmas of a tile may still be reading it while the next tile starts, so no tile has to drain the tensor cores. Activations land in 128-byte swizzle atoms (N rows x 64 k, chunk c of row r at
//    c ^ (r % 8)), which is both what the descriptor describes and conflict-free for the copies.
//  * cp.async writes through the generic proxy and wgmma reads through the async proxy, so every thread fences the
//    proxies after its copies complete and before the barrier that publishes the stage. wgmmas of a slab run while
//    the next slab is dequantised (two register buffers, wait_group 1 before a buffer is rewritten, across tile
//    boundaries too), so by the barrier of tile t every wgmma of tile t-2 has completed and its stage may be refilled.
//  * Grouped scales (up to 64 rows, groups no deeper than a tile): each group's products are summed by its own chain of
//    wgmmas into a second set of FP32 accumulators (the chain's first wgmma starts from zero), and once the chain has
//    completed the sums are scaled per column and added to the running ones. Scaling the dequantised FP16 weights
//    instead, as the reference kernel does, costs four FP16 multiplies per packed word: with the dequantisation that
//    made the kernel issue-bound at 16 rows (H200, peak shape, m = 16: 0.241 ms with them, 0.213 ms without). The
//    price is one wait for the tensor cores per group, which the other warpgroups on the SM cover; at 128 rows the
//    second set would not fit the registers (MARLIN_FP32_SCALES=2 measured 1.5x slower there), so it keeps FP16 scaling,
//    as does a tile shallower than a group.
//  * Accumulators leave registers straight to C (a column this CTA covers whole) or to the CTA's FP32 workspace
//    slot in the accumulator's own register order (each thread writes and reads back only its own values, so no
//    shared-memory transpose is needed).
//  * Programmatic dependent launch: the weights and scales of the first STAGES-2 tiles are requested before
//    griddepcontrol.wait, the activations after it, as in marlin_dense.cu.

#ifndef MARLIN_ROWS                  // batch rows per launch = wgmma N (16, 32, 64 or 128; 16 needs a 128-deep tile)
#define MARLIN_ROWS 128
#endif
#ifndef MARLIN_TILE_K
#define MARLIN_TILE_K 128
#endif
#ifndef MARLIN_STAGES
#define MARLIN_STAGES 3
#endif
#ifndef MARLIN_GROUP_BLOCKS          // group size / 16; 0 = per-output-channel scales
#define MARLIN_GROUP_BLOCKS 8
#endif
#ifndef MARLIN_CTAS_PER_SM           // resident CTAs per SM the register budget is sized for (1 or 2)
#define MARLIN_CTAS_PER_SM 1
#endif
#ifndef MARLIN_FP32_SCALES           // grouped scales on per-group FP32 sums (g <= TILE_K): 0 never, 1 up to 64 rows, 2 at any rows
#define MARLIN_FP32_SCALES 1
#endif
#ifndef MARLIN_FRAG_BUFFERS          // slabs of wgmmas a warpgroup keeps in flight (2 or 4 register buffers of fragments)
#define MARLIN_FRAG_BUFFERS 2
#endif
// Development switches for timing experiments (results are wrong when set): leave out the dequantisation and tensor-core
// work, or the weight or activation copies, to see which side bounds the kernel.
#ifndef MARLIN_DEBUG_SKIP_COMPUTE
#define MARLIN_DEBUG_SKIP_COMPUTE 0
#endif
#ifndef MARLIN_DEBUG_SKIP_B_LOADS
#define MARLIN_DEBUG_SKIP_B_LOADS 0
#endif
#ifndef MARLIN_DEBUG_SKIP_A_LOADS
#define MARLIN_DEBUG_SKIP_A_LOADS 0
#endif

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

struct __align__(16) Vec16 { u32 x, y, z, w; };
struct __align__(8) Float2 { float x, y; };

namespace cfg {
constexpr int threads = 256;
constexpr int rows = MARLIN_ROWS;
constexpr int tile_n = 256;
constexpr int tile_k = MARLIN_TILE_K;
constexpr int stages = MARLIN_STAGES;
constexpr int prefetch = stages - 2;                     // tiles in flight ahead of the one computed
constexpr int ctas_per_sm = MARLIN_CTAS_PER_SM;
constexpr int frag_buffers = MARLIN_FRAG_BUFFERS;
constexpr int group_blocks = MARLIN_GROUP_BLOCKS;
constexpr bool per_channel = group_blocks == 0;
constexpr int slabs = tile_k / 16;
// Grouped scales applied to per-group FP32 sums (one wgmma chain per group, started with scale-d = 0, folded into the
// running sums once it completes) instead of to every dequantised weight: four FP16 multiplies per packed word become
// a few FP32 FMAs per group and thread. Needs whole groups inside a tile and the registers for a second accumulator set.
constexpr bool fp32_scales = MARLIN_FP32_SCALES && group_blocks > 0 && tile_k % (16 * (group_blocks > 0 ? group_blocks : 1)) == 0 &&
                               (rows <= 64 || MARLIN_FP32_SCALES == 2);
constexpr int atoms = tile_k / 64;                       // 128-byte swizzle atoms of activations per stage
constexpr u32 atom_bytes = rows * 128;
constexpr u32 a_bytes = atoms * atom_bytes;
constexpr u32 b_slab_bytes = tile_n * 8;                 // 16 k x 256 columns x 4 bits
constexpr u32 b_bytes = slabs * b_slab_bytes;
constexpr int s_rows = per_channel ? 0 : (tile_k >= 16 * group_blocks ? tile_k / (16 * group_blocks) : 1);
constexpr u32 s_row_bytes = tile_n * 2;
constexpr u32 s_bytes = s_rows * s_row_bytes;
constexpr u32 stage_bytes = (a_bytes + b_bytes + s_bytes + 1023) / 1024 * 1024;  // swizzle atoms need 1024-byte alignment
constexpr u32 smem_bytes = stages * stage_bytes + 1024;  // + slack to align the ring
constexpr int acc_floats = rows / 2;                     // per thread, per wgmma
constexpr int pairs = rows / 2;                          // Float2s per thread in a workspace slot
constexpr int b_copies = (int)(b_bytes / 16) / threads;
constexpr int a_copies = rows * atoms * 8 / threads;

static_assert(rows == 16 || rows == 32 || rows == 64 || rows == 128, "rows");
static_assert(tile_k == 64 || tile_k == 128, "tile_k");
static_assert(stages >= 3 && stages <= 6, "stages");
static_assert(ctas_per_sm == 1 || ctas_per_sm == 2, "ctas_per_sm");
static_assert((frag_buffers == 2 || frag_buffers == 4) && slabs % frag_buffers == 0, "a buffer's last user is the same slab of the previous round, across tiles too");
static_assert(per_channel || group_blocks == 2 || group_blocks == 4 || group_blocks == 8, "group size");
static_assert(b_copies * threads * 16 == (int)b_bytes, "weights split evenly over the threads");
static_assert(a_copies >= 1 && a_copies * threads == rows * atoms * 8, "activations split evenly over the threads");
static_assert(s_rows * 32 <= threads, "a tile's scale rows are copied in one pass");
}  // namespace cfg

__device__ __forceinline__ u32 smem_addr(const void* p) {
  u32 r;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(r) : "l"(p));
  return r;
}

__device__ __forceinline__ void cp_async(u32 dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int n>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(n)); }

// Makes this thread's completed generic-proxy writes to shared memory (cp.async, plain stores) visible to the
// async proxy that wgmma reads its shared-memory operand through.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

__device__ __forceinline__ void lds64(u32 (&v)[2], u32 addr) {
  asm volatile("ld.shared.v2.u32 {%0,%1}, [%2];\n" : "=r"(v[0]), "=r"(v[1]) : "r"(addr));
}

__device__ __forceinline__ u32 dynamic_smem_bytes() {
  u32 r;
  asm("mov.u32 %0, %%dynamic_smem_size;\n" : "=r"(r));
  return r;
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int n>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(n) : "memory"); }

// Shared-memory matrix descriptor of a K-major operand in 128-byte swizzle atoms: start address, leading byte offset
// (unused for swizzled K-major layouts), stride between 8-row groups (1024 bytes), layout type 1 (128-byte swizzle);
// addresses and offsets in 16-byte units.
__device__ __forceinline__ u64 swizzled_descriptor(u32 addr) {
  return (u64)((addr & 0x3ffff) >> 4) | ((u64)1 << 16) | ((u64)(1024 >> 4) << 32) | ((u64)1 << 62);
}

// wgmma m64nNk16, FP32 += FP16 (A: 4 registers per thread) x FP16 (B: shared memory, K-major).
__device__ __forceinline__ void wgmma_n16(int accumulate, float (&d)[8], const u32 (&a)[4], u64 desc) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %13, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, accumulate, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

__device__ __forceinline__ void wgmma_n32(int accumulate, float (&d)[16], const u32 (&a)[4], u64 desc) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %21, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, {%16, %17, %18, %19}, %20, accumulate, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

__device__ __forceinline__ void wgmma_n64(int accumulate, float (&d)[32], const u32 (&a)[4], u64 desc) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, accumulate, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

__device__ __forceinline__ void wgmma_n128(int accumulate, float (&d)[64], const u32 (&a)[4], u64 desc) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %69, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, accumulate, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}


#if MARLIN_ROWS == 16
#define WGMMA wgmma_n16
#elif MARLIN_ROWS == 32
#define WGMMA wgmma_n32
#elif MARLIN_ROWS == 64
#define WGMMA wgmma_n64
#else
#define WGMMA wgmma_n128
#endif

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
__device__ __forceinline__ float half_to_float(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;\n" : "=f"(f) : "h"(h));
  return f;
}
__device__ __forceinline__ u16 float_to_half(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;\n" : "=h"(h) : "f"(f));
  return h;
}

// One packed word = 8 codes = the register A fragment of one 16-column x 16-k weight tile, dequantised with the
// FP16 "1024 + x" magic number: {column g, k 2t..2t+1}, {column g+8, k 2t..}, {column g, k 2t+8..}, {column g+8, k 2t+8..}.
__device__ __forceinline__ void dequant_fragment(u32 q, u32 (&a)[4]) {
  const u32 lo_mask = 0x000f000f, hi_mask = 0x00f000f0, magic = 0x64006400;  // 1024 in both halves
  const u32 lo_bias = 0x64086408;                                            // 1032 = 1024 + 8 (zero point)
  const u32 hi_scale = 0x2c002c00, hi_bias = 0xd480d480;                     // 1/16 and -72 = -(1024/16 + 8)
  const u32 lo = and_or(q, lo_mask, magic), hi = and_or(q, hi_mask, magic);
  q >>= 8;
  const u32 lo2 = and_or(q, lo_mask, magic), hi2 = and_or(q, hi_mask, magic);
  a[0] = hsub2(lo, lo_bias);
  a[2] = hfma2(hi, hi_scale, hi_bias);
  a[1] = hsub2(lo2, lo_bias);
  a[3] = hfma2(hi2, hi_scale, hi_bias);
}

__device__ __forceinline__ void fence_gpu() { asm volatile("membar.gl;\n" ::: "memory"); }
__device__ __forceinline__ int atomic_add_gpu(int* p, int v) {
  int old;
  asm volatile("atom.global.add.s32 %0, [%1], %2;\n" : "=r"(old) : "l"(p), "r"(v) : "memory");
  return old;
}
__device__ __forceinline__ void store_relaxed(int* p, int v) { asm volatile("st.global.s32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory"); }
__device__ __forceinline__ Float2 load_cg(const Float2* p) {
  Float2 v;
  asm volatile("ld.global.cg.v2.f32 {%0,%1}, [%2];\n" : "=f"(v.x), "=f"(v.y) : "l"(p));
  return v;
}
__device__ __forceinline__ void store_cg(Float2* p, Float2 v) {
  asm volatile("st.global.cg.v2.f32 [%0], {%1,%2};\n" ::"l"(p), "f"(v.x), "f"(v.y) : "memory");
}

__device__ __forceinline__ void wait_for_previous_grid() { asm volatile("griddepcontrol.wait;\n" ::: "memory"); }
__device__ __forceinline__ void allow_next_grid() { asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory"); }

// Stripe bookkeeping, as in marlin_dense.cu: CTA i owns tiles [first_tile(i), first_tile(i+1)).
__device__ __forceinline__ u32 first_tile(u32 cta, u32 total, u32 ctas) { return cta * total / ctas; }
__device__ __forceinline__ u32 owner_of(u32 tile, u32 total, u32 ctas) { return ((tile + 1) * ctas + total - 1) / total - 1; }

struct Problem {
  const Vec16* a;       // [m][k] fp16 (the rows of this launch)
  const Vec16* b;       // [k/16][2n] int32
  const Vec16* s;       // packed scales
  u16* c;               // [m][n] fp16
  Float2* workspace;    // 2 slots per CTA, each rows * 256 floats
  int* counters;        // n / 256 ints, zero on entry, zero on exit
  int m, n, k;
};

struct TileCursor {
  int col, kt;
  __device__ __forceinline__ void advance(int k_tiles) {
    if (++kt == k_tiles) { kt = 0; ++col; }
  }
};

// Where this thread's copies go, computed once per CTA.
struct CopyPlan {
  u32 b_src;   // 16-byte-vector offset of its first weight vector from a tile's first one
  u32 a_src;   // the same for activations, from row 0, column 0 of the tile
  u32 a_dst;   // byte offset of its first activation chunk in a stage (swizzled)
  int a_row;   // first activation row it copies (it copies a_row + 32 r; 16 rows: row a_row of atom a_atom + 2 r)
  int a_atom;
  u32 s_src;   // its scale vector (threads below s_rows * 32)
};

__device__ __forceinline__ CopyPlan make_copy_plan(const Problem& p, int tid) {
  CopyPlan c;
  c.b_src = (u32)(tid / 128) * ((u32)p.n / 2) + (u32)(tid % 128);
  c.a_row = (tid / 8) % cfg::rows;
  c.a_atom = (tid / 8) / cfg::rows;
  const int chunk = tid % 8;
  c.a_src = (u32)c.a_row * ((u32)p.k / 8) + (u32)chunk;
  c.a_dst = (u32)c.a_row * 128 + (u32)((chunk ^ (c.a_row & 7)) << 4);
  c.s_src = (u32)(tid / 32) * ((u32)p.n / 8) + (u32)(tid % 32);
  return c;
}

// Weights and scales of a tile: nothing an earlier kernel writes, so the prologue requests them before waiting.
__device__ __forceinline__ void fetch_weights(u32 stage, const Problem& p, const CopyPlan& c, TileCursor t, int tid) {
  using namespace cfg;
  const Vec16* gb = p.b + (size_t)(t.kt * slabs) * ((u32)p.n / 2) + (u32)(t.col * 128) + c.b_src;
#pragma unroll
  for (int r = 0; r < b_copies; ++r)
    if (!MARLIN_DEBUG_SKIP_B_LOADS) cp_async(stage + a_bytes + 16 * (tid + r * threads), gb + (size_t)r * 2 * ((u32)p.n / 2));
  if constexpr (!per_channel) {
    if (tid < s_rows * 32) {
      const int first_group = (t.kt * tile_k) / (16 * (group_blocks > 0 ? group_blocks : 1));
      cp_async(stage + a_bytes + b_bytes + 16 * tid, p.s + (size_t)first_group * ((u32)p.n / 8) + (u32)(t.col * 32) + c.s_src);
    }
  }
}

// Activations of a tile (written by the previous kernel), into the swizzle atoms.
__device__ __forceinline__ void fetch_activations(u32 stage, const Problem& p, const CopyPlan& c, TileCursor t) {
  using namespace cfg;
  const Vec16* ga = p.a + (u32)(t.kt * (tile_k / 8)) + c.a_src;
#pragma unroll
  for (int r = 0; r < a_copies; ++r) {
    const int row_offset = (32 * r) % rows, atom = (32 * r) / rows + c.a_atom;
    if (!MARLIN_DEBUG_SKIP_A_LOADS && c.a_row + row_offset < p.m)
      cp_async(stage + atom * atom_bytes + c.a_dst + row_offset * 128, ga + (size_t)row_offset * ((u32)p.k / 8) + atom * 8);
  }
}

// One tile of this warp. Per slab: two fragments, then two wgmmas; the next slab's fragments are built while the
// previous slab's wgmmas run (two register buffers, wait_group 1), and the next slab's words are read from shared
// memory one slab ahead. The last slab's wgmmas may still run when this returns: wgmma_wait<0>() before reading the
// accumulators.
__device__ __forceinline__ void pin(float (&acc)[2][cfg::acc_floats]) {
  // An empty asm that "uses and redefines" every accumulator, only where no wgmma is in flight: keeps the compiler
  // from moving accumulators between registers across the epilogue (a move of a register that a wgmma in flight
  // writes would make ptxas serialise every wgmma).
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < cfg::acc_floats; ++e) asm volatile("" : "+f"(acc[j][e])::"memory");
}

__device__ __forceinline__ void compute_tile(u32 stage, u32 b_lane, u32 s_lane, float (&acc)[2][cfg::acc_floats],
                                             float (&grp)[2][cfg::acc_floats]) {
  using namespace cfg;
  constexpr int gb = group_blocks > 0 ? group_blocks : 1;
  u32 scales[s_rows > 0 ? s_rows : 1][2];
  if constexpr (!per_channel) {
#pragma unroll
    for (int r = 0; r < s_rows; ++r) lds64(scales[r], stage + s_lane + r * s_row_bytes);
  }
  u32 words[2][2];
  lds64(words[0], stage + b_lane);
  const u64 desc0 = swizzled_descriptor(stage);
  u32 frag[frag_buffers][2][4];
#pragma unroll
  for (int s = 0; s < slabs; ++s) {
    const int buf = s % frag_buffers;
    if (s + 1 < slabs) lds64(words[(s + 1) & 1], stage + b_lane + (s + 1) * b_slab_bytes);
    // The wgmmas frag_buffers slabs back (this tile's or the previous one's), which read frag[buf], are done.
    wgmma_wait<frag_buffers - 1>();
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      dequant_fragment(words[s & 1][j], frag[buf][j]);
      if constexpr (!per_channel && !fp32_scales) {
        const int r = tile_k >= 16 * gb ? s / gb : 0;
        const u32 s_lo = broadcast_half(scales[r][j], 0), s_hi = broadcast_half(scales[r][j], 1);
        frag[buf][j][0] = hmul2(frag[buf][j][0], s_lo);
        frag[buf][j][2] = hmul2(frag[buf][j][2], s_lo);
        frag[buf][j][1] = hmul2(frag[buf][j][1], s_hi);
        frag[buf][j][3] = hmul2(frag[buf][j][3], s_hi);
      }
    }
    // Slab s: atom s / 4, 32 bytes (16 k) per slab inside the atom (the hardware applies the swizzle).
    const u64 desc = desc0 + (u64)(((s / 4) * atom_bytes + (s % 4) * 32) >> 4);
    wgmma_fence();
    if constexpr (fp32_scales) {
      WGMMA(s % gb != 0, grp[0], frag[buf][0], desc);   // a group's first slab starts its sums from zero
      WGMMA(s % gb != 0, grp[1], frag[buf][1], desc);
    } else {
      WGMMA(1, acc[0], frag[buf][0], desc);
      WGMMA(1, acc[1], frag[buf][1], desc);
    }
    wgmma_commit();
    if constexpr (fp32_scales) {
      if (s % gb == gb - 1) {
        // End of a group: wait for its wgmmas, then add its sums, scaled per column, to the running ones. Rows g (e % 4 < 2)
        // of a wgmma are column g of the tile (the low scale), rows g + 8 column g + 8 (the high one).
        wgmma_wait<0>();
        const int r = s / gb;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const float s_lo = half_to_float((u16)(scales[r][j] & 0xffffu)), s_hi = half_to_float((u16)(scales[r][j] >> 16));
#pragma unroll
          for (int e = 0; e < acc_floats; ++e) acc[j][e] += (e % 4 < 2 ? s_lo : s_hi) * grp[j][e];
        }
      }
    }
  }
}

// Output column of accumulator acc[j][4i + e] of this thread: rows g (e < 2) and g + 8 (e >= 2) of wgmma j's 64-row A
// are columns 16 (2 half + j) + g (+ 8) of the warp's 64-column chunk; its batch rows are 8i + 2t + (e & 1).
__device__ __forceinline__ void store_tile(const Problem& p, const float (&acc)[2][cfg::acc_floats], int col, int chunk, int half, int lane) {
  using namespace cfg;
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    const int c0 = col * tile_n + chunk * 64 + 16 * (2 * half + j) + g;
    float s0 = 1.0f, s1 = 1.0f;
    if constexpr (per_channel) {
      // Per-channel scales are packed in 32-column chunks: column w of a chunk sits at 8((w % 8) / 2) + 2(w / 8) + (w % 2).
      const u16* s = reinterpret_cast<const u16*>(p.s);
      const int w0 = c0 & 31, w1 = (c0 + 8) & 31;
      s0 = half_to_float(s[(c0 & ~31) + 8 * ((w0 & 7) >> 1) + 2 * (w0 >> 3) + (w0 & 1)]);
      s1 = half_to_float(s[((c0 + 8) & ~31) + 8 * ((w1 & 7) >> 1) + 2 * (w1 >> 3) + (w1 & 1)]);
    }
    // One 64-bit address per pair of rows, the rest constant offsets: the epilogue must not crowd out the accumulators.
    u16* out = p.c + (size_t)(2 * t) * p.n + c0;
    const size_t eight_rows = (size_t)8 * p.n;
#pragma unroll
    for (int i = 0; i < rows / 8; ++i, out += eight_rows) {
      const int row = 8 * i + 2 * t;
      if (row < p.m) {
        out[0] = float_to_half(acc[j][4 * i] * s0);
        out[8] = float_to_half(acc[j][4 * i + 2] * s1);
      }
      if (row + 1 < p.m) {
        out[p.n] = float_to_half(acc[j][4 * i + 1] * s0);
        out[p.n + 8] = float_to_half(acc[j][4 * i + 3] * s1);
      }
    }
  }
}

extern "C" __global__ void __launch_bounds__(cfg::threads, cfg::ctas_per_sm) marlin_wgmma(Problem p) {
  using namespace cfg;
  extern __shared__ __align__(16) unsigned char smem[];
  if (dynamic_smem_bytes() < smem_bytes) asm volatile("trap;");

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int chunk = 2 * (warp / 4) + ((warp % 4) >> 1), half = warp & 1;
  const int k_tiles = p.k / tile_k;
  const u32 total = (u32)(p.n / tile_n) * (u32)k_tiles;
  const u32 ctas = gridDim.x;
  const int begin = (int)first_tile(blockIdx.x, total, ctas);
  const int end = (int)first_tile(blockIdx.x + 1, total, ctas);
  if (begin >= end) return;
  const int my_first_col = begin / k_tiles;
  const u32 raw = smem_addr(smem);
  const u32 ring = (raw + 1023u) & ~1023u, ring_end = ring + stages * stage_bytes;
  unsigned char* ring_ptr = smem + (ring - raw);
  const CopyPlan plan = make_copy_plan(p, tid);
  const u32 b_lane = a_bytes + 16 * (chunk * 32 + lane) + 8 * half;
  const u32 s_lane = a_bytes + b_bytes + 16 * (chunk * 8 + (lane >> 2)) + 8 * half;
  __shared__ int last_arriver;

  // Activation rows past m are never loaded: zero them once in every stage (the wgmmas read them).
  if (p.m < rows) {
    for (int i = tid; i < stages * atoms * rows * 8; i += threads) {
      const int row = (i / 8) % rows, atom = (i / (8 * rows)) % atoms, stage = i / (8 * rows * atoms);
      if (row >= p.m) *reinterpret_cast<Vec16*>(ring_ptr + stage * stage_bytes + atom * atom_bytes + row * 128 + (i % 8) * 16) = Vec16{0, 0, 0, 0};
    }
  }

  const TileCursor start = {my_first_col, begin - my_first_col * k_tiles};
  TileCursor next_fetch = start;
#pragma unroll
  for (int s = 0; s < prefetch; ++s) {
    if (begin + s < end) {
      fetch_weights(ring + s * stage_bytes, p, plan, next_fetch, tid);
      next_fetch.advance(k_tiles);
    }
  }
  cp_async_commit();
  allow_next_grid();
  wait_for_previous_grid();
  next_fetch = start;
#pragma unroll
  for (int s = 0; s < prefetch; ++s) {
    if (begin + s < end) {
      fetch_activations(ring + s * stage_bytes, p, plan, next_fetch);
      next_fetch.advance(k_tiles);
    }
    cp_async_commit();
  }

  float acc[2][acc_floats], grp[2][acc_floats];
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int e = 0; e < acc_floats; ++e) acc[j][e] = grp[j][e] = 0.0f;

  int seg_first_kt = start.kt;
  TileCursor current = start;
  u32 read_stage = ring, write_stage = ring + prefetch * stage_bytes;
  for (int tile = begin; tile < end; ++tile) {
    // Groups: the prologue's weights, then one per tile; tile `tile`'s is followed by prefetch - 1 newer ones.
    cp_async_wait<prefetch - 1>();
    fence_proxy_async();
    __syncthreads();   // every wgmma of tile - 2 completed before any thread passed tile - 1's first wait_group 1
    if (tile + prefetch < end) {
      fetch_weights(write_stage, p, plan, next_fetch, tid);
      fetch_activations(write_stage, p, plan, next_fetch);
      next_fetch.advance(k_tiles);
    }
    cp_async_commit();
    write_stage = write_stage + stage_bytes == ring_end ? ring : write_stage + stage_bytes;

    if (!MARLIN_DEBUG_SKIP_COMPUTE) compute_tile(read_stage, b_lane, s_lane, acc, grp);
    read_stage = read_stage + stage_bytes == ring_end ? ring : read_stage + stage_bytes;

    const int col = current.col, kt = current.kt;
    current.advance(k_tiles);
    if (kt != k_tiles - 1 && tile != end - 1) continue;

    // ---- end of this CTA's part of column tile `col` ----
    wgmma_wait<0>();
    pin(acc);
    const bool whole_column = seg_first_kt == 0 && kt == k_tiles - 1;
    if (whole_column) {
      store_tile(p, acc, col, chunk, half, lane);
    } else {
      // Split column: publish this CTA's partial in register order; the last CTA to arrive sums all partials in CTA order.
      const int slot_index = col == my_first_col ? 0 : 1;
      Float2* mine = p.workspace + ((size_t)blockIdx.x * 2 + slot_index) * (pairs * threads) + tid;
#pragma unroll
      for (int f = 0; f < pairs; ++f) {
        const int j = f / (acc_floats / 2), e = 2 * (f % (acc_floats / 2));
        store_cg(mine + f * threads, Float2{acc[j][e], acc[j][e + 1]});
      }
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
#pragma unroll
        for (int j = 0; j < 2; ++j)
#pragma unroll
          for (int e = 0; e < acc_floats; ++e) acc[j][e] = 0.0f;
        for (int cta = first_cta; cta <= last_cta; ++cta) {
          const int cta_first_col = (int)(first_tile(cta, total, ctas) / k_tiles);
          const Float2* part = p.workspace + ((size_t)cta * 2 + (col == cta_first_col ? 0 : 1)) * (pairs * threads) + tid;
          // 8 loads in flight at a time: the accumulators already hold most of the register file.
#pragma unroll
          for (int f0 = 0; f0 < pairs; f0 += 8) {
            Float2 v[8];
#pragma unroll
            for (int u = 0; u < 8; ++u) v[u] = load_cg(part + (f0 + u) * threads);
#pragma unroll
            for (int u = 0; u < 8; ++u) {
              const int f = f0 + u, j = f / (acc_floats / 2), e = 2 * (f % (acc_floats / 2));
              acc[j][e] += v[u].x;
              acc[j][e + 1] += v[u].y;
            }
          }
        }
        store_tile(p, acc, col, chunk, half, lane);
      }
    }

#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int e = 0; e < acc_floats; ++e) acc[j][e] = 0.0f;
    seg_first_kt = 0;
  }
  cp_async_wait<0>();
}
