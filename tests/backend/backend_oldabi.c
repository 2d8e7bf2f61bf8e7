/* libpartifact-backend-oldabi.so: claims an ABI version this host does not speak. */
#include "partifact.h"

static const pa_backend_v1 table = {.abi_version = 0, .struct_size = sizeof(pa_backend_v1),
                                    .name = "oldabi"};

__attribute__((visibility("default"))) const pa_backend_v1 *partifact_backend_v1(uint32_t host)
{
    (void)host;
    return &table;
}
