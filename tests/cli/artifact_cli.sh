#!/usr/bin/env bash
# partifact artifact-gen / inspect / verify, and their one-line errors with exit 2.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" artifact-gen --out "$T/a" --rows 100000 --partitions 64 --buckets 8 --memory 1MiB --json
expect_out '"rows":100000'
expect_exit 0 "$PA" inspect "$T/a"
expect_out "rows 100000, 64 partitions in 8 bucket files"
expect_exit 0 "$PA" inspect --json --ranges "$T/a"
expect_out '"partition_ranges":[{"id":0,"file":0,'
expect_exit 0 "$PA" verify --json "$T/a"
expect_out '"ok":true,"rows":100000'

expect_err 2 "already exists, and replacing it was not asked for (--force replaces it)" "$PA" artifact-gen --out "$T/a" --rows 10
expect_err 2 "incomplete artifact" "$PA" verify "$T/none"
expect_err 2 "is too small for" "$PA" artifact-gen --out "$T/b" --rows 10 --memory 1000
cp -r "$T/a" "$T/c"; printf '{"version": 1' > "$T/c/manifest.json"
expect_err 2 "c/manifest.json: line 1, column 14 (byte offset 13): expected ',' or '}', found the end of the file" "$PA" inspect "$T/c"
cp -r "$T/a" "$T/d"; printf 'X' | dd of="$T/d/partitions/bucket-00003.lance" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_err 2 "bucket-00003.lance: XXH64 is" "$PA" verify "$T/d"
cp -r "$T/a" "$T/e"; rm "$T/e/partitions/bucket-00005.lance"
expect_err 2 "bucket-00005.lance: bucket file listed in the manifest is missing" "$PA" verify "$T/e"
finish
