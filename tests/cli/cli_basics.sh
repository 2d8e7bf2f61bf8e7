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
# every --help: the options from the command's table (defaults included) and the exit status
expect_exit 0 "$PA" encode --help
expect_out "--memory SIZE            the memory budget (default 256MiB)"
expect_out "Exit status: 0 on success; 2 for a usage error"
expect_exit 0 "$PA" --help
expect_out "1 when the environment failed"

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
# a write the system refuses is a failure of the environment: exit 1, one line
full() { "$@" >/dev/full; }
expect_err 1 "partifact lance-info: cannot write JSON output: No space left on device" \
  full "$PA" lance-info "$T/g.lance" --json
expect_err 1 "partifact lance-gen: cannot write JSON output: No space left on device" \
  full "$PA" lance-gen --out "$T/g2.lance" --rows 10 --dim 4 --json
finish
