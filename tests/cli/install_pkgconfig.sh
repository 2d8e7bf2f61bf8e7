#!/usr/bin/env bash
# cmake --install to a scratch prefix, then compile and run a program using pkg-config.
set -u
BUILD=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
expect_exit 0 cmake --install "$BUILD" --prefix "$T/prefix"
expect_exit 0 test -f "$T/prefix/include/partifact.h"
cat > "$T/use.c" <<'C'
#include <partifact.h>
#include <stdio.h>
int main(void) {
    pa_lance_reader *r;
    pa_status st = pa_lance_reader_open(&r, "/nonexistent.lance");
    printf("%s %s %s\n", pa_version(), pa_status_name(st), pa_last_error());
    return st == PA_ERR_IO ? 0 : 1;
}
C
PC="$T/prefix/lib/pkgconfig"; [ -d "$PC" ] || PC=$(dirname "$(find "$T/prefix" -name partifact.pc | head -1)")
expect_exit 0 sh -c "cc -o '$T/use' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags --libs --static partifact)"
expect_exit 0 env LD_LIBRARY_PATH="$T/prefix/lib" "$T/use"
expect_out "cannot open"
# the installed header is strict C99 and C++ too: users compile it with their own settings
expect_exit 0 sh -c "cc -std=c99 -pedantic -Wall -Wextra -Werror -c -o '$T/use99.o' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags partifact)"
expect_exit 0 sh -c "c++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -c -o '$T/usecc.o' '$T/use.c' \$(PKG_CONFIG_PATH='$PC' pkg-config --cflags partifact)"
finish
