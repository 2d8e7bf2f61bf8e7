/* partifact build --mpi: the distributed build as an MPI job (see mpi_build.h and
 * docs/scale-out.md).
 *
 * Every rank runs the same steps; between them a collective check (agree) makes every rank
 * stop together with the lowest failing rank's message, so a failure anywhere ends the job
 * before the next step, and the commit, rank 0's last step, happens only after every rank's
 * finalize succeeded. A killed rank ends the job through mpirun, which ends the others: what
 * is left is the job directory, locked by rank 0 while it lived, which the next run removes.
 *
 *   start     rank 0: the table's checks (pa_table_commit_check), the output, the job
 *             directory; the table's version and fragments, which every rank then reads
 *   train     every rank samples its share and trains with the others (pa_train_input_comm,
 *             the sums added over the ranks by mpi_sum); each saves its copy of the model
 *   encode    each rank encodes its shard (a run of fragments, or of rows) into its artifact
 *   finalize  each rank its own segment, or (one_segment) rank 0 all shards into one
 *   commit    rank 0: the output directory, then the segments into the table
 *
 * The job directory (shared by the ranks: a shared filesystem on a cluster) holds
 * rank-R/model.lance, rank-R/artifact and, without an output, segments/segment-RRRR or index. */
#include "mpi/mpi_build.h"

#include "common/common.h"

#include <errno.h>
#include <inttypes.h>
#include <mpi.h>
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The job directory: inside the table (commit without an output), or beside the output. */
#define JOB_IN_TABLE "/.partifact-mpi"
#define JOB_TAG_TABLE "-"
#define JOB_TAG_OUT ".mpi-"
#define SEGMENT_NAME "segment-%04d" /* a rank's segment in the segments directory */
#define SUM_TAG 17                  /* the training sums' messages */
#define SUM_CHUNK (1u << 24)        /* doubles per message: 128 MiB */
#define MSG_BYTES 2048              /* a failing rank's message, as broadcast */
#define PATH_BYTES 4096
#define SUB_BYTES (PATH_BYTES + 256) /* a path inside the job directory */

typedef struct job {
    int rank, size;
    MPI_Comm ctl, train; /* the collective checks; the training's sums (its own messages) */
    uint64_t sum_calls, sum_bytes;
    double *tmp; /* a received chunk of sums */
} job;

/* The training's sum (pa_train_comm.sum): in a fixed binary tree, rank r adding what rank
 * r + d holds (the sum of ranks r + d .. r + 2d - 1) to its own for d = 1, 2, 4, ... in turn,
 * so that rank 0 holds ((v0 + v1) + (v2 + v3)) + ...: the same association every time,
 * whatever the timing; then rank 0's total is broadcast. Each rank sends count doubles once
 * and receives them at most log2(size) + 1 times. */
static pa_status mpi_sum(void *ctx, double *v, size_t count)
{
    job *j = ctx;
    j->sum_calls++;
    j->sum_bytes += count * sizeof(double);
    if (j->size == 1)
        return PA_OK;
    if (!j->tmp && !(j->tmp = pa_malloc(sizeof(double) * SUM_CHUNK, "the ranks' sums")))
        return PA_ERR_NOMEM;
    for (size_t off = 0; off < count; off += SUM_CHUNK) {
        const int n = (int)PA_MIN((size_t)SUM_CHUNK, count - off);
        for (int d = 1; d < j->size; d <<= 1) {
            if (j->rank & d) {
                MPI_Send(v + off, n, MPI_DOUBLE, j->rank - d, SUM_TAG, j->train);
                break;
            }
            if (j->rank + d < j->size) {
                MPI_Recv(j->tmp, n, MPI_DOUBLE, j->rank + d, SUM_TAG, j->train, MPI_STATUS_IGNORE);
                for (int i = 0; i < n; i++)
                    v[off + i] += j->tmp[i];
            }
        }
        MPI_Bcast(v + off, n, MPI_DOUBLE, 0, j->train);
    }
    return PA_OK;
}

/* The collective check after a step: every rank's status; the lowest failing rank's status
 * and message become every rank's (a rank that failed only because another one did, as the
 * training's collective check says, yields to it). */
static pa_status agree(job *j, pa_status st, const char *step, pa_mpi_build_result *r)
{
    const bool echo = st != PA_OK && strcmp(pa_last_error(), PA_TRAIN_COMM_REFUSED) == 0;
    int mine = st == PA_OK ? 2 * j->size : echo ? j->size + j->rank : j->rank, first = 0;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, j->ctl);
    if (first == 2 * j->size)
        return PA_OK;
    first %= j->size;
    struct {
        int st;
        char msg[MSG_BYTES];
    } m = {0};
    if (j->rank == first) {
        m.st = (int)st;
        snprintf(m.msg, sizeof m.msg, "%s", pa_last_error());
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, j->ctl);
    r->failed_rank = first;
    r->failed_step = step;
    return pa_fail((pa_status)m.st, "rank %d of %d, %s: %s", first, j->size, step, m.msg);
}

/* A path broadcast from rank 0. */
static void bcast_path(job *j, char *path) { MPI_Bcast(path, PATH_BYTES, MPI_CHAR, 0, j->ctl); }

/* The table's fragments as rank 0 read them: ids and live rows, and the version. */
typedef struct table_frags {
    uint64_t version, n;
    uint64_t *ids, *live;
} table_frags;

static pa_status read_fragments(const char *table, uint64_t version, table_frags *t)
{
    pa_dataset *ds = NULL;
    pa_status st = pa_dataset_open_version(&ds, table, version);
    if (st != PA_OK)
        return st;
    t->version = pa_dataset_version(ds);
    t->n = pa_dataset_num_fragments(ds);
    t->ids = pa_malloc(sizeof(uint64_t) * (t->n ? t->n : 1), "the table's fragments");
    t->live = pa_malloc(sizeof(uint64_t) * (t->n ? t->n : 1), "the table's fragments");
    if (!t->ids || !t->live)
        st = PA_ERR_NOMEM;
    for (uint64_t i = 0; i < t->n && st == PA_OK; i++) {
        uint64_t rows = 0;
        st = pa_dataset_fragment(ds, i, &t->ids[i], &rows);
        t->live[i] = rows - pa_dataset_fragment_deleted(ds, i);
    }
    pa_dataset_free(ds);
    return st;
}

/* Every rank gets rank 0's table_frags (allocated where not rank 0). */
static pa_status bcast_fragments(job *j, table_frags *t)
{
    uint64_t head[2] = {t->version, t->n};
    MPI_Bcast(head, 2, MPI_UINT64_T, 0, j->ctl);
    if (j->rank) {
        t->version = head[0], t->n = head[1];
        t->ids = pa_malloc(sizeof(uint64_t) * (t->n ? t->n : 1), "the table's fragments");
        t->live = pa_malloc(sizeof(uint64_t) * (t->n ? t->n : 1), "the table's fragments");
        if (!t->ids || !t->live)
            return PA_ERR_NOMEM; /* (the broadcast below would then fail: out of memory ends
                                  * the job) */
    }
    MPI_Bcast(t->ids, (int)t->n, MPI_UINT64_T, 0, j->ctl);
    MPI_Bcast(t->live, (int)t->n, MPI_UINT64_T, 0, j->ctl);
    return PA_OK;
}

/* Rank r's share of n items of weights w (NULL: 1 each): item i goes to the rank its first
 * unit falls in, floor(before_i * size / total), so each rank gets one run [*b, *e) of about
 * total / size units (and none when there are fewer items than ranks). */
static void share(const uint64_t *w, uint64_t n, int rank, int size, uint64_t *b, uint64_t *e)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += w ? w[i] : 1;
    *b = *e = n;
    for (uint64_t i = 0, before = 0; i < n; i++) {
        const uint64_t owner = total
                                   ? (uint64_t)((unsigned __int128)before * (unsigned)size / total)
                                   : 0;
        if (owner == (uint64_t)rank && *b == n)
            *b = i;
        if (owner > (uint64_t)rank) {
            *e = i;
            break;
        }
        before += w ? w[i] : 1;
    }
    if (*b == n)
        *e = n;
}

/* Encode's fault injection (mpi_build.h): SIGKILL once kill_rows rows are encoded. */
static void kill_after(void *ctx, const char *stage, uint64_t done, uint64_t total)
{
    const uint64_t *rows = ctx;
    if (!strcmp(stage, "encode") && done >= *rows)
        raise(SIGKILL);
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Rank 0's start: the table's refusals, the output's, the job directory. */
static pa_status start(const pa_mpi_build_args *a, pa_workdir *work, pa_out_dir *segout,
                       bool *have_segout, char *jobdir, char *segdir)
{
    const char *column = a->io.column;
    pa_status st = PA_OK;
    if (a->commit && (st = pa_table_commit_check(a->input, column, a->name, a->replace)) != PA_OK)
        return st;
    const char *inputs[] = {a->input, a->build.backend_path};
    if (a->out)
        st = pa_output_check(a->out, a->force && a->one_segment,
                             a->one_segment ? PA_INDEX_FILE_NAME : NULL, inputs, 2);
    if (st == PA_OK && a->out && !a->one_segment &&
        (st = pa_out_dir_open(segout, a->out, false, NULL)) == PA_OK)
        *have_segout = true;
    if (st != PA_OK)
        return st;
    char prefix[PATH_BYTES];
    if (a->build.work_dir) {
        snprintf(prefix, sizeof prefix, "%s", a->build.work_dir);
    } else if (a->out) {
        snprintf(prefix, sizeof prefix, "%s" JOB_TAG_OUT, a->out);
        pa_remove_orphans(a->out, JOB_TAG_OUT); /* what killed jobs of this output left */
    } else {
        snprintf(prefix, sizeof prefix, "%s" JOB_IN_TABLE, a->input);
        pa_remove_orphans(prefix, JOB_TAG_TABLE); /* what killed jobs in this table left */
        snprintf(prefix, sizeof prefix, "%s" JOB_IN_TABLE JOB_TAG_TABLE, a->input);
    }
    if ((st = pa_workdir_create(work, prefix, a->build.work_dir != NULL)) != PA_OK)
        return st;
    snprintf(jobdir, PATH_BYTES, "%s", work->path);
    if (*have_segout) {
        snprintf(segdir, PATH_BYTES, "%s", segout->dir);
    } else {
        snprintf(segdir, PATH_BYTES, "%s/segments", jobdir);
        if (mkdir(segdir, 0755) != 0)
            return pa_fail(PA_ERR_IO, "%s: cannot make the segments directory: %s", segdir,
                           strerror(errno));
    }
    return PA_OK;
}

/* Runs this rank's part of the build (see the header). */
pa_status pa_mpi_build(const pa_mpi_build_args *a, pa_mpi_build_result *r)
{
    memset(r, 0, sizeof *r);
    r->failed_rank = -1;
    r->commit = (pa_table_commit_result)PA_TABLE_COMMIT_RESULT_INIT;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        MPI_Init(NULL, NULL);
    job j = {0};
    MPI_Comm_rank(MPI_COMM_WORLD, &j.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &j.size);
    MPI_Comm_dup(MPI_COMM_WORLD, &j.ctl);
    MPI_Comm_dup(MPI_COMM_WORLD, &j.train);
    r->rank = j.rank, r->size = j.size;
    if (!getenv("OMP_NUM_THREADS")) { /* the ranks on one node share its cores */
        MPI_Comm node;
        int local = 1;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
        omp_set_num_threads(PA_MAX(1, omp_get_num_procs() / local));
    }
    const double t0 = MPI_Wtime();
    double tstep = t0;
    pa_vec_input *in = NULL, *shard = NULL;
    pa_ivfpq_model *model = NULL;
    pa_backend *backend = NULL;
    pa_workdir work = {.lock_fd = -1};
    pa_out_dir segout = {0};
    bool have_segout = false, have_work = false;
    table_frags tf = {0};
    pa_mpi_rank me = {0};
    char jobdir[PATH_BYTES] = "", segdir[PATH_BYTES] = "", model_path[SUB_BYTES * 2],
         artifact[SUB_BYTES * 2], segment[SUB_BYTES];
    const char **dirs = NULL;
    int *has = NULL;
    pa_status st = PA_OK;
    r->is_table = is_dir(a->input);
#define STEP(name)                                                  \
    do {                                                            \
        if ((st = agree(&j, st, name, r)) != PA_OK)                 \
            goto done;                                              \
        if (j.rank == 0 && a->phase)                                \
            a->phase(a->phase_ctx, name, j.size, MPI_Wtime() - t0); \
    } while (0)

    /* start: rank 0 checks and makes what the ranks share, and reads the table's fragments */
    if (j.rank == 0) {
        st = start(a, &work, &segout, &have_segout, jobdir, segdir);
        have_work = work.path != NULL;
        if (st == PA_OK && r->is_table)
            st = read_fragments(a->input, a->io.version, &tf);
    }
    STEP("start");
    bcast_path(&j, jobdir);
    bcast_path(&j, segdir);
    if (r->is_table && (st = bcast_fragments(&j, &tf)) != PA_OK)
        goto fatal;
    r->job_dir = pa_strdup(jobdir, "the job directory");

    /* train: every rank reads the version rank 0 read, samples its share, trains with the
     * others, and saves its copy of the model */
    pa_vec_input_options io = a->io;
    if (r->is_table)
        io.version = tf.version;
    pa_ivfpq_params prm = a->params;
    st = pa_vec_input_open(&in, a->input, &io);
    if (st == PA_OK) {
        r->dim = pa_vec_input_dim(in);
        if (!prm.num_partitions)
            prm.num_partitions = pa_build_default_partitions(pa_vec_input_num_rows(in));
        if (!prm.num_sub_vectors)
            prm.num_sub_vectors = pa_build_default_sub_vectors(r->dim);
        r->partitions = prm.num_partitions, r->sub_vectors = prm.num_sub_vectors;
        r->metric = prm.metric;
    }
    STEP("open");
    tstep = MPI_Wtime();
    pa_train_comm comm = {.struct_size = sizeof comm,
                          .rank = (uint32_t)j.rank,
                          .size = (uint32_t)j.size,
                          .sum = mpi_sum,
                          .ctx = &j};
    r->train = (pa_ivfpq_train_stats)PA_IVFPQ_TRAIN_STATS_INIT;
    st = pa_train_input_comm(&model, in, &prm, &comm, &r->train);
    if (st == PA_ERR_NOMEM) /* the others may be waiting in a sum: only the job's end ends them */
        goto fatal;
    me.train_sum_calls = j.sum_calls, me.train_sum_bytes = j.sum_bytes;
    if (st == PA_OK) {
        char rankdir[SUB_BYTES];
        snprintf(rankdir, sizeof rankdir, "%s/rank-%d", jobdir, j.rank);
        snprintf(model_path, sizeof model_path, "%s/model.lance", rankdir);
        if (mkdir(rankdir, 0755) != 0)
            st = pa_fail(PA_ERR_IO, "%s: cannot make the rank's directory: %s", rankdir,
                         strerror(errno));
        else
            st = pa_ivfpq_model_save(model, model_path);
        snprintf(artifact, sizeof artifact, "%s/artifact", rankdir);
    }
    me.train_seconds = MPI_Wtime() - tstep;
    STEP("train");
    r->train_seconds = MPI_Wtime() - tstep;
    /* the share of the training sample this rank read (runs of the sample, as
     * pa_train_input_comm cuts it) */
    me.sample_rows = r->train.sample_rows * (uint64_t)(j.rank + 1) / (uint64_t)j.size -
                     r->train.sample_rows * (uint64_t)j.rank / (uint64_t)j.size;

    /* encode: this rank's shard into its artifact */
    tstep = MPI_Wtime();
    pa_vec_input_options so = io;
    if (r->is_table) {
        share(tf.live, tf.n, j.rank, j.size, &me.shard_begin, &me.shard_end);
        so.fragments = tf.ids + me.shard_begin;
        so.num_fragments = (size_t)(me.shard_end - me.shard_begin);
    } else {
        const uint64_t n = pa_vec_input_num_rows(in);
        me.shard_begin = n * (uint64_t)j.rank / (uint64_t)j.size;
        me.shard_end = n * (uint64_t)(j.rank + 1) / (uint64_t)j.size;
        so.row_begin = me.shard_begin, so.row_end = me.shard_end;
    }
    const bool mine = me.shard_end > me.shard_begin;
    pa_encode_stats es = PA_ENCODE_STATS_INIT;
    uint64_t kill_rows = 0;
    const char *kr = getenv(PA_MPI_KILL_RANK_ENV), *kn = getenv(PA_MPI_KILL_ROWS_ENV);
    const bool kill_me = kr && kn && atoi(kr) == j.rank && (kill_rows = strtoull(kn, NULL, 10));
    if (mine && (st = pa_vec_input_open(&shard, a->input, &so)) == PA_OK &&
        (st = pa_backend_open(&backend,
                              a->build.accelerator ? a->build.accelerator : PA_DEFAULT_BACKEND,
                              a->build.backend_path, a->build.backend_options)) == PA_OK) {
        pa_encode_options eo = {.struct_size = sizeof eo,
                                .num_buckets = a->build.num_buckets,
                                .memory_bytes = a->build.memory_bytes,
                                .batch_rows = a->build.batch_rows,
                                .model_path = model_path,
                                .progress = kill_me       ? kill_after
                                            : j.rank == 0 ? a->build.progress
                                                          : NULL,
                                .progress_ctx = kill_me ? (void *)&kill_rows
                                                        : a->build.progress_ctx};
        st = pa_encode_input(shard, model, backend, artifact, &eo, &es);
        me.rows = es.rows, me.artifact_bytes = es.bytes;
    }
    me.encode_seconds = MPI_Wtime() - tstep;
    STEP("encode");
    r->encode_seconds = MPI_Wtime() - tstep;

    /* finalize: each rank its segment, or rank 0 every shard into one */
    tstep = MPI_Wtime();
    int mine_i = mine;
    if (!(has = pa_malloc(sizeof(int) * (size_t)j.size, "the ranks' shards")) ||
        !(dirs = pa_calloc((size_t)j.size, sizeof *dirs, "the segments")))
        goto fatal;
    MPI_Allgather(&mine_i, 1, MPI_INT, has, 1, MPI_INT, j.ctl);
    pa_index_finalize_options fo = {.struct_size = sizeof fo,
                                    .memory_bytes = a->build.memory_bytes,
                                    .num_threads = PA_DEFAULT_FINALIZE_THREADS};
    pa_index_finalize_stats fs = PA_INDEX_FINALIZE_STATS_INIT;
    if (a->one_segment && j.rank == 0) {
        size_t n = 0;
        for (int q = 0; q < j.size; q++)
            if (has[q]) {
                char p[SUB_BYTES];
                snprintf(p, sizeof p, "%s/rank-%d/artifact", jobdir, q);
                if (!(dirs[n++] = pa_strdup(p, "an artifact's path")))
                    st = PA_ERR_NOMEM;
            }
        if (a->out)
            snprintf(segment, sizeof segment, "%s", a->out);
        else
            snprintf(segment, sizeof segment, "%s/index", segdir);
        fo.replace = a->force;
        if (st == PA_OK)
            st = pa_index_finalize_artifacts(dirs, n, model_path, segment, &fo, &fs);
        me.segment_bytes = fs.index_bytes;
        r->segments = 1;
    } else if (!a->one_segment && mine) {
        snprintf(segment, sizeof segment, "%s/" SEGMENT_NAME, segdir, j.rank);
        st = pa_index_finalize_artifacts((const char *const[]){artifact}, 1, model_path, segment,
                                         &fo, &fs);
        me.segment_bytes = fs.index_bytes;
    }
    me.finalize_seconds = MPI_Wtime() - tstep;
    STEP("finalize");
    r->finalize_seconds = MPI_Wtime() - tstep;
    if (!a->one_segment)
        for (int q = 0; q < j.size; q++)
            r->segments += has[q] != 0;

    /* commit (rank 0): the output's directory of segments, then the segments into the table */
    tstep = MPI_Wtime();
    if (j.rank == 0) {
        const char *root = segdir;
        if (have_segout) {
            st = pa_out_dir_commit(&segout);
            have_segout = false;
            root = a->out;
        }
        size_t n = 0;
        if (st == PA_OK && a->commit && a->one_segment) {
            free((char *)dirs[n]);
            dirs[n++] = pa_strdup(segment, "the segment's path");
        } else if (st == PA_OK && a->commit) {
            for (int q = 0; q < j.size; q++)
                if (has[q]) {
                    char p[SUB_BYTES];
                    snprintf(p, sizeof p, "%s/" SEGMENT_NAME, root, q);
                    free((char *)dirs[n]);
                    dirs[n++] = pa_strdup(p, "a segment's path");
                }
        }
        for (size_t i = 0; i < n && st == PA_OK; i++)
            if (!dirs[i])
                st = PA_ERR_NOMEM;
        if (st == PA_OK && a->commit) {
            pa_table_commit_options co = {.struct_size = sizeof co,
                                          .name = a->name,
                                          .replace = a->replace};
            r->segment_uuids = pa_calloc(n, sizeof *r->segment_uuids, "the segments' uuids");
            r->commit.segment_uuids = r->segment_uuids;
            st = r->segment_uuids ? pa_table_commit_segments(a->input, dirs, n, &co, &r->commit)
                                  : PA_ERR_NOMEM;
        }
    }
    STEP("commit");
    r->commit_seconds = MPI_Wtime() - tstep;
    r->seconds = MPI_Wtime() - t0;

done:
    /* every rank's figures to rank 0 (every rank comes here through the same checks) */
    if (j.rank == 0 && !(r->ranks = pa_calloc((size_t)j.size, sizeof *r->ranks, "figures")))
        goto fatal;
    MPI_Gather(&me, (int)sizeof me, MPI_BYTE, r->ranks, (int)sizeof me, MPI_BYTE, 0, j.ctl);
    {
        uint64_t rows = me.rows;
        MPI_Reduce(&rows, &r->rows, 1, MPI_UINT64_T, MPI_SUM, 0, j.ctl);
    }
    if (have_segout)
        pa_out_dir_abort(&segout);
    if (have_work && a->build.keep_work && st == PA_OK)
        pa_workdir_keep(&work);
    else if (have_work)
        pa_workdir_remove(&work);
    goto out;
fatal:
    r->fatal = true;
    r->failed_rank = j.rank;
    if (st == PA_OK)
        st = pa_fail(PA_ERR_NOMEM, "out of memory");
    {
        char msg[MSG_BYTES];
        snprintf(msg, sizeof msg, "%s", pa_last_error());
        st = pa_fail(st, "rank %d of %d: %s", j.rank, j.size, msg);
    }
    if (have_work)
        pa_workdir_release(&work); /* the next run removes it */
out:
    if (dirs)
        for (int q = 0; q < j.size; q++)
            free((char *)dirs[q]);
    free(dirs);
    free(has);
    free(tf.ids);
    free(tf.live);
    free(j.tmp);
    pa_backend_free(backend);
    pa_ivfpq_model_free(model);
    pa_vec_input_free(shard);
    pa_vec_input_free(in);
    if (!r->fatal) {
        MPI_Comm_free(&j.ctl);
        MPI_Comm_free(&j.train);
    }
    return st;
#undef STEP
}

void pa_mpi_build_finish(pa_mpi_build_result *r)
{
    free(r->ranks);
    free(r->segment_uuids);
    free((char *)r->job_dir);
    r->ranks = NULL, r->segment_uuids = NULL, r->job_dir = NULL;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin)
        MPI_Finalize();
}

void pa_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
