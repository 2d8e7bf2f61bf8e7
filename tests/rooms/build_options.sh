#!/usr/bin/env bash
# Build options a user's `cmake && make install` sees: configures the source tree (configure
# only, nothing is built) into scratch directories and checks the generated build:
#   - GNUInstallDirs: a prefix and libdir given at configure time are where the libraries, the
#     header and the pkg-config file install, and the .pc file finds its prefix from its place;
#   - the plugin search path is <libdir>/partifact of that prefix (CMAKE_INSTALL_FULL_LIBDIR);
#   - -Werror only with PA_WERROR=ON (the Makefile's check targets, .ci/run).
set -u
SRC=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$SRC/tests/cli/lib.sh"
expect_exit 0 cmake -S "$SRC" -B "$T/user" -DPA_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/opt/pa \
  -DCMAKE_INSTALL_LIBDIR=lib/multi -DCMAKE_INSTALL_INCLUDEDIR=include/pa
U="$T/user"
# the plugin directory compiled into the backend loader
expect_exit 0 grep -qF 'PA_INSTALL_LIBDIR=\"/opt/pa/lib/multi\"' "$U/CMakeFiles/pa_backend.dir/flags.make"
# install destinations
expect_exit 0 grep -qF '"${CMAKE_INSTALL_PREFIX}/lib/multi" TYPE STATIC_LIBRARY' "$U/cmake_install.cmake"
expect_exit 0 grep -qF '"${CMAKE_INSTALL_PREFIX}/lib/multi" TYPE SHARED_LIBRARY' "$U/cmake_install.cmake"
expect_exit 0 grep -qF '"${CMAKE_INSTALL_PREFIX}/lib/multi/pkgconfig" TYPE FILE' "$U/cmake_install.cmake"
expect_exit 0 grep -qF '"${CMAKE_INSTALL_PREFIX}/include/pa" TYPE FILE' "$U/cmake_install.cmake"
# <prefix>/lib/multi/pkgconfig/partifact.pc: three levels up is the prefix
expect_exit 0 grep -qxF 'prefix=${pcfiledir}/../../..' "$U/partifact.pc"
expect_exit 0 grep -qxF 'libdir=${prefix}/lib/multi' "$U/partifact.pc"
expect_exit 0 grep -qxF 'includedir=${prefix}/include/pa' "$U/partifact.pc"
# a plain configure does not make warnings errors; PA_WERROR=ON does
expect_exit 1 grep -q -- '-Werror\b' "$U/CMakeFiles/pa_common.dir/flags.make"
expect_exit 0 cmake -S "$SRC" -B "$T/dev" -DPA_BUILD_TESTS=OFF -DPA_WERROR=ON
expect_exit 0 grep -q -- '-Werror\b' "$T/dev/CMakeFiles/pa_common.dir/flags.make"
finish
