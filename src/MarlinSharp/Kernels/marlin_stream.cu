// marlin_stream.cu — FP16 x INT4 multiply for small batches (1..16 rows): C[m][n] = A[m][k] * dequant(B)[k][n].
//
// Why a second kernel
// -------------------
// At a few rows the product is nothing but a weight stream, and a decode step is a chain of small layers
// (a 4096 x 4096 INT4 layer is 8 MB: two microseconds of HBM time). marlin_dense.cu moves every weight
// through a shared-memory ring: a copy instruction per 16 bytes, a shared load back, a CTA-wide barrier per
// stage, and on small layers a split column summed through an L2 workspace by the last CTA to arrive. Its
// instruction stream is about 41 thread instructions per packed word, and its fixed cost (pipeline fill,
// barrier, reduction round trips) is several times the transfer time of a small layer. This kernel keeps
// only what a weight stream needs:
//  * Weights go straight from HBM into registers (ld.global.nc, no L1 allocation). Each warp owns a 64-column
//    chunk and a run of whole 128-deep k blocks, and keeps one block (8 slabs x 512 bytes) of loads in flight
//    ahead of the one it computes: a ring of registers, refilled slot by slot, so no warp ever waits for another
//    (except the few that share an activation ring, below) and there is no CTA barrier in the main loop. With all CTAs resident at once, every outstanding request is
//    served at the HBM's pace, so equal work per warp means equal finishing times.
//  * ... or, with MARLIN_W_STAGES = S > 0, through a per-warp ring of S blocks in shared memory: each lane copies
//    (cp.async.cg) exactly the 16 bytes per slab it will read back, S - 1 blocks ahead, so no lane waits for another and
//    S - 1 blocks are in flight per warp at no register cost. A kernel timeline (docs/NOTES.md, step 125) showed the
//    register ring's warps waiting a whole load latency per block: the narrow layers' k-split CTAs streamed at 2.3-2.5
//    TB/s with it and at 3.1-3.2 TB/s with a 3-stage ring (H100, batch 1; their smaller register count also let the
//    plan split k three ways instead of two). The block's scales ride along (one Vec16 per lane
//    for the first lanes, shared by the warp). It also frees the ring's 32 registers, so more CTAs fit an SM; where that
//    lets too many stack on one SM while others idle, the launcher asks for more shared memory than the rings need.
//  * The packed layout (see marlin_dense.cu and MarlinPacker.cs) gives lane t, in one 16-byte word per slab,
//    exactly the mma.m16n8k16 A fragments of four 16-column x 16-k weight tiles (columns g and g+8 of each tile,
//    k rows 2t, 2t+1, 2t+8, 2t+9, with g = lane/4 and t = lane%4). The activations are therefore the B operand:
//    lane (g, t) needs batch row g at k = 16s + 2t, +1 and 16s + 8 + 2t, +9 — two 32-bit words per slab and per
//    8 batch rows.
//  * The activations ride a small ring in shared memory, one per warp: a warp copies the rows of A over its own
//    next 128-deep block (cp.async.cg, through L2: A was written by the previous kernel, and L1 is not coherent)
//    MARLIN_A_RING - 1 blocks ahead of the one it computes, and the lanes read their two words per slab from
//    there. Every A element a CTA needs therefore crosses L2 once, as large aligned requests. Reading A straight
//    from L2 with the weights, as this kernel first did, cost more than the weights themselves at a few rows:
//    every CTA of the grid sends two small requests per slab to the same few kilobytes of A, and those L2 lines
//    become the bottleneck (H200, Llama-2-7B decode step at batch 1: 1.79 ms with them, 1.45 ms with that
//    traffic left out). Staging a CTA's whole k range at once, as it did next, made shared memory grow with
//    rows x k (16 rows of a 4096-deep layer: 128 KB), which kept wide layers at 9..16 rows and deep layers off this
//    kernel; the per-warp ring is rows x 128 x MARLIN_A_RING, whatever k is, and needs no CTA barrier: a warp's
//    copies are waited for by its own lanes (cp.async.wait_group) and published to each other by __syncwarp.
//    Rows are padded by 4 words, so the 8 rows x 4 word columns a warp reads fall on 32 different banks.
//  * At 16 rows a 128-deep block of A (4 KB) is as large as the chunk's block of weights, so every chunk copying
//    its own A doubles what crosses L2. With MARLIN_CHUNKS_PER_CTA = S > 1 a CTA covers S adjacent chunks, and the S
//    warps (one per chunk) that stream the same k run share one ring: each copies 1/S of the block, and a named
//    barrier over just those S warps replaces the __syncwarp. A's L2 traffic falls by S; the k split of each
//    chunk inside the CTA falls from MARLIN_WARPS to MARLIN_WARPS / S warps, which the launcher makes up with more
//    CTAs per cluster where the layer has few chunks.
//  * Dequantisation is the lop3 / FP16 magic-number sequence (q | 0x6400 is 1024 + q) with the zero point
//    folded into the subtraction. Grouped scales are not multiplied into the weights: each group's unscaled
//    products are summed by the tensor cores in FP32 and scaled once per column and group in FP32, so a packed
//    word costs about ten instructions and one mma.
//  * A column chunk's k range is split over the CTAs of a thread-block cluster (sm_90) when there are too few
//    chunks to occupy every SM. The results are cut into keys of 32 units, each reduced by one CTA of the cluster:
//    every CTA stores its FP32 partial of each key (its warps of a chunk summed first) straight into the reducing
//    CTA's shared memory through distributed shared memory, and after one cluster barrier each CTA sums its keys
//    from its own shared memory in rank order (so results are bitwise reproducible), writes C and exits. No
//    workspace, no counters, no global round trip, no remote loads and no second barrier: a cluster barrier costs
//    ~0.45 us and a remote load ~0.55 us on an H100. Before sm_90 the kernel runs without clusters.
//  * Overlap with the previous kernel (programmatic dependent launch, sm_90+): the weights and scales of the
//    first block are requested before griddepcontrol.wait, activations and C only after it.
//
//  * Epilogues for a decode layer (MARLIN_EPILOGUE), so that the small kernels between the GEMMs disappear:
//    the residual add, RMSNorm and SwiGLU each cost a launch and a round trip through L2 per layer, several
//    times the HBM time of a small layer's weights at batch 1.
//      1 residual: C += A*B in place (C is the residual stream), and for every row and 16-column block of C the
//        sum of squares of the new FP16 values, into row_sq [m][n/16]. That is all an RMSNorm needs.
//      2 normed: C = rstd(row) * (A*B), rstd = 1/sqrt(mean of squares + eps) from row_sq [m][k/16] of the
//        previous residual GEMM. The norm's weight is folded into the rows of B when the layer is quantised,
//        so A is the raw residual stream and a row needs only its one scale factor, applied to the FP32 sums.
//      3 normed SwiGLU: as 2 on the fused gate|up projection, whose columns are interleaved in blocks of 32
//        (chunk c = gate columns 32c..32c+31, then up columns 32c..32c+31), so the thread that holds a gate sum
//        also holds its up sum: C[r][32c + i] = silu(gate) * up, and C is [m][n/2].
//    The sums of squares are reduced over a 16-column block with warp shuffles in a fixed order (bitwise
//    reproducible), and the next GEMM reads a row's n/16 sums once per CTA, after the weights of its first block
//    are already on their way.
//
// Data layout
//  * Dynamic shared memory: per k run (MARLIN_WARPS / MARLIN_CHUNKS_PER_CTA of them), MARLIN_A_RING slots of
//    A [rows][128 + 8 halves] FP16 (rows = min(m, 8 * BATCH_BLOCKS)).
//    Then, with MARLIN_W_STAGES = S > 0, per warp S stages of [8 slabs][32 lanes] Vec16 of weights and the block's
//    scales [groups][8] Vec16; after its main loop a warp with k-run siblings leaves its FP32 partials at the start of
//    its own stages for the CTA's sum. With the register ring and several k runs per chunk, per warp its partials
//    [batch blocks x 4][32 lanes] Float4 instead.
//  * Static shared memory: the receive buffer of the cluster reduction, [key / parts][half][rank][32 lanes] Float4s
//    for the keys this CTA reduces (cfg::recv_vecs, sized for any split up to 8 parts), and 1/rms per row.
//  * B int32 [k/16][2n] in the reference Marlin order; scales FP16 [k/g][n] (g = 32, 64, 128) or [1][n]
//    (per output channel), permuted as MarlinPacker writes them; A FP16 row-major [m][k] with m <= 8 * BATCH_BLOCKS;
//    C FP16 row-major [m][n]. Rows past m are read as zeros and never written, so callers pad nothing.
//  * n is a multiple of 64 x MARLIN_CHUNKS_PER_CTA and k a multiple of 128 (the launcher checks).
//    Grid: (k parts, n / (64 x MARLIN_CHUNKS_PER_CTA)), cluster (k parts, 1, 1).

#ifndef MARLIN_BATCH_BLOCKS          // 8-row batch blocks: 1 (up to 8 rows) or 2 (up to 16 rows)
#define MARLIN_BATCH_BLOCKS 1
#endif
#ifndef MARLIN_GROUP_BLOCKS          // group size / 16; 0 = per-output-channel scales
#define MARLIN_GROUP_BLOCKS 8
#endif
#ifndef MARLIN_WARPS                 // warps per CTA (4 or 8)
#define MARLIN_WARPS 8
#endif
#ifndef MARLIN_EPILOGUE              // 0 store, 1 residual + row sums of squares, 2 RMS-normed rows, 3 normed SwiGLU
#define MARLIN_EPILOGUE 0
#endif
#ifndef MARLIN_A_RING                // 128-deep blocks of activations per shared ring (2..4): copies run MARLIN_A_RING - 1 blocks ahead
#define MARLIN_A_RING 2
#endif
#ifndef MARLIN_W_STAGES              // 0: weights stream into a register ring; 2..4: through a per-warp shared-memory ring of that many blocks
#define MARLIN_W_STAGES 0
#endif
#ifndef MARLIN_CHUNKS_PER_CTA        // 64-column chunks per CTA (1, 2, 4 or 8, at most MARLIN_WARPS): warps that share a ring
#define MARLIN_CHUNKS_PER_CTA 1
#endif
// Development switch for timing experiments (results are wrong when set): leave out the dequantisation and
// tensor-core work, to see what the load stream alone costs.
#ifndef MARLIN_DEBUG_SKIP_COMPUTE
#define MARLIN_DEBUG_SKIP_COMPUTE 0
#endif
// Development switch for timing experiments (results are wrong when set): never wait for the previous grid, to see
// what the dependency on it costs inside a chain of launches.
#ifndef MARLIN_DEBUG_NO_WAIT
#define MARLIN_DEBUG_NO_WAIT 0
#endif

// Development switch for timing experiments (results are wrong when set): copy only half the rows of activations, to
// see what their L2 traffic costs (H200, Llama-2-7B layers at 16 rows: 0.0594 -> 0.0508 ms).
#ifndef MARLIN_DEBUG_A_HALF
#define MARLIN_DEBUG_A_HALF 0
#endif

// Development switch for measurements: the CTAs per SM that 4-warp launches are compiled for (0: the rule below), e.g. 4 so
// that a 4-warp grid planned for three per SM leaves room on every SM for a CTA of the next kernel.
#ifndef MARLIN_DEBUG_MIN_CTAS_4W
#define MARLIN_DEBUG_MIN_CTAS_4W 0
#endif
// ... and for 8-warp launches of up to 8 rows (e.g. 2, so that narrow layers get twice the k parts).
#ifndef MARLIN_DEBUG_MIN_CTAS_8W
#define MARLIN_DEBUG_MIN_CTAS_8W 0
#endif

// Development switch for measurements: the device address of a timeline buffer (set by `marlin bench e2e` under
// MARLINSHARP_DEBUG_TIMELINE). Thread 0 of every CTA appends one record of %globaltimer stamps (entry, wait returned,
// main loop done, exit) and what it was launched as, so that a decode step's kernels can be laid out in time inside
// their graph. Word 0 counts records; record r is words 8 + 8r .. 15 + 8r. 0: compiled out.
#ifndef MARLIN_DEBUG_TIMELINE
#define MARLIN_DEBUG_TIMELINE 0
#endif
#ifndef MARLIN_DEBUG_TIMELINE_RECORDS
#define MARLIN_DEBUG_TIMELINE_RECORDS 0
#endif

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define MARLIN_CLUSTERS 1
#else
#define MARLIN_CLUSTERS 0
#endif

typedef unsigned int u32;
typedef unsigned short u16;

struct __align__(16) Vec16 { u32 x, y, z, w; };
struct __align__(16) Float4 { float x, y, z, w; };

namespace cfg {
constexpr int warps = MARLIN_WARPS;
constexpr int threads = 32 * warps;
constexpr int batch_blocks = MARLIN_BATCH_BLOCKS;
constexpr int group_blocks = MARLIN_GROUP_BLOCKS;
constexpr bool per_channel = group_blocks == 0;
constexpr int ring = 8;                                   // slabs in flight per warp: one 128-deep k block
constexpr int groups_per_block = per_channel ? 1 : ring / group_blocks;
constexpr int partial_vecs = batch_blocks * 4 * 32;       // Float4s one warp leaves behind
constexpr int a_ring = MARLIN_A_RING;
constexpr int chunks_per_cta = MARLIN_CHUNKS_PER_CTA;
constexpr int k_warps = warps / chunks_per_cta;          // warps per chunk in a CTA, each with its own k run and ring
constexpr int a_row_words = 64 + 4;                       // one row of a 128-deep block of A, padded by 4 words
constexpr int epilogue = MARLIN_EPILOGUE;
constexpr bool residual = epilogue == 1;
constexpr bool normed = epilogue == 2 || epilogue == 3;
constexpr bool swiglu = epilogue == 3;
constexpr int max_rows = 8 * batch_blocks;
constexpr int w_stages = MARLIN_W_STAGES;
constexpr bool staged = w_stages > 0;
// One stage of a warp's weight ring: 8 slabs x 32 lanes x 16 bytes of weights (each lane reads back only what it copied),
// then the block's scales (groups_per_block x 8 Vec16s, copied by the first lanes and shared by the warp).
constexpr int w_scale_vecs = per_channel ? 0 : groups_per_block * 8;
constexpr int w_stage_bytes = ring * 512 + 16 * w_scale_vecs;
// 4-warp CTAs serve layers of up to three chunks per SM, all resident at once: at most 168 registers a thread, so that
// three fit in the register file. 32-wide groups (and 64-wide ones at 16 rows) need more and would spill; they run
// two CTAs per SM.
constexpr int min_ctas = warps == 4 && MARLIN_DEBUG_MIN_CTAS_4W > 0 ? MARLIN_DEBUG_MIN_CTAS_4W
                         : warps == 8 && batch_blocks == 1 && MARLIN_DEBUG_MIN_CTAS_8W > 0 ? MARLIN_DEBUG_MIN_CTAS_8W
                         : warps == 4 && group_blocks != 2 && !(batch_blocks == 2 && group_blocks == 4) ? 3 : 1;

// The cluster reduction: a chunk group's results come in groups of 32 units (one Float4 per lane; SwiGLU pairs a gate
// group with its up group), each reduced by one CTA of the cluster (key % parts) from a receive buffer that every CTA
// fills with its partial (rank `source`) of that key: [key / parts][half][source][32 lanes] Float4s. Sized for the worst
// split of up to 8 parts.
constexpr int max_parts = 8;                              // the portable cluster size (MarlinStreamConfig.MaxKParts)
constexpr int halves = swiglu ? 2 : 1;
constexpr int reduce_keys = chunks_per_cta * batch_blocks * 4 / halves;
__host__ __device__ constexpr int padded_keys(int parts) { return (reduce_keys + parts - 1) / parts * parts; }
__host__ __device__ constexpr int max_padded_keys() {
  int most = 0;
  for (int parts = 1; parts <= max_parts; ++parts) most = padded_keys(parts) > most ? padded_keys(parts) : most;
  return most;
}
constexpr int recv_vecs = max_padded_keys() * halves * 32;

static_assert(warps == 4 || warps == 8, "warps");
static_assert(batch_blocks == 1 || batch_blocks == 2, "batch_blocks");
static_assert(per_channel || group_blocks == 2 || group_blocks == 4 || group_blocks == 8, "group size");
static_assert(a_ring >= 2 && a_ring <= 4, "activation ring depth");
static_assert((chunks_per_cta == 1 || chunks_per_cta == 2 || chunks_per_cta == 4 || chunks_per_cta == 8) && chunks_per_cta <= warps,
              "chunks per CTA");
static_assert(epilogue >= 0 && epilogue <= 3, "epilogue");
static_assert(w_stages == 0 || (w_stages >= 2 && w_stages <= 4 && a_ring <= w_stages), "weight stages (and activations no further ahead)");
static_assert(!staged || w_stages * w_stage_bytes >= batch_blocks * 2048, "a warp's partials live in its weight ring after the loop");
}  // namespace cfg

// ---------------------------------------------------------------------------------------------
// PTX helpers (header-free so that any NVRTC from 11.8 on compiles this file)
// ---------------------------------------------------------------------------------------------
// Weights: read once, never written by anyone, so the non-coherent path without L1 allocation.
__device__ __forceinline__ Vec16 load_weights(const Vec16* p) {
  Vec16 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
}

// Activations into the warp's ring: 16 bytes per lane per instruction, through L2 only (cp.async.cg).
__device__ __forceinline__ void copy_16(u32 dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void copy_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int n>
__device__ __forceinline__ void copy_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(n) : "memory"); }
__device__ __forceinline__ u32 dynamic_smem_bytes() {
  u32 r;
  asm("mov.u32 %0, %%dynamic_smem_size;\n" : "=r"(r));
  return r;
}

__device__ __forceinline__ float load_float_cg(const float* p) {
  float v;
  asm volatile("ld.global.cg.f32 %0, [%1];\n" : "=f"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ u16 load_half_cg(const u16* p) {
  u16 v;
  asm volatile("ld.global.cg.u16 %0, [%1];\n" : "=h"(v) : "l"(p) : "memory");
  return v;
}

// Lane's share of the block sums of squares of rows first, first + step, ... (R of them, rows from m on count 0): for
// each row entries lane + 32j in increasing order, eight loads per row in flight at a time and every row's loads
// together, so that a warp with several rows (16 rows over 4 warps) pays one L2 round trip per 256 entries, not one per
// row. The order of the sums within a row does not depend on R, so results are the same bitwise for any R.
template <int R>
__device__ __forceinline__ void sum_squares_rows(const float* row_sq, int entries, int first, int step, int m, int lane, float (&ss)[R]) {
#pragma unroll
  for (int i = 0; i < R; ++i) ss[i] = 0.0f;
  for (int e0 = 0; e0 < entries; e0 += 256) {
    float v[R][8];
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const int r = first + i * step;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int e = e0 + lane + 32 * j;
        v[i][j] = r < m && e < entries ? load_float_cg(row_sq + (size_t)r * entries + e) : 0.0f;
      }
    }
#pragma unroll
    for (int i = 0; i < R; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) ss[i] += v[i][j];
  }
}

__device__ __forceinline__ float fast_exp(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x * 1.4426950408889634f));
  return y;
}

// Volatile, like the loads: the compiler keeps the ring's order (refill slot i, then compute slot i) instead of
// hoisting a whole block of refills above the compute, which would need two blocks of registers.
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
  asm volatile(
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

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;\n" : "=l"(t));
  return t;
}

// Kind 1: this kernel. Tag: kind | epilogue << 8 | warps << 12 | gridDim.x << 16 | gridDim.y << 32 | m << 48. Stamps:
// entry, wait returned, warp 0's main loop done, exit; then the last warp's main loop done (word 6) and, as ns after
// entry, when the cluster barrier after the partials passed and when the CTA's reduction was done (word 7, low and high
// 32 bits).
__device__ __forceinline__ void timeline_record(unsigned long long t0, unsigned long long t1, unsigned long long t2, int m,
                                                unsigned long long t_loops, unsigned long long t_synced, unsigned long long t_reduced) {
#if MARLIN_DEBUG_TIMELINE
  unsigned long long* buf = reinterpret_cast<unsigned long long*>(MARLIN_DEBUG_TIMELINE);
  const unsigned long long t3 = global_ns();
  u32 smid;
  asm volatile("mov.u32 %0, %%smid;\n" : "=r"(smid));
  const u32 r = atomicAdd(reinterpret_cast<unsigned int*>(buf), 1u);
  if (r < MARLIN_DEBUG_TIMELINE_RECORDS) {
    unsigned long long* rec = buf + 8 + 8 * (size_t)r;
    rec[0] = t0; rec[1] = t1; rec[2] = t2; rec[3] = t3;
    rec[4] = 1ull | (unsigned long long)MARLIN_EPILOGUE << 8 | (unsigned long long)MARLIN_WARPS << 12 |
             (unsigned long long)gridDim.x << 16 | (unsigned long long)gridDim.y << 32 | (unsigned long long)m << 48;
    rec[5] = (unsigned long long)blockIdx.x | (unsigned long long)blockIdx.y << 16 | (unsigned long long)smid << 32;
    rec[6] = t_loops; rec[7] = (t_synced - t0) | (t_reduced - t0) << 32;
  }
#else
  (void)t0; (void)t1; (void)t2; (void)m; (void)t_loops; (void)t_synced; (void)t_reduced;
#endif
}

// Programmatic dependent launch. Compiled out before sm_90, no-ops without the launch attribute.
__device__ __forceinline__ void wait_for_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && !MARLIN_DEBUG_NO_WAIT
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void allow_next_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

__device__ __forceinline__ u32 smem_addr(const void* p) {
  u32 r;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(r) : "l"(p));
  return r;
}

// Every thread of every CTA of the cluster arrives; shared-memory writes before it are visible to the peers after it.
__device__ __forceinline__ void cluster_barrier() {
#if MARLIN_CLUSTERS
  asm volatile("barrier.cluster.arrive.aligned;\nbarrier.cluster.wait.aligned;\n" ::: "memory");
#else
  __syncthreads();
#endif
}

__device__ __forceinline__ u32 cluster_size() {
#if MARLIN_CLUSTERS
  u32 r;
  asm("mov.u32 %0, %%cluster_nctarank;\n" : "=r"(r));
  return r;
#else
  return 1;
#endif
}

// Float4 v to shared-memory address `local` (of this CTA's layout) in the shared memory of cluster CTA `rank`.
__device__ __forceinline__ void store_peer(u32 local, u32 rank, Float4 v) {
#if MARLIN_CLUSTERS
  u32 remote;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(local), "r"(rank));
  asm volatile("st.shared::cluster.v4.f32 [%0], {%1,%2,%3,%4};\n" ::"r"(remote), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w) : "memory");
#else
  (void)rank;
  asm volatile("st.shared.v4.f32 [%0], {%1,%2,%3,%4};\n" ::"r"(local), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w) : "memory");
#endif
}

// ---------------------------------------------------------------------------------------------
// Dequantisation: one 32-bit word = 8 codes = the four A registers of one 16 x 16 weight tile.
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ void dequant_tile(u32 q, u32 (&a)[4]) {
  const u32 lo_mask = 0x000f000f, hi_mask = 0x00f000f0, magic = 0x64006400;  // 1024 in both halves
  const u32 lo_bias = 0x64086408;                    // 1032 = 1024 + 8 (zero point)
  const u32 hi_scale = 0x2c002c00, hi_bias = 0xd480d480;  // 1/16 and -72 = -(1024/16 + 8)
  const u32 lo = and_or(q, lo_mask, magic), hi = and_or(q, hi_mask, magic);
  q >>= 8;
  const u32 lo2 = and_or(q, lo_mask, magic), hi2 = and_or(q, hi_mask, magic);
  a[0] = hsub2(lo, lo_bias);             // column g,   k 2t, 2t+1
  a[1] = hsub2(lo2, lo_bias);            // column g+8, k 2t, 2t+1
  a[2] = hfma2(hi, hi_scale, hi_bias);   // column g,   k 2t+8, 2t+9
  a[3] = hfma2(hi2, hi_scale, hi_bias);  // column g+8, k 2t+8, 2t+9
}

// ---------------------------------------------------------------------------------------------
// The kernel
// ---------------------------------------------------------------------------------------------
struct Problem {
  const u32* a;     // [m][k] fp16, read as half2 pairs
  const Vec16* b;   // [k/16][2n] int32
  const Vec16* s;   // packed scales
  u16* c;           // [m][n] fp16 ([m][n/2] for the SwiGLU epilogue)
  float* row_sq;    // epilogue 1: written [m][n/16]; 2, 3: read [m][k/16]; unused otherwise
  int m, n, k;
  float eps;        // RMSNorm epsilon (epilogues 2, 3)
};


// 1/rms of rows first, first + warps, ... (R of them; rows from m on are skipped) into rstd: the block sums of squares
// in a fixed order (lane-wise in increasing entries, then a shuffle tree), so bitwise the same for any R.
template <int R>
__device__ __forceinline__ void row_norms(const Problem& p, int entries, int first, int warps, int lane, float* rstd) {
  float ss[R];
  sum_squares_rows<R>(p.row_sq, entries, first, warps, p.m, lane, ss);
#pragma unroll
  for (int i = 0; i < R; ++i) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss[i] += __shfl_xor_sync(0xffffffffu, ss[i], o);
    const int r = first + i * warps;
    if (lane == 0 && r < p.m) rstd[r] = rsqrtf(ss[i] / (float)p.k + p.eps);
  }
}

// The rows of A whose 1/rms warp `warp` finds for the normed epilogues: r = warp, warp + warps, ... At 9..16 rows all of
// them at once (a 4-warp CTA has four per warp), up to 8 rows one after the other (most warps have none or one).
__device__ __forceinline__ void row_norms_of_warp(const Problem& p, int entries, int warp, int lane, float* rstd) {
  using namespace cfg;
  if constexpr (batch_blocks == 1) {
    for (int r = warp; r < p.m; r += warps) row_norms<1>(p, entries, r, warps, lane, rstd);
  } else {
    row_norms<(max_rows + warps - 1) / warps>(p, entries, warp, warps, lane, rstd);
  }
}

// One slab (16 k) of one warp's chunk: the lane's four weight words.
struct Slab {
  Vec16 w;
};

__device__ __forceinline__ u32 lds32(u32 addr) {
  u32 v;
  asm volatile("ld.shared.u32 %0, [%1];\n" : "=r"(v) : "r"(addr) : "memory");
  return v;
}

__device__ __forceinline__ Vec16 lds128(u32 addr) {
  Vec16 v;
  asm volatile("ld.shared.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(addr) : "memory");
  return v;
}

__device__ __forceinline__ Float4 lds128f(u32 addr) {
  Float4 v;
  asm volatile("ld.shared.v4.f32 {%0,%1,%2,%3}, [%4];\n" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(addr) : "memory");
  return v;
}

__device__ __forceinline__ void sts128(u32 addr, Float4 v) {
  asm volatile("st.shared.v4.f32 [%0], {%1,%2,%3,%4};\n" ::"r"(addr), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w) : "memory");
}

// Shared weight ring: one block of a warp's weights into a stage, each lane copying the 16 bytes per slab it will read
// back itself (so no other lane has to wait for them), and the block's scales, one Vec16 per lane for the first
// w_scale_vecs lanes (group q, lane g of the chunk's 8 at 16 * (8q + g)). b: slab 0 of the block at this lane's word;
// s: the block's first group row at the chunk's first Vec16.
__device__ __forceinline__ void copy_weight_block(u32 stage, const Vec16* b, size_t b_slab, const Vec16* s, u32 s_row, int lane) {
#pragma unroll
  for (int i = 0; i < cfg::ring; ++i) copy_16(stage + 512 * i + 16 * lane, b + i * b_slab);
  if constexpr (cfg::w_scale_vecs > 0) {
    if (lane < cfg::w_scale_vecs) copy_16(stage + cfg::ring * 512 + 16 * lane, s + (lane >> 3) * s_row + (lane & 7));
  }
}

// Copies the rows [0, rows) of A's 128-deep block `blk` into a ring slot (rows of a_row_words words): 16 Vec16s per
// row, dealt in order to the lanes of the warps that share the ring (`member` 0..chunks_per_cta - 1), so each
// quarter-warp writes 128 contiguous bytes of one row.
__device__ __forceinline__ void copy_activation_block(u32 slot, const Vec16* a, u32 a_row_vecs, int blk, int rows, int lane, int member) {
  if (MARLIN_DEBUG_A_HALF) rows /= 2;
  for (int v = 32 * member + lane; v < rows * 16; v += 32 * cfg::chunks_per_cta) {
    const int r = v >> 4, c = v & 15;
    copy_16(slot + 4 * (u32)(r * cfg::a_row_words) + 16 * c, a + (size_t)r * a_row_vecs + (size_t)blk * 16 + c);
  }
}

// The warps that share activation ring `ring_id` (one per chunk of the CTA) agree that their copies into it are complete
// and that nobody still reads the slot about to be refilled: a named barrier over those warps only (bar.sync orders
// their shared-memory accesses), or __syncwarp when a warp has its ring to itself.
__device__ __forceinline__ void ring_sync(int ring_id) {
  if constexpr (cfg::chunks_per_cta == 1) {
    (void)ring_id;
    __syncwarp();
  } else {
    asm volatile("bar.sync %0, %1;\n" ::"r"(1 + ring_id), "n"(32 * cfg::chunks_per_cta) : "memory");
  }
}

// Unit u (0..partial_vecs) of local chunk lc: its reduction key (reduced by CTA key % parts) and half (SwiGLU: gate 0, up
// 1). A unit holds lane u % 32 of column block j = (u / 32) % 4 and batch block bb = u / 128; SwiGLU's blocks 2, 3 (up)
// pair with 0, 1 (gate).
struct ReduceKey { int key, half; };
__device__ __forceinline__ ReduceKey reduce_key(int lc, int u) {
  using namespace cfg;
  const int bb = u >> 7, j = (u >> 5) & 3;
  if constexpr (swiglu) return {(lc * batch_blocks + bb) * 2 + (j & 1), j >> 1};
  else return {(lc * batch_blocks + bb) * 4 + j, 0};
}

// Where rank `source`'s partial of lane `lane` of (key, half) lives in the receive buffer of the reducing CTA.
__device__ __forceinline__ u32 recv_at(u32 recv_base, int key, int half, u32 parts, u32 source, int lane) {
  return recv_base + 16u * ((((u32)key / parts * cfg::halves + (u32)half) * parts + source) * 32u + (u32)lane);
}

// The reducer's sum of (key, half) for lane `lane`: the parts' partials in rank order (a fixed order: bitwise
// reproducible, and the order the partials were summed in before they were sent here).
__device__ __forceinline__ Float4 recv_sum(u32 recv_base, int key, int half, u32 parts, int lane) {
  const u32 at = recv_at(recv_base, key, half, parts, 0, lane);
  Float4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
  for (u32 r = 0; r < (u32)cfg::max_parts; ++r) {
    if (r < parts) {
      const Float4 v = lds128f(at + 512u * r);
      sum.x += v.x; sum.y += v.y; sum.z += v.z; sum.w += v.w;
    }
  }
  return sum;
}

// Per-output-channel scales (group size -1) multiply the FP32 sums of columns col (x, y) and col + 8 (z, w).
// They are packed in chunks of 32 columns; column w of a chunk sits at 8 * ((w % 8) / 2) + 2 * (w / 8) + (w % 2).
__device__ __forceinline__ void apply_channel_scales(const Problem& p, Float4& v, int col) {
  if constexpr (cfg::per_channel) {
    const u16* s = reinterpret_cast<const u16*>(p.s);
    const int w0 = col & 31, w1 = (col + 8) & 31;
    const float s0 = half_to_float(s[(col & ~31) + 8 * ((w0 & 7) >> 1) + 2 * (w0 >> 3) + (w0 & 1)]);
    const float s1 = half_to_float(s[((col + 8) & ~31) + 8 * ((w1 & 7) >> 1) + 2 * (w1 >> 3) + (w1 & 1)]);
    v.x *= s0; v.y *= s0; v.z *= s1; v.w *= s1;
  } else {
    (void)p; (void)v; (void)col;
  }
}

// silu(gate) * up as the engine's swiglu kernel rounds it: silu to FP16 first.
__device__ __forceinline__ float silu_times(float gate, float up) {
  const float silu = gate / (1.0f + fast_exp(-gate));
  return half_to_float(float_to_half(silu)) * up;
}

// Slab i (0..7) of a 128-deep block: the lane's weight words w times the block's activations at a_base (lane's words at
// a_lane[bb]), into the group sums, which the end of each group scales into acc (per-channel scales: straight into acc).
__device__ __forceinline__ void slab_product(const Vec16& w, int i, u32 a_base, const u32 (&a_lane)[cfg::batch_blocks],
                                             const bool (&live)[cfg::batch_blocks], const Vec16 (&scale)[cfg::groups_per_block],
                                             float (&acc)[cfg::batch_blocks][4][4], float (&grp)[cfg::batch_blocks][4][4]) {
  using namespace cfg;
  u32 x[batch_blocks][2];
#pragma unroll
  for (int bb = 0; bb < batch_blocks; ++bb) {
    const u32 at = a_base + a_lane[bb] + 4 * 8 * i;
    x[bb][0] = live[bb] ? lds32(at) : 0u;
    x[bb][1] = live[bb] ? lds32(at + 16) : 0u;
  }
  if constexpr (!MARLIN_DEBUG_SKIP_COMPUTE) {
    const u32 words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      u32 a[4];
      dequant_tile(words[j], a);
#pragma unroll
      for (int bb = 0; bb < batch_blocks; ++bb) {
        if constexpr (per_channel)
          mma_16816(acc[bb][j], a, x[bb][0], x[bb][1]);
        else
          mma_16816(grp[bb][j], a, x[bb][0], x[bb][1]);
      }
    }
    if constexpr (!per_channel) {
      if ((i + 1) % group_blocks == 0) {  // end of a group: scale its sums once per column, in FP32
        const Vec16 sc = scale[i / group_blocks];
        const u32 sw[4] = {sc.x, sc.y, sc.z, sc.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float s_lo = half_to_float((u16)(sw[j] & 0xffff)), s_hi = half_to_float((u16)(sw[j] >> 16));
#pragma unroll
          for (int bb = 0; bb < batch_blocks; ++bb) {
            acc[bb][j][0] += s_lo * grp[bb][j][0];
            acc[bb][j][1] += s_lo * grp[bb][j][1];
            acc[bb][j][2] += s_hi * grp[bb][j][2];
            acc[bb][j][3] += s_hi * grp[bb][j][3];
#pragma unroll
            for (int e = 0; e < 4; ++e) grp[bb][j][e] = 0.0f;
          }
        }
      }
    }
  } else {
    (void)scale; (void)grp;
    acc[0][0][0] += __int_as_float(w.x ^ w.y ^ w.z ^ w.w ^ x[0][0]);
  }
}

extern "C" __global__ void __launch_bounds__(cfg::threads, cfg::min_ctas) marlin_stream_gemm(Problem p) {
  using namespace cfg;
  const unsigned long long t_entry = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
  __shared__ Float4 recv[recv_vecs];      // the cluster's partials of the keys this CTA reduces (see cfg::reduce_keys)
  __shared__ float row_rstd[max_rows];    // normed epilogues: 1/rms of each row of A
  extern __shared__ Vec16 a_rings[];     // per k run: a_ring slots of rows_staged x a_row_words words; then per warp its
                                         // weight ring or (register ring, several k runs per chunk) its partials
#if MARLIN_DEBUG_TIMELINE
  __shared__ unsigned long long timeline_loop_end[warps];
#endif

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
  const u32 parts = gridDim.x;
  if (parts != cluster_size()) asm volatile("trap;");  // the k parts of a chunk must share one cluster
  // Warp w computes chunk w / k_warps of the CTA over k run w % k_warps; the chunks_per_cta warps of one k run share
  // its activation ring.
  const int k_run = warp % k_warps, local_chunk = warp / k_warps;
  const int my_chunk = blockIdx.y * chunks_per_cta + local_chunk;
  const u32 blocks = (u32)p.k / 128, warps_total = parts * k_warps, my_warp = blockIdx.x * k_warps + k_run;
  // The launcher checks blocks * warps_total < 2^32.
  const int blk0 = (int)(my_warp * blocks / warps_total), blk1 = (int)((my_warp + 1) * blocks / warps_total);
  // This k run's activation ring: a_ring slots of rows_staged rows (MarlinStreamConfig.ActivationRingBytes).
  const int rows_staged = p.m < max_rows ? p.m : max_rows;
  const u32 slot_bytes = (u32)rows_staged * a_row_words * 4;
  // Then, with the shared weight ring, w_stages stages per warp (MarlinStreamConfig.WeightRingBytes); with the register
  // ring and several k runs per chunk, each warp's FP32 partials for the CTA's own sum (MarlinStreamConfig.PartialBytes).
  const u32 a_rings_bytes = (u32)(k_warps * a_ring) * slot_bytes;
  constexpr u32 warp_tail_bytes = staged ? w_stages * w_stage_bytes : k_warps > 1 ? partial_vecs * 16 : 0;
  if (dynamic_smem_bytes() < a_rings_bytes + warps * warp_tail_bytes) asm volatile("trap;");
  const u32 my_ring_base = smem_addr(a_rings);
  const u32 my_ring = my_ring_base + (u32)(k_run * a_ring) * slot_bytes;
  const Vec16* a_vecs = reinterpret_cast<const Vec16*>(p.a);
  const u32 a_row_vecs = (u32)p.k / 8;

  const size_t b_slab = (u32)p.n / 2;  // Vec16s per slab row of B
  const Vec16* bp = p.b + (size_t)blk0 * ring * b_slab + (u32)my_chunk * 32 + lane;
  const Vec16* sp = p.s + (per_channel ? 0 : (size_t)blk0 * groups_per_block * ((u32)p.n / 8) + (u32)my_chunk * 8);  // + g: lane's
  // Lane (g, t)'s words of a ring slot for batch block bb: row 8bb + g, word t of the slab (and t + 4); rows past m read 0.
  bool live[batch_blocks];
  u32 a_lane[batch_blocks];
#pragma unroll
  for (int bb = 0; bb < batch_blocks; ++bb) {
    live[bb] = 8 * bb + g < p.m;
    a_lane[bb] = 4 * ((u32)(8 * bb + g) * a_row_words + t);
  }

  // Prologue: weights and scales (nothing an earlier kernel writes) first, then the wait, then the activations. The
  // register ring holds the first block; the shared ring's stages take the first w_stages - 1 blocks, one commit group
  // each (empty past the run, so that the group count stays uniform).
  Slab slot[staged ? 1 : ring];
  Vec16 scale_next[groups_per_block];
  const bool any = blk0 < blk1;
  const u32 my_wring = my_ring_base + a_rings_bytes + (u32)(warp * w_stages * w_stage_bytes);
  u32 w_fill = 0, w_slot = 0;   // shared ring: stage of the next block to copy, stage of block blk
  if constexpr (staged) {
#pragma unroll
    for (int j = 0; j < w_stages - 1; ++j) {
      if (blk0 + j < blk1) {
        copy_weight_block(my_wring + w_fill * w_stage_bytes, bp, b_slab, sp, (u32)p.n / 8, lane);
        bp += ring * b_slab;
        sp += groups_per_block * ((u32)p.n / 8);
      }
      copy_commit();
      ++w_fill;
    }
  } else if (any) {
#pragma unroll
    for (int i = 0; i < ring; ++i) {  // a running pointer: eight precomputed 64-bit addresses would cost 16 registers
      slot[i].w = load_weights(bp);
      bp += b_slab;
    }
    if constexpr (!per_channel) {
#pragma unroll
      for (int q = 0; q < groups_per_block; ++q) scale_next[q] = load_weights(sp + q * ((u32)p.n / 8) + g);
    }
  }
  allow_next_grid();
  wait_for_previous_grid();
  const unsigned long long t_waited = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
  // The first a_ring - 1 blocks of activations, one commit group per block (empty past the run, so that group j is
  // always block blk0 + j and the wait count below stays uniform); with the shared weight ring each is followed by an
  // empty group where the main loop commits weights.
#pragma unroll
  for (int j = 0; j < a_ring - 1; ++j) {
    if (blk0 + j < blk1) copy_activation_block(my_ring + j * slot_bytes, a_vecs, a_row_vecs, blk0 + j, rows_staged, lane, local_chunk);
    copy_commit();
    if constexpr (staged) copy_commit();
  }
  // Normed epilogues: 1/rms of the rows (row_norms_of_warp) from the k/16 block sums of squares the previous GEMM left,
  // here, before the main loop, so that its L2 round trip overlaps the one of the first activations just requested. It
  // used to follow the main loop, where it lengthened the kernel's tail by a round trip (H100, batch 16: 3.8 us from the
  // last main loop to the last exit of qkv and gate|up). Published to the CTA by the cluster barrier after the loop.
  // The 16-row register-ring kernels with 32-wide groups (250+ registers) would spill with those loads beside the ring,
  // so they keep them after the loop.
  const int sq_entries = p.k >> 4;
  constexpr bool norms_first = !(batch_blocks == 2 && group_blocks == 2 && !staged);
  if constexpr (normed && norms_first) row_norms_of_warp(p, sq_entries, warp, lane, row_rstd);
  // Residual epilogue: the four C values of this thread's first epilogue unit (C is the residual stream, complete by
  // now), requested here so that their round trip overlaps the main loop rather than following it.
  // Epilogue units (and SwiGLU items) are dealt in groups of 32, one per warp, interleaved over the CTAs of the cluster
  // (group warp * parts + rank, then + parts * warps, ...), so that every CTA reduces an equal share of the keys (CTA 0
  // alone once took every unit of a 16-row 8-warp launch). A group is a reduction key, so this CTA is its reducer.
  const int u_first = 32 * (warp * (int)parts + (int)blockIdx.x) + lane;
  u16 c_first[4] = {0, 0, 0, 0};
  if constexpr (residual) {
    if (u_first < chunks_per_cta * partial_vecs) {
      const int uc = u_first % partial_vecs, uchunk = blockIdx.y * chunks_per_cta + u_first / partial_vecs;
      const int ul = uc & 31, j = (uc >> 5) & 3, row = 8 * (uc >> 7) + 2 * (ul & 3);
      const u16* c0 = p.c + (size_t)row * (u32)p.n + uchunk * 64 + 16 * j + (ul >> 2);
      if (row < p.m) { c_first[0] = load_half_cg(c0); c_first[1] = load_half_cg(c0 + 8); }
      if (row + 1 < p.m) { c_first[2] = load_half_cg(c0 + p.n); c_first[3] = load_half_cg(c0 + p.n + 8); }
    }
  }

  float acc[batch_blocks][4][4];
  float grp[batch_blocks][4][4];
#pragma unroll
  for (int bb = 0; bb < batch_blocks; ++bb)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[bb][j][e] = grp[bb][j][e] = 0.0f;

  u32 a_slot = 0;  // ring slot of block blk
  for (int blk = blk0; blk < blk1; ++blk) {
    const bool more = blk + 1 < blk1;
    {
      // Refill the slots the previous block was read from (every lane of the ring's warps is done with them after the
      // first ring_sync): activations a_ring - 1 blocks ahead, then, with the shared weight ring, weights w_stages - 1
      // blocks ahead, each in a commit group of its own. Then wait for this block's activations and weights: newest first,
      // the groups are W(blk), A(blk), W(blk - 1), A(blk - 1), ... where X(b) is what iteration b committed, so this block's
      // activations A(blk - a_ring + 1) are group 2 (a_ring - 1) + 1 and its weights W(blk - w_stages + 1) group
      // 2 (w_stages - 1); everything newer than the older of the two may stay in flight. Without the weight ring, one group
      // per block and a_ring - 1 of them in flight. The second ring_sync publishes each lane's completed copies
      // (activations, scales) to the others.
      ring_sync(k_run);
      const u32 refill = a_slot == 0 ? a_ring - 1 : a_slot - 1;
      if (blk + a_ring - 1 < blk1)
        copy_activation_block(my_ring + refill * slot_bytes, a_vecs, a_row_vecs, blk + a_ring - 1, rows_staged, lane, local_chunk);
      copy_commit();
      if constexpr (staged) {
        if (blk + w_stages - 1 < blk1) {
          copy_weight_block(my_wring + w_fill * w_stage_bytes, bp, b_slab, sp, (u32)p.n / 8, lane);
          bp += ring * b_slab;
          sp += groups_per_block * ((u32)p.n / 8);
        }
        w_fill = w_fill + 1 == w_stages ? 0 : w_fill + 1;
        copy_commit();
        constexpr int a_pos = 2 * (a_ring - 1) + 1, w_pos = 2 * (w_stages - 1);
        copy_wait<(a_pos < w_pos ? a_pos : w_pos)>();
      } else {
        copy_wait<a_ring - 1>();
      }
      ring_sync(k_run);
    }
    const u32 a_base = my_ring + a_slot * slot_bytes;
    a_slot = a_slot + 1 == a_ring ? 0 : a_slot + 1;
    Vec16 scale[groups_per_block];
    if constexpr (staged) {
      const u32 w_base = my_wring + w_slot * w_stage_bytes;
      w_slot = w_slot + 1 == w_stages ? 0 : w_slot + 1;
      if constexpr (!per_channel) {
#pragma unroll
        for (int q = 0; q < groups_per_block; ++q) scale[q] = lds128(w_base + ring * 512 + 16 * (8 * q + g));
      }
      // One slab's weights ahead of the one in the tensor cores, so the shared load's latency hides behind the math.
      Vec16 next = lds128(w_base + 16 * lane);
#pragma unroll
      for (int i = 0; i < ring; ++i) {
        const Vec16 cur = next;
        if (i + 1 < ring) next = lds128(w_base + 512 * (i + 1) + 16 * lane);
        slab_product(cur, i, a_base, a_lane, live, scale, acc, grp);
      }
    } else {
      if constexpr (!per_channel) {
#pragma unroll
        for (int q = 0; q < groups_per_block; ++q) scale[q] = scale_next[q];
        sp += groups_per_block * ((u32)p.n / 8);
        if (more) {
#pragma unroll
          for (int q = 0; q < groups_per_block; ++q) scale_next[q] = load_weights(sp + q * ((u32)p.n / 8) + g);
        }
      }
#pragma unroll
      for (int i = 0; i < ring; ++i) {
        const Slab cur = slot[i];
        if (more) {  // refill this slot with the same slab of the next block
          slot[i].w = load_weights(bp);
          bp += b_slab;
        }
        slab_product(cur.w, i, a_base, a_lane, live, scale, acc, grp);
      }
    }
  }
  const unsigned long long t_looped = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
#if MARLIN_DEBUG_TIMELINE
  if (lane == 0) timeline_loop_end[warp] = t_looped;
#endif
  if constexpr (normed && !norms_first) row_norms_of_warp(p, sq_entries, warp, lane, row_rstd);

  // ---- Reduction over the warps of every CTA of the cluster, in a fixed order ----
  // acc[bb][j] holds columns 16j + g (e = 0, 1) and 16j + g + 8 (e = 2, 3) of the chunk for batch rows
  // 8bb + 2t (e = 0, 2) and 8bb + 2t + 1 (e = 1, 3).
  // Every CTA sends its partial of each 32-unit key straight into the receive buffer of the CTA that reduces that key
  // (remote shared-memory stores, before the barrier); after one cluster barrier each CTA sums its keys from its own shared
  // memory, in rank order, and is done: no remote loads and no second barrier to keep the partials alive for them. On an
  // H100 a cluster barrier costs ~0.45 us and a remote load ~0.55 us (scripts/gpu/micro/cluster_reduce.cu); loading the
  // peers' partials after the barrier, as this kernel did before, cost both twice per launch. A CTA with several k runs per
  // chunk sums its own warps first (in order), so it sends one partial per key, not k_warps of them.
  const u32 recv_base = smem_addr(recv), me = blockIdx.x;
  if constexpr (k_warps == 1) {
#pragma unroll
    for (int bb = 0; bb < batch_blocks; ++bb)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const ReduceKey d = reduce_key(local_chunk, (bb * 4 + j) * 32 + lane);
        store_peer(recv_at(recv_base, d.key, d.half, parts, me, lane), (u32)d.key % parts,
                   Float4{acc[bb][j][0], acc[bb][j][1], acc[bb][j][2], acc[bb][j][3]});
      }
  } else {
    const u32 partial_base = my_ring_base + a_rings_bytes, partial_stride = warp_tail_bytes;
    if constexpr (staged) __syncwarp();  // the warp's lanes are done reading each other's scales in its ring
#pragma unroll
    for (int bb = 0; bb < batch_blocks; ++bb)
#pragma unroll
      for (int j = 0; j < 4; ++j)
        sts128(partial_base + (u32)warp * partial_stride + 16 * ((bb * 4 + j) * 32 + lane),
               Float4{acc[bb][j][0], acc[bb][j][1], acc[bb][j][2], acc[bb][j][3]});
    __syncthreads();
    for (int x = tid; x < chunks_per_cta * partial_vecs; x += threads) {
      const int lc = x / partial_vecs, u = x % partial_vecs;
      const u32 first = partial_base + (u32)(lc * k_warps) * partial_stride + 16 * u;
      Float4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
      for (int w = 0; w < k_warps; ++w) {
        const Float4 v = lds128f(first + (u32)w * partial_stride);
        sum.x += v.x; sum.y += v.y; sum.z += v.z; sum.w += v.w;
      }
      const ReduceKey d = reduce_key(lc, u);
      store_peer(recv_at(recv_base, d.key, d.half, parts, me, u & 31), (u32)d.key % parts, sum);
    }
  }
  if (parts > 1) cluster_barrier(); else __syncthreads();
  unsigned long long t_loops = 0, t_synced = 0;
#if MARLIN_DEBUG_TIMELINE
  if (tid == 0) {
    t_synced = global_ns();
    for (int w = 0; w < warps; ++w) t_loops = timeline_loop_end[w] > t_loops ? timeline_loop_end[w] : t_loops;
  }
#endif

  if constexpr (swiglu) {
    // Item (bb, j < 2, lane) of a chunk pairs the gate columns 16j + g, +8 of the chunk with the up columns 32 further on.
    for (int item = u_first; item < chunks_per_cta * (partial_vecs / 2); item += parts * threads) {
      const int u = item % (partial_vecs / 2), uc = item / (partial_vecs / 2), chunk = blockIdx.y * chunks_per_cta + uc;
      const int ul = u & 31, j = (u >> 5) & 1, bb = u >> 6, ug = ul >> 2, ut = ul & 3;
      const int row = 8 * bb + 2 * ut;
      if (row >= p.m) continue;
      const int unit = bb * 128 + j * 32 + ul;
      const int col = chunk * 64 + 16 * j + ug;
      const ReduceKey d = reduce_key(uc, unit);  // this CTA's key: item / 32
      Float4 gate = recv_sum(recv_base, d.key, 0, parts, ul), up = recv_sum(recv_base, d.key, 1, parts, ul);
      apply_channel_scales(p, gate, col);
      apply_channel_scales(p, up, col + 32);
      const float r0 = row_rstd[row], r1 = row + 1 < p.m ? row_rstd[row + 1] : 0.0f;
      u16* c0 = p.c + (size_t)row * ((u32)p.n / 2) + chunk * 32 + 16 * j + ug;
      c0[0] = float_to_half(silu_times(gate.x * r0, up.x * r0));
      c0[8] = float_to_half(silu_times(gate.z * r0, up.z * r0));
      if (row + 1 < p.m) {
        c0[p.n / 2] = float_to_half(silu_times(gate.y * r1, up.y * r1));
        c0[p.n / 2 + 8] = float_to_half(silu_times(gate.w * r1, up.w * r1));
      }
    }
  } else {
    // The trip count is the same for all lanes of a warp (partial_vecs and threads are multiples of 32), so the
    // residual epilogue's shuffles see the whole warp: rows past m contribute zeros and store nothing.
    for (int unit = u_first; unit < chunks_per_cta * partial_vecs; unit += parts * threads) {
      const int u = unit % partial_vecs, uc = unit / partial_vecs, chunk = blockIdx.y * chunks_per_cta + uc;
      const int ul = u & 31, j = (u >> 5) & 3, bb = u >> 7, ug = ul >> 2, ut = ul & 3;
      const int row = 8 * bb + 2 * ut;
      if (!residual && row >= p.m) continue;
      const bool has0 = row < p.m, has1 = row + 1 < p.m;
      Float4 sum = has0 ? recv_sum(recv_base, unit >> 5, 0, parts, ul) : Float4{0.0f, 0.0f, 0.0f, 0.0f};
      const int col = chunk * 64 + 16 * j + ug;
      apply_channel_scales(p, sum, col);
      if constexpr (normed) {
        const float r0 = row_rstd[row], r1 = has1 ? row_rstd[row + 1] : 0.0f;
        sum.x *= r0; sum.z *= r0; sum.y *= r1; sum.w *= r1;
      }
      u16* c0 = p.c + (size_t)row * (u32)p.n + col;
      if constexpr (residual) {
        // New residual values (rounded to FP16 as stored) and their squares, summed over the 16 columns of block j.
        const bool first = unit == u_first;
        float v00 = 0.0f, v01 = 0.0f, v10 = 0.0f, v11 = 0.0f;
        if (has0) {
          v00 = half_to_float(float_to_half(half_to_float(first ? c_first[0] : load_half_cg(c0)) + sum.x));
          v01 = half_to_float(float_to_half(half_to_float(first ? c_first[1] : load_half_cg(c0 + 8)) + sum.z));
        }
        if (has1) {
          v10 = half_to_float(float_to_half(half_to_float(first ? c_first[2] : load_half_cg(c0 + p.n)) + sum.y));
          v11 = half_to_float(float_to_half(half_to_float(first ? c_first[3] : load_half_cg(c0 + p.n + 8)) + sum.w));
        }
        sum = Float4{v00, v10, v01, v11};
        float sq0 = v00 * v00 + v01 * v01, sq1 = v10 * v10 + v11 * v11;
#pragma unroll
        for (int o = 4; o < 32; o <<= 1) {   // over the 8 lanes (g) that share t: lane bits 2..4
          sq0 += __shfl_xor_sync(0xffffffffu, sq0, o);
          sq1 += __shfl_xor_sync(0xffffffffu, sq1, o);
        }
        if (ug == 0) {
          const int blocks16 = p.n >> 4, b16 = chunk * 4 + j;
          if (has0) p.row_sq[(size_t)row * blocks16 + b16] = sq0;
          if (has1) p.row_sq[(size_t)(row + 1) * blocks16 + b16] = sq1;
        }
        if (!has0) continue;
      }
      c0[0] = float_to_half(sum.x);
      c0[8] = float_to_half(sum.z);
      if (has1) {
        c0[p.n] = float_to_half(sum.y);
        c0[p.n + 8] = float_to_half(sum.w);
      }
    }
  }
  const unsigned long long t_reduced = MARLIN_DEBUG_TIMELINE ? global_ns() : 0;
  if (MARLIN_DEBUG_TIMELINE && tid == 0) timeline_record(t_entry, t_waited, t_looped, p.m, t_loops, t_synced, t_reduced);
}
