#!/usr/bin/env bash
# The unit harness's case selection (tests/unit/test.h), on test_cpu (cases core_for,
# core_is_weak, live): one named case runs alone, no names run every case, an unknown name
# fails the binary and lists its cases.
set -u
BIN=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
expect_exit 0 "$BIN" core_for
expect_out "(1 of 3 cases)"
cp "$T/err" "$T/err1"
expect_exit 0 grep -qx "case core_for" "$T/err1"
expect_exit 1 grep -q "case core_is_weak\|case live" "$T/err1"
expect_exit 0 "$BIN" live core_for
expect_out "(2 of 3 cases)"
expect_exit 0 "$BIN"
expect_out "(3 of 3 cases)"
expect_err 1 'no case "merge_partitions"; its cases: core_for core_is_weak live' "$BIN" merge_partitions
expect_exit 1 "$BIN" core_for nosuch
expect_out "(1 of 3 cases)"
finish
