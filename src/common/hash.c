/* Whole-file hashing: the XXH64 that artifacts record for their model and bucket files and
 * that finalize checks a model by. */
#include "common/common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

/* XXH64 of a file's bytes, read sequentially. */
pa_status pa_file_xxh64(const char *path, uint64_t *hash, uint64_t *bytes)
{
    int fd = -1;
    uint64_t size = 0;
    pa_status st0 = pa_open_input(path, &fd, &size);
    if (st0 != PA_OK)
        return st0;
    (void)size;
    const size_t chunk = 1u << 20;
    uint8_t *buf = pa_malloc(chunk, "checksum buffer");
    XXH64_state_t *h = XXH64_createState();
    pa_status st = buf && h ? PA_OK : pa_fail(PA_ERR_NOMEM, "out of memory hashing %s", path);
    if (st == PA_OK)
        XXH64_reset(h, 0);
    uint64_t total = 0;
    while (st == PA_OK) {
        ssize_t n = read(fd, buf, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = pa_fail(PA_ERR_IO, "%s: read failed at byte offset %" PRIu64 ": %s", path, total,
                         strerror(errno));
        if (n <= 0)
            break;
        XXH64_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (st == PA_OK) {
        *hash = XXH64_digest(h);
        if (bytes)
            *bytes += total;
    }
    if (h)
        XXH64_freeState(h);
    free(buf);
    close(fd);
    return st;
}
