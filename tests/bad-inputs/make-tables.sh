#!/usr/bin/env bash
# The table-commit part of the bad inputs (called by make.sh): copies of two small tables
# LanceDB 0.37.1 wrote (tests/bad-inputs/files/table-d8.lance: 600 rows of 8 dimensions and a
# uint64 id in 2 fragments, version 2; table-d16.lance: 300 rows of 16 dimensions, version 1),
# indexes built from them, and damaged tables.
#   make-tables.sh PARTIFACT D
set -euo pipefail
PA=$1; D=$2
F=$(cd "$(dirname "$0")" && pwd)/files
q() { "$@" >/dev/null 2>&1 || { echo "make-tables.sh: failed: $*" >&2; "$@"; exit 1; }; }
# add_flags TABLE HEX: appends reader (9) and writer (10) feature flag fields holding the varint
# HEX to the latest manifest's protobuf (the last value of a field wins), fixing its length
add_flags() {
  local m; m=$(ls "$1"/_versions/*.manifest | sort | head -1) # V2 names: the newest sorts first
  local size pos len; size=$(stat -c %s "$m")
  pos=$(od -An -t u8 -j $(( size - 16 )) -N 8 "$m" | tr -d ' ')
  len=$(od -An -t u4 -j "$pos" -N 4 "$m" | tr -d ' ')
  local add="48$2""50$2" n; n=$(( ${#add} / 2 ))
  { head -c $(( pos + 4 + len )) "$m"; printf "$(echo "$add" | sed 's/../\\x&/g')"; tail -c 16 "$m"; } > "$m.new"
  local l=$(( len + n ))
  printf "$(printf '%08x' "$l" | sed 's/\(..\)\(..\)\(..\)\(..\)/\\x\4\\x\3\\x\2\\x\1/')" |
    dd of="$m.new" bs=1 seek="$pos" conv=notrunc status=none
  mv "$m.new" "$m"
}
TC=$D/tc; rm -rf "$TC"; mkdir -p "$TC"
BUILD=(--partitions 4 --sub-vectors 2 --max-iters 3)
cp -r "$F/table-d8.lance" "$TC/t.lance"
q "$PA" build --input "$TC/t.lance" --out "$TC/idx" "${BUILD[@]}"
q "$PA" build --input "$D/ok/v8.fvecs" --out "$TC/idx-file" "${BUILD[@]}"
cp -r "$F/table-d8.lance" "$TC/other.lance"
mkdir -p "$TC/plain"
# a table whose index name is taken
cp -r "$F/table-d8.lance" "$TC/taken.lance"
q "$PA" build --input "$TC/taken.lance" --commit "${BUILD[@]}"
q "$PA" build --input "$TC/taken.lance" --out "$TC/idx-taken" "${BUILD[@]}"
# the index's fragment 1 gone: the table back at version 1
cp -r "$F/table-d8.lance" "$TC/gone.lance"
q "$PA" build --input "$TC/gone.lance" --out "$TC/idx-gone" "${BUILD[@]}"
rm "$TC/gone.lance/_versions/18446744073709551613.manifest"
# another table's vectors (16 dimensions) under the path an index of 8 was built from
cp -r "$F/table-d8.lance" "$TC/dim.lance"
q "$PA" build --input "$TC/dim.lance" --out "$TC/idx-dim" "${BUILD[@]}"
rm -rf "$TC/dim.lance"; cp -r "$F/table-d16.lance" "$TC/dim.lance"
# feature flags: one partifact does not know (1 << 20), and stable row ids (2)
cp -r "$F/table-d8.lance" "$TC/flags.lance"; add_flags "$TC/flags.lance" 808040
cp -r "$F/table-d8.lance" "$TC/stable.lance"; add_flags "$TC/stable.lance" 02
# _indices a link to a directory outside the table: the commit neither writes through it nor
# replaces it
cp -r "$F/table-d8.lance" "$TC/linked.lance"
q "$PA" build --input "$TC/linked.lance" --out "$TC/idx-linked" "${BUILD[@]}"
mkdir -p "$TC/elsewhere"; ln -s ../elsewhere "$TC/linked.lance/_indices"
# ---- deletion files (dataset reader): copies of table-deleted.lance (LanceDB 0.37.1, version
# 2 with an arrow-array deletion file, version 3 with a bitmap one) with those files damaged
DL=$D/deletions; rm -rf "$DL"; mkdir -p "$DL"
for c in arrow-cut arrow-offset bitmap-cut missing; do cp -r "$F/table-deleted.lance" "$DL/$c.lance"; done
arrow=_deletions/0-1-16355978982147260081.arrow bitmap=_deletions/0-2-11493119432692555063.bin
head -c 100 "$F/table-deleted.lance/$arrow" > "$DL/arrow-cut.lance/$arrow"
# the first deleted offset (5, stored uncompressed after the length -1) made 2^31 - 1
at=$(( $(LC_ALL=C grep -obUaP '\xff{8}\x05\x00\x00\x00' "$DL/arrow-offset.lance/$arrow" | head -1 | cut -d: -f1) + 8 ))
printf '\xff\xff\xff\x7f' | dd of="$DL/arrow-offset.lance/$arrow" bs=1 seek="$at" conv=notrunc status=none
head -c 9 "$F/table-deleted.lance/$bitmap" > "$DL/bitmap-cut.lance/$bitmap"
rm "$DL/missing.lance/$bitmap"
