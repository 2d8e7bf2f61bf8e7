/* The MPI driver of `partifact build --mpi` (issue 16; docs/scale-out.md): one process per
 * rank of an MPI job (mpirun -n N partifact build --mpi ...). The room is built only when CMake
 * finds MPI, and linked into the CLI only: libpartifact never links MPI. Everything it runs is
 * the library's public API (pa_train_input_comm, pa_encode_input of a shard,
 * pa_index_finalize_artifacts, pa_table_commit_segments), the steps any other engine can drive;
 * this room adds the MPI sum, the shares and the collective checks between the steps. */
#ifndef PA_MPI_BUILD_H
#define PA_MPI_BUILD_H

#include "partifact.h"

#include <stdbool.h>

/* What one rank runs: every rank is given the same. */
typedef struct pa_mpi_build_args {
    const char *input;       /* a Lance table (shared by fragments) or a vector file (by rows) */
    pa_vec_input_options io; /* column, version, skip_invalid                                  */
    const char *out;         /* NULL (commit only): the index, or a directory of segments      */
    bool force;              /* replace an existing index at out (one segment)                 */
    bool commit;             /* commit into the table input                                    */
    const char *name;        /* the index name (NULL: <column>_idx)                            */
    bool replace;            /* replace an index of that name                                  */
    bool one_segment;        /* rank 0 finalizes every shard into one segment                  */
    pa_ivfpq_params params;  /* num_partitions, num_sub_vectors 0: pa_build's defaults         */
    pa_build_options build;  /* accelerator (encode), buckets, memory, batch, work_dir, keep, */
                             /* progress (rank 0's encode)                                     */
    /* rank 0: each step as it ends (seconds since the job started) */
    void (*phase)(void *ctx, const char *step, int ranks, double seconds);
    void *phase_ctx;
} pa_mpi_build_args;

/* One rank's figures, gathered to rank 0. */
typedef struct pa_mpi_rank {
    uint64_t sample_rows;                      /* its share of the training sample         */
    uint64_t rows;                             /* rows it encoded                          */
    uint64_t shard_begin, shard_end;           /* fragments [i, j) of the table's list, or */
                                               /* rows [begin, end) of a file               */
    uint64_t artifact_bytes, segment_bytes;    /* its artifact; its segment (0: none)       */
    uint64_t train_sum_bytes, train_sum_calls; /* what its training summed over the ranks  */
    double train_seconds, encode_seconds, finalize_seconds;
} pa_mpi_rank;

typedef struct pa_mpi_build_result {
    int rank, size;
    /* A failure: the lowest failing rank (-1: none) and the step; with fatal, this rank failed
     * where the others wait for it (out of memory in training): the caller ends the job
     * (pa_mpi_abort) after printing the message. */
    int failed_rank;
    const char *failed_step;
    bool fatal;
    bool is_table;
    uint64_t rows; /* rows encoded by all ranks                                       */
    uint32_t dim, partitions, sub_vectors, segments;
    pa_metric metric;
    pa_ivfpq_train_stats train;
    double train_seconds, encode_seconds, finalize_seconds, commit_seconds, seconds;
    const char *job_dir; /* the job's shared directory (kept with keep_work)                 */
    pa_table_commit_result commit;
    char (*segment_uuids)[37]; /* commit: one per segment (malloc'd)                        */
    pa_mpi_rank *ranks;        /* rank 0: every rank's figures (size of them, malloc'd)      */
} pa_mpi_build_result;

/* Runs this rank's part of the build: MPI_Init (and, where OMP_NUM_THREADS is unset, OpenMP
 * threads: the node's cores shared by the ranks on it), train (distributed), encode this rank's shard,
 * finalize (its own segment, or rank 0 all of them), and on rank 0, after every rank
 * succeeded, commit. Every rank returns the same status: the lowest failing rank's, its message
 * "rank R of N, STEP: ..." (pa_last_error); the caller prints it on rank 0 only. */
pa_status pa_mpi_build(const pa_mpi_build_args *a, pa_mpi_build_result *r);
/* Frees r's arrays and ends MPI (MPI_Finalize). */
void pa_mpi_build_finish(pa_mpi_build_result *r);
/* Ends every rank of the job with exit code code (MPI_Abort). */
void pa_mpi_abort(int code);

/* Fault injection for the tests: the rank PARTIFACT_MPI_KILL_RANK raises SIGKILL once it has
 * encoded PARTIFACT_MPI_KILL_ROWS rows (both unset: never). */
#define PA_MPI_KILL_RANK_ENV "PARTIFACT_MPI_KILL_RANK"
#define PA_MPI_KILL_ROWS_ENV "PARTIFACT_MPI_KILL_ROWS"

#endif
