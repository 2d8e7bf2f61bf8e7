/* The plugin directory the library searches last (after the caller's search path and
 * $PARTIFACT_BACKEND_PATH) is <libdir>/partifact of the install prefix, CMake's
 * CMAKE_INSTALL_FULL_LIBDIR/partifact, given to this test as PA_TEST_PLUGIN_DIR. */
#include "partifact.h"
#include "test.h"

int main(void)
{
    unsetenv("PARTIFACT_BACKEND_PATH");
    pa_backend *b = NULL;
    CHECK_ERR(pa_backend_open(&b, "no-such-backend", NULL, NULL), PA_ERR_INVALID,
              PA_TEST_PLUGIN_DIR);
    CHECK(b == NULL);
    printf("searched: %s\n", pa_last_error());
    TEST_DONE();
}
