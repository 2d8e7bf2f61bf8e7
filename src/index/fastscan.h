/* Search kernels of the index room (src/index/fastscan.c): the 4-bit fast scan and the 8-bit
 * ADC scan.
 *
 * 4-bit fast scan. An opened 4-bit index holds each partition's codes as LanceDB stores them:
 * n rows of M/2 bytes, transposed (byte row j of the partition holds byte j of every row; byte
 * j of a row packs sub-vector 2j in its low nibble and 2j+1 in its high one). At open (or when
 * a partition enters the cache) pa_fs_pack re-lays them into blocks of PA_FS_BLOCK = 32 rows,
 * PA_FS_SUPER blocks to a super-block: per super-block, per sub-space m (M padded with zero
 * codes to a multiple of PA_FS_GROUP), 16 bytes for each of its blocks in turn, whose byte i
 * holds the block's row i's code in its low nibble and row 16+i's in its high one. A probe's
 * float table (M x 16) is quantised to bytes (pa_fs_quantize: per sub-space its minimum taken
 * out, one scale for all, so that the sum over M sub-spaces fits 16 bits); the kernels look the
 * bytes up with byte shuffles (16 entries = one 128-bit lane, the sub-space's table in every
 * lane: an AVX-512 register holds one sub-space of a super-block's 4 blocks, an AVX2 one of 2)
 * and add them in 16-bit lanes, giving every row's quantised sum (each lane one block's: no
 * sums across lanes). A row is
 * then offered by its approximate distance base + bias + delta * sum to a heap of k * R
 * candidates (R the re-rank factor); each row the heap takes carries its exact distance from
 * the float table (base + the table entries summed in sub-space order, as the plain 4-bit scan
 * sums them) in aux, by which the search re-ranks the candidates. The sums are integers, so
 * every kernel (scalar, AVX2, AVX-512 with BW; the level of the nearest-codeword kernels,
 * pa_kernel_level: PA_KERNEL and pa_kernel_set narrow it) gives the same candidates, distances
 * and order. */
#ifndef PA_INDEX_FASTSCAN_H
#define PA_INDEX_FASTSCAN_H

#include "common/common.h"
#include "common/vecmath.h"

#define PA_FS_BLOCK 32u /* rows per block */
#define PA_FS_SUPER 4u  /* blocks per super-block (one AVX-512 register of a sub-space's codes) */
#define PA_FS_GROUP 4u  /* sub-spaces are padded to a multiple of this (one AVX-512 register) */
#define PA_FS_KSUB 16u  /* codewords per sub-space at 4 bits */

/* Sub-spaces of the blocked layout (M padded to a multiple of PA_FS_GROUP). */
static inline uint32_t pa_fs_padded_m(uint32_t M)
{
    return (M + PA_FS_GROUP - 1) / PA_FS_GROUP * PA_FS_GROUP;
}

/* Blocks of n rows. */
static inline uint64_t pa_fs_blocks(uint64_t n) { return (n + PA_FS_BLOCK - 1) / PA_FS_BLOCK; }

/* Super-blocks of nb blocks. */
static inline uint64_t pa_fs_supers(uint64_t nb) { return (nb + PA_FS_SUPER - 1) / PA_FS_SUPER; }

/* Bytes of a super-block's codes of one sub-space. */
#define PA_FS_SUPER_BYTES (PA_FS_SUPER * PA_FS_BLOCK / 2)

/* Bytes of the blocked layout of n rows of M 4-bit codes (what pa_fs_pack writes: whole
 * super-blocks). */
static inline uint64_t pa_fs_layout_bytes(uint64_t n, uint32_t M)
{
    return pa_fs_supers(pa_fs_blocks(n)) * pa_fs_padded_m(M) * PA_FS_SUPER_BYTES;
}

/* The offset of row i's byte of sub-space m in a blocked layout with Mp padded sub-spaces (the
 * row's code: its low nibble for the first 16 rows of its block, else its high one). */
static inline uint64_t pa_fs_byte_of(uint32_t Mp, uint64_t i, uint32_t m)
{
    const uint64_t rows = (uint64_t)PA_FS_SUPER * PA_FS_BLOCK;
    return (i / rows) * Mp * PA_FS_SUPER_BYTES + (uint64_t)m * PA_FS_SUPER_BYTES +
           (i % rows) / PA_FS_BLOCK * (PA_FS_BLOCK / 2) + i % (PA_FS_BLOCK / 2);
}

/* Re-lays n rows of M 4-bit codes from the index's transposed packed layout (codes: M/2 byte
 * rows of n bytes) into blocks (pa_fs_layout_bytes(n, M) bytes; padding rows and sub-spaces
 * hold code 0). */
void pa_fs_pack(const uint8_t *codes, uint64_t n, uint32_t M, uint8_t *blocks);

/* Row i's code of sub-space m in a blocked layout with Mp padded sub-spaces. */
static inline uint32_t pa_fs_code(const uint8_t *blocks, uint32_t Mp, uint64_t i, uint32_t m)
{
    const uint8_t b = blocks[pa_fs_byte_of(Mp, i, m)];
    return (i % PA_FS_BLOCK) < PA_FS_BLOCK / 2 ? b & 15u : b >> 4;
}

/* Quantises a float table of M x 16 entries into lut (pa_fs_padded_m(M) x 16 bytes, padding
 * zero): entry q = round((t - min_m) / delta), at most qmax = min(255, 65535 / M), with delta
 * the largest sub-space range over qmax; *bias = the minima summed in sub-space order. A row's
 * table sum is then about bias + delta * (its quantised sum). */
void pa_fs_quantize(const float *table, uint32_t M, uint8_t *lut, float *bias, float *delta);

/* Quantised sums of the rows of nb blocks (Mp padded sub-spaces; the layout's whole
 * super-blocks are read) into sums (nb x 32). */
void pa_fs_accumulate(const uint8_t *blocks, uint64_t nb, uint32_t Mp, const uint8_t *lut,
                      uint16_t *sums);

/* Queries whose sums pa_fs_accumulate_multi takes over the same blocks at once (the scans of a
 * partition that several queries probe: its codes are loaded and split into nibbles once). */
#define PA_FS_QUERIES 4u

/* pa_fs_accumulate for Q queries (at most PA_FS_QUERIES) over the same blocks: query q's table
 * luts[q], its sums into sums[q], the sums pa_fs_accumulate gives it. */
void pa_fs_accumulate_multi(const uint8_t *blocks, uint64_t nb, uint32_t Mp,
                            const uint8_t *const *luts, uint16_t *const *sums, uint32_t Q);

/* Per-thread scratch of a fast scan: PA_FS_QUERIES quantised tables and sums of the largest
 * partition's blocks (sums_len each), and each block's smallest sum. */
typedef struct pa_fs_scratch {
    uint8_t *lut;
    uint16_t *sums;
    uint16_t *mins;
    uint64_t sums_len;
} pa_fs_scratch;

/* Entries of the blocks' smallest sums for nb blocks (padded to a multiple of PA_FS_BLOCK). */
static inline uint64_t pa_fs_mins_len(uint64_t nb)
{
    return (nb + PA_FS_BLOCK - 1) / PA_FS_BLOCK * PA_FS_BLOCK;
}

/* Bytes pa_fs_scratch_init allocates for M sub-spaces and partitions of at most max_rows. */
static inline uint64_t pa_fs_scratch_bytes(uint32_t M, uint64_t max_rows)
{
    const uint64_t nb = pa_fs_blocks(PA_MAX(max_rows, 1));
    return (uint64_t)PA_FS_QUERIES * pa_fs_padded_m(M) * PA_FS_KSUB +
           ((uint64_t)PA_FS_QUERIES * nb * PA_FS_BLOCK + pa_fs_mins_len(nb)) * sizeof(uint16_t);
}
pa_status pa_fs_scratch_init(pa_fs_scratch *s, uint32_t M, uint64_t max_rows);
void pa_fs_scratch_free(pa_fs_scratch *s);

/* Scans one partition of n rows (ids; blocks: its blocked codes) for one query whose float table
 * (M x 16, the partition's terms included) is `table` and whose distance to the partition's
 * centroid part is base: rows offered to the heap (cap entries, *hn held) by approximate
 * distance, each taken row's exact distance in its aux. Offers only rows the heap can take (a
 * row whose approximate distance exceeds the heap's worst is skipped), so the heap is the one
 * offering every row would give. Returns the rows whose exact distance was computed. */
uint64_t pa_fs_scan_partition(const uint8_t *blocks, const uint64_t *ids, uint64_t n, uint32_t M,
                              const float *table, float base, pa_fs_scratch *s, pa_topk_cand *heap,
                              uint32_t *hn, uint32_t cap);

/* pa_fs_scan_partition for Q queries (at most PA_FS_QUERIES) that probe the same partition:
 * query q's table tables[q], base bases[q], heap heaps[q] (*hns[q] held); each heap as
 * pa_fs_scan_partition leaves it. Returns the rows whose exact distance was computed. */
uint64_t pa_fs_scan_partition_multi(const uint8_t *blocks, const uint64_t *ids, uint64_t n,
                                    uint32_t M, uint32_t Q, const float *const *tables,
                                    const float *bases, pa_fs_scratch *s,
                                    pa_topk_cand *const *heaps, uint32_t *const *hns, uint32_t cap);

/* The products of n queries (rows of M * ds floats, one after another) with every codeword of a
 * 4-bit codebook, for their tables: for query i, qy[i * M * 16 + m * 16 + j] = q_m . y_{m,j}
 * over the ds dimensions of sub-space m, each one fused multiply-add chain over the dimensions
 * in order from 0 (as sgemm's kernels sum these short products, so that the tables are those
 * the blocked sgemm gives). cbt: the codebook transposed per sub-space
 * (pa_fs_transpose_codebook: cbt[(m * ds + t) * 16 + j] = y_{m,j}[t]). Every kernel gives the
 * same floats, whatever n (the SIMD kernels take several queries per load of cbt). */
void pa_fs_transpose_codebook(const float *codebook, uint32_t M, uint32_t ds, float *cbt);
void pa_fs_query_products(const float *q, uint64_t n, uint32_t M, uint32_t ds, const float *cbt,
                          float *qy);

/* ---- 8-bit ADC ---- */

/* A probe's table: table[t] = pre[t] - 2 qy[t] (l2/cosine: the partition's terms and the
 * query's products; pre may be table itself) or, pre NULL (dot), -qy[t], for t < T. Every
 * kernel gives the same floats. */
void pa_adc_table(float *table, const float *pre, const float *qy, uint64_t T);

/* Scans one partition of n rows of M-byte codes (transposed: byte row m holds sub-space m of
 * every row) for one query: each row's distance base + its table entries summed in sub-space
 * order (table: M x 256), offered to the heap (cap entries, *hn held) unless the heap is full
 * and holds only nearer rows. Kernels (scalar 4 rows at a time, AVX2 8 and AVX-512 16 rows per
 * gather) give the same floats, so the same heap. */
void pa_adc8_scan(const uint8_t *codes, const uint64_t *ids, uint64_t n, uint32_t M,
                  const float *table, float base, pa_topk_cand *heap, uint32_t *hn, uint32_t cap);

#endif
