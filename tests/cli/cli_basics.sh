#!/usr/bin/env bash
# partifact CLI: --help/--version, lance-gen + lance-info, and bad input exiting 2 with one line.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" --help
expect_out "lance-info"
expect_exit 0 "$PA" --version
expect_out "partifact 0."
expect_err 2 'unknown command "frobnicate"' "$PA" frobnicate
expect_exit 2 "$PA"

expect_exit 0 "$PA" lance-gen --out "$T/g.lance" --rows 5000 --dim 64 --page-bytes 64KiB --json
expect_out '"rows":5000'
expect_exit 0 "$PA" lance-info "$T/g.lance" --json
expect_out '"name":"vector","type":"fixed_size_list:float:64"'
expect_exit 0 "$PA" lance-info --pages "$T/g.lance"
expect_out "full-zip"
expect_err 2 "not a Lance dataset (no _versions directory)" "$PA" lance-info "$T"

expect_err 2 "lance-gen: --out is required" "$PA" lance-gen --rows 5
expect_err 2 '--dim: "0" is not in 1..65536' "$PA" lance-gen --out "$T/x.lance" --dim 0
expect_err 2 "cannot open" "$PA" lance-info "$T/none.lance"
head -c 1000 "$T/g.lance" > "$T/trunc.lance"
expect_err 2 "trunc.lance: no \"LANC\" magic" "$PA" lance-info "$T/trunc.lance"
printf 'tiny' > "$T/tiny.lance"
expect_err 2 "smaller than the 40-byte Lance footer" "$PA" lance-info "$T/tiny.lance"
finish
