/* libpartifact-backend-oldabi.so: a plugin of the first backend ABI (version 1: entry symbol
 * partifact_backend_v1, the model passed with every batch), which this host refuses at load,
 * naming both versions. Its table is declared here as v1 plugins declared it. */
#include <stddef.h>
#include <stdint.h>

typedef struct v1_table {
    uint32_t abi_version, struct_size;
    const char *name;
    void *create, *destroy, *train, *assign_encode;
} v1_table;

static const v1_table table = {.abi_version = 1, .struct_size = sizeof(v1_table), .name = "oldabi"};

__attribute__((visibility("default"))) const v1_table *partifact_backend_v1(uint32_t host)
{
    return host == 1 ? &table : NULL;
}
