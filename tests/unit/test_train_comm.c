/* Distributed training (pa_train_input_comm, pa_kmeans_dist): participants simulated by
 * threads sharing an in-process sum (added in rank order, as an MPI engine adds them). One
 * participant gives pa_kmeans's and pa_ivfpq_train_input's results byte for byte; three give
 * every participant the same model, the same on every run, as good as a single process's; a
 * participant whose share is refused gets its own message and the others theirs. */
#include "ivfpq/ivfpq_internal.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

#define MAX_PARTS 4

/* The participants' shared sum: each posts its vector, all add them in rank order. */
typedef struct shared_sum {
    uint32_t size;
    pthread_barrier_t bar;
    double *v[MAX_PARTS];
} shared_sum;

typedef struct part_ctx {
    shared_sum *sh;
    uint32_t rank;
    uint64_t calls;
} part_ctx;

static pa_status thread_sum(void *ctx, double *v, size_t count)
{
    part_ctx *p = ctx;
    shared_sum *sh = p->sh;
    p->calls++;
    double *t = malloc(sizeof(double) * (count ? count : 1));
    sh->v[p->rank] = v;
    pthread_barrier_wait(&sh->bar);
    for (size_t i = 0; i < count; i++) {
        double s = sh->v[0][i];
        for (uint32_t q = 1; q < sh->size; q++)
            s += sh->v[q][i];
        t[i] = s;
    }
    pthread_barrier_wait(&sh->bar); /* every one has read every vector */
    memcpy(v, t, sizeof(double) * count);
    free(t);
    return PA_OK;
}

static uint64_t rng = 0x2468ace;

static double gauss(void)
{
    double u = ((double)(pa_splitmix(&rng) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(pa_splitmix(&rng) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static float *clustered(uint64_t n, uint32_t dim, uint32_t k)
{
    float *c = malloc(sizeof(float) * k * dim), *x = malloc(sizeof(float) * n * dim);
    for (uint32_t j = 0; j < k * dim; j++)
        c[j] = (float)(gauss() * 8);
    for (uint64_t i = 0; i < n; i++)
        for (uint32_t d = 0; d < dim; d++)
            x[i * dim + d] = c[(pa_splitmix(&rng) % k) * dim + d] + (float)gauss();
    free(c);
    return x;
}

/* One participant: pa_kmeans_dist is pa_kmeans, centroids and assignment, byte for byte. */
static void test_kmeans_one_participant(void)
{
    const uint64_t n = 6000;
    const uint32_t dim = 16;
    float *x = clustered(n, dim, 30);
    shared_sum sh = {.size = 1};
    pthread_barrier_init(&sh.bar, NULL, 1);
    part_ctx pc = {.sh = &sh};
    pa_train_comm comm = {.struct_size = sizeof comm, .size = 1, .sum = thread_sum, .ctx = &pc};
    const pa_kmeans_part part = {.comm = &comm, .total = n};
    struct {
        uint32_t k;
        bool ip, small;
    } cases[] = {{40, false, false}, {40, true, false}, {256, false, true}, {1100, false, false}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const uint32_t k = cases[c].k;
        float *c1 = malloc(sizeof(float) * k * dim), *c2 = malloc(sizeof(float) * k * dim);
        uint32_t *a1 = malloc(4 * n), *a2 = malloc(4 * n);
        pa_kmeans_result r1, r2;
        CHECK_OK(pa_kmeans(x, n, dim, k, 10, 5, cases[c].ip, cases[c].small, c1, a1, &r1));
        pc.calls = 0;
        CHECK_OK(
            pa_kmeans_dist(x, n, dim, k, 10, 5, cases[c].ip, cases[c].small, c2, a2, &r2, &part));
        CHECK(memcmp(c1, c2, sizeof(float) * k * dim) == 0);
        CHECK(memcmp(a1, a2, 4 * n) == 0);
        CHECK(r1.iters == r2.iters && r1.empty_repaired == r2.empty_repaired);
        CHECK(pc.calls == 1 + r2.iters); /* the seeding's rows, then one sum per iteration */
        free(c1), free(c2), free(a1), free(a2);
    }
    pthread_barrier_destroy(&sh.bar);
    free(x);
}

typedef struct train_job {
    const char *input;
    pa_ivfpq_params prm;
    pa_train_comm comm;
    part_ctx pc;
    const char *model_out;
    pa_status st;
    char err[512];
    pa_ivfpq_train_stats stats;
} train_job;

static void *train_thread(void *arg)
{
    train_job *j = arg;
    pa_vec_input *in = NULL;
    pa_ivfpq_model *m = NULL;
    j->comm.ctx = &j->pc;
    j->stats = (pa_ivfpq_train_stats)PA_IVFPQ_TRAIN_STATS_INIT;
    j->st = pa_vec_input_open(&in, j->input, NULL);
    if (j->st == PA_OK)
        j->st = pa_train_input_comm(&m, in, &j->prm, &j->comm, &j->stats);
    if (j->st == PA_OK)
        j->st = pa_ivfpq_model_save(m, j->model_out);
    if (j->st != PA_OK)
        snprintf(j->err, sizeof j->err, "%s", pa_last_error());
    pa_ivfpq_model_free(m);
    pa_vec_input_free(in);
    return NULL;
}

/* Runs size participants on input; models into model-<tag>-<rank>.lance. */
static void run_parts(const char *input, const pa_ivfpq_params *prm, uint32_t size, const char *tag,
                      train_job *jobs)
{
    shared_sum sh = {.size = size};
    pthread_barrier_init(&sh.bar, NULL, size);
    pthread_t th[MAX_PARTS];
    static char names[MAX_PARTS][64];
    for (uint32_t r = 0; r < size; r++) {
        snprintf(names[r], sizeof names[r], "model-%s-%u.lance", tag, r);
        jobs[r] = (train_job){.input = input,
                              .prm = *prm,
                              .comm = {.struct_size = sizeof(pa_train_comm),
                                       .rank = r,
                                       .size = size,
                                       .sum = thread_sum},
                              .pc = {.sh = &sh, .rank = r}};
        jobs[r].model_out = strdup(tpath(names[r]));
        pthread_create(&th[r], NULL, train_thread, &jobs[r]);
    }
    for (uint32_t r = 0; r < size; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&sh.bar);
}


static double pq_mse(const char *model, const float *x, uint64_t n)
{
    pa_ivfpq_model *m = NULL;
    double mse = -1;
    if (pa_ivfpq_model_load(&m, model) == PA_OK)
        pa_ivfpq_pq_mse(m, x, n, &mse);
    pa_ivfpq_model_free(m);
    return mse;
}

/* One participant is pa_ivfpq_train_input byte for byte; three participants each hold the same
 * model, the same on a second run, about as good as one process's. */
static void test_train_participants(void)
{
    const uint64_t n = 9000;
    const uint32_t dim = 16;
    float *x = clustered(n, dim, 40);
    const char *input = strdup(tpath("train.fvecs"));
    write_fvecs(input, x, (int)n, (int)dim);
    const pa_metric metrics[] = {PA_METRIC_L2, PA_METRIC_COSINE, PA_METRIC_DOT};
    for (int mi = 0; mi < 3; mi++) {
        pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
        prm.num_partitions = 24;
        prm.num_sub_vectors = 4;
        prm.metric = metrics[mi];
        prm.seed = 11;
        prm.sample_rate = 200; /* 4,800 rows of the 9,000 */
        pa_vec_input *in = NULL;
        pa_ivfpq_model *m = NULL;
        CHECK_OK(pa_vec_input_open(&in, input, NULL));
        CHECK_OK(pa_ivfpq_train_input(&m, in, &prm, NULL));
        const char *single = strdup(tpath("model-single.lance"));
        unlink(single);
        CHECK_OK(pa_ivfpq_model_save(m, single));
        pa_ivfpq_model_free(m);
        pa_vec_input_free(in);

        train_job one[1], three[3], again[3];
        run_parts(input, &prm, 1, "one", one);
        CHECK(one[0].st == PA_OK);
        CHECK(test_same_file(single, one[0].model_out));
        run_parts(input, &prm, 3, "three", three);
        run_parts(input, &prm, 3, "again", again);
        for (int r = 0; r < 3; r++) {
            CHECK(three[r].st == PA_OK);
            if (three[r].st != PA_OK)
                fprintf(stderr, "participant %d: %s\n", r, three[r].err);
            CHECK(test_same_file(three[0].model_out, three[r].model_out));
            CHECK(test_same_file(three[0].model_out, again[r].model_out));
            CHECK(three[r].stats.sample_rows == one[0].stats.sample_rows);
        }
        /* the same sample, summed in another order: close to, not always equal to, one
         * process's model */
        if (metrics[mi] == PA_METRIC_L2) {
            double e1 = pq_mse(single, x, n), e3 = pq_mse(three[0].model_out, x, n);
            CHECK(e1 > 0 && e3 > 0 && e3 < e1 * 1.05);
        }
        for (int r = 0; r < 3; r++) {
            unlink(three[r].model_out), unlink(again[r].model_out);
            free((char *)three[r].model_out), free((char *)again[r].model_out);
        }
        unlink(one[0].model_out);
        free((char *)one[0].model_out);
        free((char *)single);
    }
    free((char *)input);
    free(x);
}

/* A participant whose share holds an overflowing row gets the row (of the input) named; the others are told
 * another participant's share was refused; nobody waits forever. */
static void test_share_refused(void)
{
    const uint64_t n = 3000;
    const uint32_t dim = 8;
    float *x = clustered(n, dim, 10);
    x[(n - 1) * dim] = 3e18f; /* the last row: in the last participant's share */
    const char *input = strdup(tpath("bad.fvecs"));
    write_fvecs(input, x, (int)n, (int)dim);
    pa_ivfpq_params prm = PA_IVFPQ_PARAMS_INIT;
    prm.num_partitions = 8;
    prm.num_sub_vectors = 2;
    train_job jobs[3];
    run_parts(input, &prm, 3, "bad", jobs);
    CHECK(jobs[2].st == PA_ERR_INVALID &&
          strstr(jobs[2].err, "bad.fvecs: row 2999 has squared norm 9e+36, more than 5.32e+36"));
    for (int r = 0; r < 2; r++)
        CHECK(jobs[r].st == PA_ERR_INVALID &&
              !strcmp(jobs[r].err,
                      "training data: another participant's share of the sample was refused"));
    for (int r = 0; r < 3; r++)
        free((char *)jobs[r].model_out);
    /* a comm without a sum, or a rank past its size */
    pa_vec_input *in = NULL;
    pa_ivfpq_model *m = NULL;
    CHECK_OK(pa_vec_input_open(&in, input, NULL));
    pa_train_comm bad = {.struct_size = sizeof bad, .rank = 2, .size = 2, .sum = thread_sum};
    CHECK_ERR(pa_train_input_comm(&m, in, &prm, &bad, NULL), PA_ERR_INVALID,
              "comm: a participant needs a sum and a rank below size (rank 2, size 2)");
    bad.rank = 0, bad.sum = NULL;
    CHECK_ERR(pa_train_input_comm(&m, in, &prm, &bad, NULL), PA_ERR_INVALID,
              "comm: a participant needs a sum");
    pa_vec_input_free(in);
    free((char *)input);
    free(x);
}

int main(int argc, char **argv)
{
    TEST_ARGS(argc, argv);
    if (!test_tmpdir_init("test_train_comm"))
        return 1;
    RUN(test_kmeans_one_participant());
    RUN(test_train_participants());
    RUN(test_share_refused());
    TEST_DONE();
}
