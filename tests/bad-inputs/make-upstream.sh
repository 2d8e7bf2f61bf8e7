#!/usr/bin/env bash
# The upstream-layout part of the bad inputs (called by make.sh; the catalogue's "upt-" rows):
# damaged copies of an artifact another program wrote in Lance's layout, without partifact's
# extras (tests/bad-inputs/files/foreign-art, made by make-foreign.sh through LanceDB 0.39.0:
# 7 partitions in 3 buckets, partition 6 empty, several ranges per partition), and of one
# partifact writes (with its extras), for the checks the upstream layout brings.
#   make-upstream.sh PARTIFACT D
set -euo pipefail
PA=$1; D=$2
case $PA in /*) ;; */*) PA=$(cd "$(dirname "$PA")" && pwd)/$(basename "$PA") ;; esac
HERE=$(cd "$(dirname "$0")" && pwd); F=$HERE/files
q() { "$@" >/dev/null 2>&1 || { echo "make-upstream.sh: failed: $*" >&2; "$@"; exit 1; }; }
# put_hex FILE OFFSET HEX: overwrite bytes at OFFSET with HEX bytes
put_hex() { printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# meta_value FILE KEY CHAR: the first byte of schema metadata KEY's value (a protobuf map entry
# {1: key, 2: value}: the key's bytes, then tag 0x12 and a one-byte length) set to CHAR
meta_value() {
  local at; at=$(grep -obUa "$2" "$1" | head -1 | cut -d: -f1)
  put_hex "$1" $(( at + ${#2} + 2 )) "$(printf %02x "'$3")"
}
U=$D/upt; rm -rf "$U"; mkdir -p "$U"
cp -r "$F/foreign-art" "$D/ok/foreign-art"
cp "$F/foreign-art.model.lance" "$D/ok/foreign-art.model.lance"
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 7 --sub-vectors 4 --max-iters 3 --out "$D/ok/m7x4.lance"
# f CASE: a copy of the foreign artifact; fman CASE SED: its manifest edited
f() { rm -rf "$U/$1"; cp -r "$F/foreign-art" "$U/$1"; }
fman() { sed -i -E "$2" "$U/$1/manifest.json"; }
# its manifest (compact, as serde_json writes it): partitions 0 and 3 in bucket 0 (123 rows),
# 1 and 4 in bucket 1 (67 rows), 2 and 5 in bucket 2 (76 rows), 6 empty; partition 1's ranges
# [0,4) [16,21) [32,39) [48,50), partition 4's start at 4, partition 5's last is [71,76)
f no-manifest; rm "$U/no-manifest/manifest.json"
f json-truncated; truncate -s 100 "$U/json-truncated/manifest.json"
f version-2; fman version-2 's/"version":1,/"version":2,/'
f version-string; fman version-string 's/"version":1,/"version":"1",/'
f version-float; fman version-float 's/"version":1,/"version":1.0,/'
f no-version; fman no-version 's/"version":1,//'
f no-partitions; fman no-partitions 's/"partitions":\[/"parts":[/'
f count-mismatch; fman count-mismatch 's/"num_partitions":7,/"num_partitions":8,/'
f duplicate-key; fman duplicate-key 's/"version":1,/"version":1,"version":1,/'
f rows-vs-ranges; fman rows-vs-ranges 's/"num_rows":18,/"num_rows":19,/'
f range-overlap; fman range-overlap 's/\{"offset":16,"num_rows":5\}/{"offset":15,"num_rows":5}/'
f range-past-file; fman range-past-file 's/"num_rows":42,/"num_rows":43,/; s/\{"offset":71,"num_rows":5\}/{"offset":71,"num_rows":6}/'
f row-in-no-range; fman row-in-no-range 's/"num_rows":18,"ranges":\[\{"offset":0,"num_rows":4\}/"num_rows":17,"ranges":[{"offset":0,"num_rows":3}/'
f rows-no-path; fman rows-no-path 's#"path":"partitions/bucket-00001.lance","num_rows":18,#"path":null,"num_rows":18,#'
f rows-no-ranges; fman rows-no-ranges 's#\{"path":null,"num_rows":0,"ranges":\[\]\}#{"path":"partitions/bucket-00000.lance","num_rows":3,"ranges":[]}#'
f range-no-offset; fman range-no-offset 's/"num_rows":18,"ranges":\[\{"offset":0,"num_rows":4\}/"num_rows":18,"ranges":[{"num_rows":4}/'
f range-negative; fman range-negative 's/\{"offset":16,"num_rows":5\}/{"offset":-16,"num_rows":5}/'
f path-escape; fman path-escape 's#"partitions/bucket-00001.lance"#"../bucket-00001.lance"#g'
f path-other-name; fman path-other-name 's#"partitions/bucket-00001.lance"#"partitions/b1.lance"#g'
mv "$U/path-other-name/partitions/bucket-00001.lance" "$U/path-other-name/partitions/b1.lance"
f bucket-missing; rm "$U/bucket-missing/partitions/bucket-00002.lance"
f bucket-truncated; truncate -s 1000 "$U/bucket-truncated/partitions/bucket-00000.lance"
f bucket-empty; : > "$U/bucket-empty/partitions/bucket-00000.lance"
f bucket-swapped; cp "$U/bucket-swapped/partitions/bucket-00001.lance" "$U/bucket-swapped/partitions/bucket-00002.lance"
f bucket-schema; cp "$U/bucket-schema/metadata.lance" "$U/bucket-schema/partitions/bucket-00001.lance"
f bucket-vectors; q "$PA" lance-gen --out "$U/bucket-vectors/partitions/bucket-00001.lance.new" --rows 67 --dim 4
mv "$U/bucket-vectors/partitions/bucket-00001.lance.new" "$U/bucket-vectors/partitions/bucket-00001.lance"
# the model: metadata.lance missing, cut, not named, or contradicting the manifest
f no-metadata; rm "$U/no-metadata/metadata.lance"
f metadata-truncated; truncate -s 4000 "$U/metadata-truncated/metadata.lance"
f metadata-null; fman metadata-null 's/"metadata_file":"metadata.lance"/"metadata_file":null/'
f metadata-other-name; fman metadata-other-name 's/"metadata_file":"metadata.lance"/"metadata_file":"model.lance"/'
f metadata-partitions; meta_value "$U/metadata-partitions/metadata.lance" lance:index_build:num_partitions 8
f metadata-dimension; meta_value "$U/metadata-dimension/metadata.lance" lance:index_build:dimension 9
f metadata-version; meta_value "$U/metadata-version/metadata.lance" lance:index_build:artifact_version 2
f metadata-bits; meta_value "$U/metadata-bits/metadata.lance" lance:index_build:num_bits 4
f metadata-metric; meta_value "$U/metadata-metric/metadata.lance" lance:index_build:distance_type x
# ---- partifact's own artifact (with its extras): the upstream manifest's own refusals
# (artifact-gen's codes are of dimension 8 x sub-vectors: a model of dimension 16)
q "$PA" gen-vectors --out "$D/ok/v16-300.fvecs" --rows 300 --dim 16 --clusters 7 --seed 2
q "$PA" train --input "$D/ok/v16-300.fvecs" --partitions 7 --sub-vectors 2 --max-iters 3 --out "$D/ok/m7d16.lance"
# (the model named relative to $D/ok: the manifest records it as given, and byte offsets in
# the messages below must not depend on where $D is)
(cd "$D/ok" && q "$PA" artifact-gen --out upt-own --rows 300 --partitions 7 --sub-vectors 2 \
    --buckets 3 --seed 5 --model m7d16.lance)
o() { rm -rf "$U/$1"; cp -r "$D/ok/upt-own" "$U/$1"; }
oman() { sed -i -E "$2" "$U/$1/manifest.json"; }
o own-version-2; oman own-version-2 's/"version":1,/"version":2,/'
o own-no-version; oman own-no-version 's/"version":1,//'
o own-count-mismatch; oman own-count-mismatch 's/"num_partitions":7,/"num_partitions":8,/'
o own-duplicate-key; oman own-duplicate-key 's/"version":1,/"version":1,"version":1,/'
o own-rows-no-path; oman own-rows-no-path '0,/"path":"partitions\/bucket-00001.lance"/s//"path":null/'
o own-range-no-offset; oman own-range-no-offset '0,/\{"offset":0,/s//{/'
