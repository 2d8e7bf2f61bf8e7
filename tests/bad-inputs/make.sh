#!/usr/bin/env bash
# Makes the bad inputs of the catalogue (catalogue.tsv) in directory D: small good files made
# with partifact itself (vectors, a model, Lance files, an artifact), then damaged copies of
# them. Everything is deterministic (fixed seeds), so error messages are stable. The few inputs
# only another program writes (LanceDB files using features partifact does not read) are kept
# in tests/bad-inputs/files/.
#   make.sh PARTIFACT D
set -euo pipefail
PA=$1; D=$2
rm -rf "$D"; mkdir -p "$D/ok" "$D/out"
q() { "$@" >/dev/null 2>&1 || { echo "make.sh: failed: $*" >&2; "$@"; exit 1; }; }
size() { stat -c %s "$1"; }
# put_hex FILE OFFSET HEX: overwrite bytes at OFFSET (negative: from the end) with HEX bytes
put_hex() {
  local f=$1 off=$2 hex=$3
  [ "$off" -lt 0 ] && off=$(( $(size "$f") + off ))
  printf "$(echo "$hex" | sed 's/../\\x&/g')" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
# npy HEADER DATA_BYTES FILE: a version 1.0 .npy with the given header dict and zero data bytes
npy() {
  local h=$1 n=$2 f=$3 pad
  pad=$(( (64 - (10 + ${#h} + 1) % 64) % 64 ))
  h="$h$(printf '%*s' "$pad" '')"
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(( (${#h} + 1) % 256 )))\\x$(printf %02x $(( (${#h} + 1) / 256 )))";
    printf '%s\n' "$h"; head -c "$n" /dev/zero; } > "$f"
}

# ---- good material
q "$PA" gen-vectors --out "$D/ok/v8.fvecs" --rows 2000 --dim 8 --clusters 8 --seed 1
q "$PA" gen-vectors --out "$D/ok/v16.fvecs" --rows 100 --dim 16 --seed 1
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 4 --sub-vectors 2 --max-iters 3 --out "$D/ok/model.lance"
q "$PA" lance-gen --out "$D/ok/f.lance" --rows 100 --dim 4
q "$PA" artifact-gen --out "$D/ok/art" --rows 300 --partitions 7 --sub-vectors 4 --buckets 3 --seed 5

# ---- Lance files
L=$D/lance; mkdir -p "$L"
: > "$L/empty.lance"
head -c 20 "$D/ok/f.lance" > "$L/tiny.lance"
head -c $(( $(size "$D/ok/f.lance") / 2 )) "$D/ok/f.lance" > "$L/truncated.lance"
cp "$D/ok/f.lance" "$L/bad-magic.lance"; put_hex "$L/bad-magic.lance" -4 4c414e58      # LANX
cp "$D/ok/f.lance" "$L/version-9.lance"; put_hex "$L/version-9.lance" -8 0900          # major 9
cp "$D/ok/f.lance" "$L/version-0-3.lance"; put_hex "$L/version-0-3.lance" -8 00000300  # 0.3
cp "$D/ok/f.lance" "$L/meta-past-eof.lance"; put_hex "$L/meta-past-eof.lance" -40 00000000ffff0000
cp "$D/ok/f.lance" "$L/offsets-past-eof.lance"; put_hex "$L/offsets-past-eof.lance" -32 00000000ffff0000
cp "$D/ok/f.lance" "$L/gbuf-past-eof.lance"; put_hex "$L/gbuf-past-eof.lance" -24 00000000ffff0000
cp "$D/ok/f.lance" "$L/many-columns.lance"; put_hex "$L/many-columns.lance" -12 ffffff7f
head -c 4096 /dev/zero > "$L/zeros.lance"

# ---- artifacts
A=$D/art; mkdir -p "$A"
art() { rm -rf "$A/$1"; cp -r "$D/ok/art" "$A/$1"; }
art no-manifest; rm "$A/no-manifest/manifest.json"
art tmp-manifest; mv "$A/tmp-manifest/manifest.json" "$A/tmp-manifest/manifest.json.tmp"
art json-truncated; truncate -s 100 "$A/json-truncated/manifest.json"
art json-array; echo '[1,2,3]' > "$A/json-array/manifest.json"
art json-empty; : > "$A/json-empty/manifest.json"
# jed DIR PYTHON: edits DIR/manifest.json as m (partifact's extras: x), written back compactly
jed() { python3 - "$1/manifest.json" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); x = m.get("partifact"); p = m["partitions"]
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(m, separators=(",", ":")))
PY
}
# its manifest (the upstream layout): partitions 0 [0,38), 3 [38,74), 6 [74,113) in bucket 0,
# 1 and 4 (94 rows) in bucket 1, 2 and 5 (93 rows) in bucket 2
art wrong-format; jed "$A/wrong-format" 'x["format"] = "lance.index"'
art future-version; jed "$A/future-version" 'x["format_version"] = 7'
art rows-contradict; jed "$A/rows-contradict" 'x["files"][1]["rows"] = 95'
art bytes-contradict; jed "$A/bytes-contradict" 'x["files"][0]["bytes"] += 1'
art checksum-contradict; jed "$A/checksum-contradict" 'x["files"][0]["xxh64"] = "%016x" % (int(x["files"][0]["xxh64"], 16) ^ 1)'
art total-contradict; jed "$A/total-contradict" 'x["total_rows"] = 301'
art partition-rows; jed "$A/partition-rows" 'p[0]["num_rows"] = 37; p[0]["ranges"][0]["num_rows"] = 37'
art range-overlap; jed "$A/range-overlap" 'p[3]["ranges"][0]["offset"] -= 1'
art range-past-file; jed "$A/range-past-file" 'p[6]["ranges"][0]["offset"] += 1'
art wrong-bucket; jed "$A/wrong-bucket" 'p[3]["path"] = "partitions/bucket-00001.lance"'
art too-many-buckets; jed "$A/too-many-buckets" 'x["num_buckets"] = 9'
art bad-metric; jed "$A/bad-metric" 'x["metric"] = "hamming"'
art path-escape; jed "$A/path-escape" 'p[1]["path"] = "../bucket-00001.lance"'
art up-version; jed "$A/up-version" 'm["version"] = 2'
art count-mismatch; jed "$A/count-mismatch" 'm["num_partitions"] = 8'
art no-path; jed "$A/no-path" 'p[4]["path"] = None'
art no-offset; jed "$A/no-offset" 'del p[5]["ranges"][0]["offset"]'
art empty-range; jed "$A/empty-range" 'p[5]["ranges"].append({"offset": 93, "num_rows": 0}); x["num_ranges"] += 1; x["range_xxh3"].append("0" * 16)'
art other-metadata; jed "$A/other-metadata" 'm["metadata_file"] = "model.bin"'
art unlisted-file; jed "$A/unlisted-file" 'del x["files"][2]'
art bad-loss; jed "$A/bad-loss" 'm["total_loss"] = "low"'
art bucket-missing; rm "$A/bucket-missing/partitions/bucket-00002.lance"
art bucket-truncated; truncate -s 1000 "$A/bucket-truncated/partitions/bucket-00001.lance"
art bucket-flipped; put_hex "$A/bucket-flipped/partitions/bucket-00000.lance" 100 ff
art bucket-swapped; cp "$A/bucket-swapped/partitions/bucket-00002.lance" "$A/bucket-swapped/partitions/bucket-00001.lance"
art bucket-empty; : > "$A/bucket-empty/partitions/bucket-00000.lance"
mkdir -p "$A/not-a-dir-parent"; : > "$A/not-a-dir-parent/file"

# ---- what every consumer of an artifact checks (finalize, export-rows, inspect --read):
# artifacts of 4 partitions in 2 buckets made with a recorded model (dimension 16, 2 sub-vectors)
q "$PA" gen-vectors --out "$D/ok/v16k.fvecs" --rows 1000 --dim 16 --clusters 4 --seed 1
q "$PA" train --input "$D/ok/v16k.fvecs" --partitions 4 --sub-vectors 2 --max-iters 3 --seed 1 --out "$D/ok/m16a.lance"
q "$PA" train --input "$D/ok/v16k.fvecs" --partitions 4 --sub-vectors 2 --max-iters 3 --seed 2 --out "$D/ok/m16b.lance"
gen16() { q "$PA" artifact-gen --out "$D/ok/$1" --rows 300 --partitions 4 --sub-vectors 2 --buckets 2 --seed 5 "${@:2}"; }
gen16 gen-a --model "$D/ok/m16a.lance"
gen16 gen-b --model "$D/ok/m16b.lance"   # the same rows, another artifact
gen16 gen-nomodel
q "$PA" export-rows --artifact "$D/ok/gen-a" --out "$D/ok/gen-a-rows.lance"   # names its model
C=$D/chk; mkdir -p "$C"
chk() { rm -rf "$C/$1"; cp -r "$D/ok/gen-a" "$C/$1"; }
# its manifest: partitions 0 [0,70) and 2 [70,144) in bucket 0, 1 [0,82) and 3 [82,156) in
# bucket 1
chk overlap; jed "$C/overlap" 'p[2]["ranges"][0]["offset"] = 69'
chk past-file; jed "$C/past-file" 'p[2]["ranges"][0]["offset"] = 71'
chk wrong-part  # partitions 0 and 2 (one bucket) trade their ranges and row counts
jed "$C/wrong-part" 'p[0], p[2] = p[2], p[0]'
chk copied; cp "$D/ok/gen-b/partitions/bucket-00001.lance" "$C/copied/partitions/"
cp "$D/ok/gen-a-rows.lance" "$C/rows-flipped.lance"; put_hex "$C/rows-flipped.lance" 8 ff   # row 1's row id
chk flipped; put_hex "$C/flipped/partitions/bucket-00000.lance" 8 ff   # row 1's row id
chk no-checksum; jed "$C/no-checksum" 'del x["range_xxh3"][1]'
chk old-version; jed "$C/old-version" 'x["format_version"] = 1'
chk other-algo; jed "$C/other-algo" 'x["range_checksum"] = "crc32c"'
# the partifact 0.1 layout (files/art-v01, made by partifact 0.1 with its model inside): read
V01=$D/v01; mkdir -p "$V01"
v01() { rm -rf "$V01/$1"; cp -r "$(dirname "$0")/files/art-v01" "$V01/$1"; }
v01 oldest; sed -i 's/"format_version":2/"format_version":1/' "$V01/oldest/manifest.json"
v01 wrong-part; sed -i -E 's/("id":0,"file":0,)("rows":70,"ranges":\[\[[^]]*\]\])(.*"id":2,"file":0,)("rows":74,"ranges":\[\[[^]]*\]\])/\1\4\3\2/' "$V01/wrong-part/manifest.json"

# ---- vector inputs
V=$D/vec; mkdir -p "$V"
npy "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 8), }" 256 "$V/f8.npy"
npy "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 8), }" 128 "$V/i4.npy"
npy "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 8), }" 128 "$V/fortran.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 8), }" 256 "$V/3d.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (32,), }" 128 "$V/1d.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8), }" 100 "$V/short-data.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 0), }" 0 "$V/dim-0.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }" 256 "$V/dim-16.npy"
npy "{'fortran_order': False, 'shape': (4, 8), }" 128 "$V/no-descr.npy"
printf 'junk junk junk junk' > "$V/junk.npy"
head -c 9 "$V/dim-16.npy" > "$V/header-cut.npy"
cp "$V/dim-16.npy" "$V/version-9.npy"; put_hex "$V/version-9.npy" 6 09
: > "$V/empty.fvecs"
head -c $(( 36 * 10 + 17 )) "$D/ok/v8.fvecs" > "$V/truncated.fvecs"
cp "$D/ok/v8.fvecs" "$V/record-dim.fvecs"; put_hex "$V/record-dim.fvecs" $(( 36 * 5 )) 09000000
cp "$D/ok/v8.fvecs" "$V/negative-dim.fvecs"; put_hex "$V/negative-dim.fvecs" 0 ffffffff
head -c 360 "$D/ok/v8.fvecs" > "$V/nan.fvecs"; put_hex "$V/nan.fvecs" $(( 36 * 7 + 4 + 12 )) 0000c07f
head -c 360 "$D/ok/v8.fvecs" > "$V/inf.fvecs"; put_hex "$V/inf.fvecs" $(( 36 * 3 + 4 )) 000080ff
{ printf '\x08\x00\x00\x00'; printf '\x01\x02\x03\x04\x05\x06\x07\x08'; printf '\x08\x00\x00\x00\x01'; } > "$V/truncated.bvecs"
{ printf '\x08\x00\x00\x00'; head -c 30 /dev/zero; } > "$V/truncated.ivecs"
cp "$D/ok/v8.fvecs" "$V/vectors.txt"
mkdir -p "$V/not-a-dataset"
mkdir -p "$V/no-version/_versions"
mkdir -p "$V/bad-manifest/_versions"; printf 'not a manifest at all' > "$V/bad-manifest/_versions/1.manifest"
# ---- index files (finalize, search)
X=$D/index; mkdir -p "$X"
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$D/ok/model.lance" --out "$D/ok/enc"
q "$PA" finalize --artifact "$D/ok/enc" --out "$D/ok/idx"
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 4 --sub-vectors 4 --max-iters 3 --out "$D/ok/model-m4.lance"
mkdir -p "$X/aux-truncated" "$X/no-idx" "$X/aux-bad-magic" "$X/idx-truncated"
cp "$D/ok/idx/index.idx" "$X/aux-truncated/"; head -c 300 "$D/ok/idx/auxiliary.idx" > "$X/aux-truncated/auxiliary.idx"
cp "$D/ok/idx/auxiliary.idx" "$X/no-idx/"
cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$X/aux-bad-magic/"; put_hex "$X/aux-bad-magic/auxiliary.idx" -4 4c414e58
cp "$D/ok/idx/auxiliary.idx" "$X/idx-truncated/"; head -c 100 "$D/ok/idx/index.idx" > "$X/idx-truncated/index.idx"
# ground truth as .npy: a float array, and one cut short
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 10), }" 80000 "$X/gt-f4.npy"
npy "{'descr': '<u8', 'fortran_order': False, 'shape': (2000, 10), }" 800 "$X/gt-cut.npy"
# ---- index files that are not of one index (search, index-info): index.idx of another model,
# of the same model over other rows, without partifact's identity key, and (neither file with
# the key, as LanceDB writes them) of another metric
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 4 --sub-vectors 2 --max-iters 3 --seed 7 --out "$D/ok/model-s7.lance"
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$D/ok/model-s7.lance" --out "$D/ok/enc-s7"
q "$PA" finalize --artifact "$D/ok/enc-s7" --out "$D/ok/idx-s7"
head -c $(( 36 * 1000 )) "$D/ok/v8.fvecs" > "$D/ok/v8-1000.fvecs"
q "$PA" encode --input "$D/ok/v8-1000.fvecs" --model "$D/ok/model.lance" --out "$D/ok/enc-1000"
q "$PA" finalize --artifact "$D/ok/enc-1000" --out "$D/ok/idx-1000"
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 4 --sub-vectors 2 --max-iters 3 --metric cosine --out "$D/ok/model-cos.lance"
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$D/ok/model-cos.lance" --out "$D/ok/enc-cos"
q "$PA" finalize --artifact "$D/ok/enc-cos" --out "$D/ok/idx-cos"
tail -c $(( 36 * 1000 )) "$D/ok/v8.fvecs" > "$D/ok/v8-last1000.fvecs"
q "$PA" encode --input "$D/ok/v8-last1000.fvecs" --model "$D/ok/model.lance" --out "$D/ok/enc-last1000"
q "$PA" finalize --artifact "$D/ok/enc-last1000" --out "$D/ok/idx-last1000"
# no_key FILE: renames the schema metadata key partifact:index (same length: the file stays valid)
no_key() { put_hex "$1" "$(grep -obUa 'partifact:index' "$1" | head -1 | cut -d: -f1)" 7061727469666163743a6e6f6b6579; }
mkdir -p "$X/mixed-model" "$X/mixed-rows" "$X/mixed-same-count" "$X/idx-no-key" "$X/mixed-metric"
cp "$D/ok/idx-last1000/index.idx" "$D/ok/idx-1000/auxiliary.idx" "$X/mixed-same-count/"
cp "$D/ok/idx-s7/index.idx" "$D/ok/idx/auxiliary.idx" "$X/mixed-model/"
cp "$D/ok/idx-1000/index.idx" "$D/ok/idx/auxiliary.idx" "$X/mixed-rows/"
cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$X/idx-no-key/"; no_key "$X/idx-no-key/index.idx"
# both files' rows_xxh64 changed alike (the JSON still agrees): the rows no longer hash to it
mkdir -p "$X/rows-hash"; cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$X/rows-hash/"
for f in "$X/rows-hash/index.idx" "$X/rows-hash/auxiliary.idx"; do
  at=$(( $(grep -obUa '"rows_xxh64":"' "$f" | head -1 | cut -d: -f1) + 14 ))
  [ "$(dd if="$f" bs=1 skip=$at count=1 status=none)" = 0 ] && put_hex "$f" $at 31 || put_hex "$f" $at 30
done
cp "$D/ok/idx-cos/index.idx" "$D/ok/idx/auxiliary.idx" "$X/mixed-metric/"
no_key "$X/mixed-metric/index.idx"; no_key "$X/mixed-metric/auxiliary.idx"
# ---- a finite row whose squared norm overflows float (3e19 in row 4): its distances would too
cp "$D/ok/v8.fvecs" "$V/huge.fvecs"; put_hex "$V/huge.fvecs" $(( 36 * 4 + 4 + 4 )) b52ad05f
"$(dirname "$0")/make-tables.sh" "$PA" "$D"
"$(dirname "$0")/make-shards.sh" "$PA" "$D"
# ---- outputs: existing ones, links and foreign directories in their place
O=$D/outputs; mkdir -p "$O"
cp "$D/ok/v8.fvecs" "$O/existing.ivecs"
ln -sfn "$D/ok/v16.fvecs" "$O/link.lance"
ln -sfn "$D/ok/idx" "$O/link-idx"
mkdir -p "$O/foreign-dir" "$O/work-exists"; echo mine > "$O/foreign-dir/notes"
# ---- untrusted sizes and non-regular files (h3)
U=$D/untrusted; mkdir -p "$U"
R=$(cd "$(dirname "$0")/../.." && pwd)
# a LanceDB table's manifest with a second fragment claiming 2^60 - 119 rows: with the first
# fragment's 120, 16 bytes of dimension-4 queries would have been allocated for them all
mkdir -p "$U/rows-overflow/_versions" "$U/rows-overflow/data"
cp "$R"/fuzz/data/dataset/data/*.lance "$U/rows-overflow/data/"
python3 "$R/fuzz/craft_manifest.py" "$R/fuzz/corpus/fuzz_lance_dataset/lancedb-2.manifest" \
  "$U/rows-overflow/_versions/1.manifest" $(( (1 << 60) + 1 - 120 ))
printf '\xff\xff\xff\x7f\x00\x00\x00\x00' > "$U/huge-k.ivecs"           # k = 2^31 - 1
npy "{'descr': '<f4', 'fortran_order':True, 'shape': (4, 8), }" 128 "$U/fortran-nospace.npy"
npy "{\"descr\": \"<f4\", \"fortran_order\": True, \"shape\": (4, 8)}" 128 "$U/fortran-dquote.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616, 8), }" 128 "$U/shape-overflow.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }" 128 "$U/shape-product.npy"
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8), 'x': 1}" 128 "$U/extra-key.npy"
printf '\x08\x00\x00\x00' > "$U/k8-cut.ivecs"
mkfifo "$U/fifo.fvecs" "$U/fifo.lance" "$U/fifo.ivecs"
mkdir -p "$U/dir.lance" "$U/dir.fvecs"
ln -s /dev/null "$U/null.fvecs"
# a Lance file of 100 rows whose pages and length claim 127: more rows than the pages' data holds
cp "$D/ok/f.lance" "$U/rows-127.lance"; python3 "$R/fuzz/lance_rows.py" "$U/rows-127.lance" 127
# a model whose centroid column and metadata claim 5 partitions with the data of 4, and an index
# whose auxiliary.idx claims 2047 rows with the data of 2000
cp "$D/ok/model.lance" "$U/model-rows.lance"; python3 "$R/fuzz/lance_rows.py" "$U/model-rows.lance" 5
sed -i 's/"num_partitions":4/"num_partitions":5/' "$U/model-rows.lance"
mkdir -p "$U/idx-rows"; cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$U/idx-rows/"
python3 "$R/fuzz/lance_rows.py" "$U/idx-rows/auxiliary.idx" 2047
# ---- index: format versions newer than partifact reads (index files, model files)
V=$D/ver; mkdir -p "$V/idx-version-9"
cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$V/idx-version-9/"
sed -i 's/"format_version":1,/"format_version":9,/' "$V/idx-version-9/index.idx" "$V/idx-version-9/auxiliary.idx"
cp "$D/ok/model.lance" "$V/model-version-9.lance"
sed -i 's/"version":1}/"version":9}/' "$V/model-version-9.lance"
# ---- shuffle buffers (finalize --rows DIR): the bad ones LanceDB wrote are in files/shuffle-*
mkdir -p "$D/shuf/empty"

# ---- the upstream layout (upt): foreign artifacts and partifact's own, damaged
"$(dirname "$0")/make-upstream.sh" "$PA" "$D"
# ---- 4-bit codes (pq4): a 4-bit model, artifact and index; index files whose storage_metadata
# says other bits than their codes have (5; 4 over an 8-bit code column)
Q=$D/pq4; mkdir -p "$Q/idx-nbits-5" "$Q/idx-nbits-4"
q "$PA" train --input "$D/ok/v8.fvecs" --partitions 4 --sub-vectors 2 --bits 4 --max-iters 3 --out "$D/ok/model-4bit.lance"
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$D/ok/model-4bit.lance" --out "$D/ok/enc-4bit"
q "$PA" finalize --artifact "$D/ok/enc-4bit" --out "$D/ok/idx-4bit"
cp "$D/ok/idx-4bit/index.idx" "$D/ok/idx-4bit/auxiliary.idx" "$Q/idx-nbits-5/"
sed -i 's/\\"nbits\\":4/\\"nbits\\":5/' "$Q/idx-nbits-5/auxiliary.idx"
cp "$D/ok/idx/index.idx" "$D/ok/idx/auxiliary.idx" "$Q/idx-nbits-4/"
sed -i 's/\\"nbits\\":8/\\"nbits\\":4/' "$Q/idx-nbits-4/auxiliary.idx"
echo "bad inputs in $D"
