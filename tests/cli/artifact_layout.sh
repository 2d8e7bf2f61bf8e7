#!/usr/bin/env bash
# The artifact in Lance's partition-artifact layout (issue 14, docs/artifact-format.md):
# manifest keys and JSON types exactly as Lance's reader parses them (partition_artifact.rs at
# lancedb/lance 5a6feec7), empty partitions as its builder writes them, the default bucket count
# min(P, 256), no file for a bucket without rows, the bucket files' two columns; an artifact of
# the same layout without partifact's extras (another program's: structure only); and the
# partifact 0.1 layout, still read (tests/bad-inputs/files/art-v01, written by partifact 0.1).
#   artifact_layout.sh PARTIFACT SCRATCH
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
V01=$(cd "$(dirname "$0")/../bad-inputs/files/art-v01" && pwd)

# check_layout DIR P BUCKETS: the manifest field by field
check_layout() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d, P, B = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = json.load(open(d + "/manifest.json"))
bad = []
def want(c, what):
    if not c: bad.append(what)
want(list(m) == ["version", "num_partitions", "metadata_file", "total_loss", "partifact", "partitions"],
     "top-level keys %s" % list(m))
want(m["version"] == 1 and type(m["version"]) is int, "version 1")
want(m["num_partitions"] == P == len(m["partitions"]), "num_partitions == len(partitions) == P")
want(m["metadata_file"] is None or m["metadata_file"] == "metadata.lance", "metadata_file")
want(m["total_loss"] is None, "total_loss null")
x = m["partifact"]
want(x["format"] == "partifact.artifact" and x["format_version"] == 3, "extras' format")
want(x["num_buckets"] == B, "num_buckets %s, expected %d" % (x["num_buckets"], B))
files = {f["path"]: f for f in x["files"]}
covered, empty, nranges = {}, 0, 0
for i, p in enumerate(m["partitions"]):
    want(list(p) == ["path", "num_rows", "ranges"], "partition %d keys %s" % (i, list(p)))
    if p["num_rows"] == 0:
        want(p == {"path": None, "num_rows": 0, "ranges": []}, "empty partition %d: %s" % (i, p))
        empty += 1
        continue
    want(p["path"] == "partitions/bucket-%05d.lance" % (i % B), "partition %d path %s" % (i, p["path"]))
    want(p["path"] in files, "partition %d's file listed in the extras" % i)
    want(sum(r["num_rows"] for r in p["ranges"]) == p["num_rows"], "partition %d rows" % i)
    for r in p["ranges"]:
        nranges += 1
        want(list(r) == ["offset", "num_rows"] and r["num_rows"] > 0, "range keys %s" % list(r))
        for k in range(r["offset"], r["offset"] + r["num_rows"]):
            want((p["path"], k) not in covered, "row %d of %s in two ranges" % (k, p["path"]))
            covered[(p["path"], k)] = i
want(nranges == x["num_ranges"] == len(x["range_xxh3"]), "one checksum per range")
for f in x["files"]:
    want(all((f["path"], k) in covered for k in range(f["rows"])), "%s: every row in a range" % f["path"])
want(len(covered) == x["total_rows"], "rows counted once")
print("%d partitions (%d empty), %d files, %d ranges: %s" % (P, empty, len(files), nranges,
      "ok" if not bad else "; ".join(bad[:5])))
sys.exit(1 if bad else 0)
PY
}

# more partitions than the 256 default buckets, few rows: empty partitions, buckets without files
expect_exit 0 "$PA" artifact-gen --out "$T/sparse" --rows 200 --partitions 300 --sub-vectors 4 --seed 3
expect_exit 0 check_layout "$T/sparse" 300 256
files=$(ls "$T/sparse/partitions" | wc -l)
listed=$(python3 -c "import json; print(len(json.load(open('$T/sparse/manifest.json'))['partifact']['files']))")
if [ "$files" -eq "$listed" ] && [ "$files" -lt 256 ]; then pass=$((pass+1));
else fail=$((fail+1)); echo "FAIL: $files bucket files, $listed listed (buckets without rows get no file)"; fi
expect_exit 0 "$PA" verify "$T/sparse"
# fewer partitions than 256: one bucket per partition; several flushes: several ranges
expect_exit 0 "$PA" artifact-gen --out "$T/dense" --rows 20000 --partitions 7 --sub-vectors 4 --buffer-rows 500 --seed 3
expect_exit 0 check_layout "$T/dense" 7 7
expect_exit 0 "$PA" artifact-gen --out "$T/chosen" --rows 3000 --partitions 50 --buckets 6 --sub-vectors 4 --seed 3
expect_exit 0 check_layout "$T/chosen" 50 6
# the bucket files: exactly _rowid (uint64) and __pq_code (fixed_size_list<uint8, 4>)
expect_exit 0 "$PA" lance-info --json "$T/chosen/partitions/bucket-00005.lance"
expect_out '"columns":[{"name":"_rowid","type":"uint64",'
expect_out '{"name":"__pq_code","type":"fixed_size_list:uint8:4",'

# encode with a model, then the same artifact without partifact's extras: structure only
expect_exit 0 "$PA" gen-vectors --out "$T/v.fvecs" --rows 3000 --dim 16 --clusters 8 --seed 2
expect_exit 0 "$PA" train --input "$T/v.fvecs" --partitions 8 --sub-vectors 4 --max-iters 3 --out "$T/m.lance"
expect_exit 0 "$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$T/own" --memory 1MiB
expect_exit 0 "$PA" finalize --artifact "$T/own" --out "$T/idx-own"
# metadata.lance: the model in lance-cuvs' columns and keys, named by metadata_file, recorded
expect_exit 0 python3 -c "
import json; m = json.load(open('$T/own/manifest.json'))
assert m['metadata_file'] == 'metadata.lance', m['metadata_file']
import os; assert m['partifact']['metadata']['bytes'] == os.path.getsize('$T/own/metadata.lance')"
expect_exit 0 "$PA" lance-info --json "$T/own/metadata.lance"
expect_out '"rows":1,"columns":[{"name":"_ivf_centroids._ivf_centroids_item","type":"list<fixed_size_list:float:16>",'
expect_out '{"name":"_pq_codebook._pq_codebook_item","type":"list<fixed_size_list:float:4>",'
expect_out '"metadata_keys":["lance:index_build:artifact_version","lance:index_build:distance_type","lance:index_build:num_partitions","lance:index_build:num_sub_vectors","lance:index_build:num_bits","lance:index_build:dimension"]'
expect_exit 0 "$PA" lance-info "$T/own/metadata.lance"
expect_out "Lance file (format 2.2), 1 rows"
expect_exit 0 "$PA" lance-info "$T/own/partitions/bucket-00000.lance"
expect_out "Lance file (format 2.2)"
# the model from metadata.lance gives the same index as the model file
expect_exit 0 "$PA" finalize --artifact "$T/own" --model "$T/own/metadata.lance" --out "$T/idx-meta"
for f in index.idx auxiliary.idx; do expect_exit 0 cmp "$T/idx-own/$f" "$T/idx-meta/$f"; done
# verify checks metadata.lance too
cp -r "$T/own" "$T/meta-flipped"; put_hex "$T/meta-flipped/metadata.lance" 100 ff
expect_err 2 "meta-flipped/metadata.lance: XXH64 is" "$PA" verify "$T/meta-flipped"
cp -r "$T/own" "$T/foreign"
python3 -c "
import json; f = '$T/foreign/manifest.json'; m = json.load(open(f)); del m['partifact']; m.pop('metadata_file')
open(f, 'w').write(json.dumps(m))"
expect_exit 0 "$PA" verify "$T/foreign"
expect_out "foreign: OK, structure only (no partifact extras in the manifest: no file hashes, range checksums or model identity to check against): 3000 rows in 8 partitions"
expect_exit 0 "$PA" verify --json "$T/foreign"
expect_out '"layout":"foreign","structural_only":true}'
expect_exit 0 "$PA" verify --json "$T/own"
expect_out '"layout":"partifact","structural_only":false}'
expect_err 2 "artifact $T/foreign has no metadata_file and records no model; give model_path, the model its codes were made with (--model)" \
    "$PA" finalize --artifact "$T/foreign" --out "$T/idx-foreign"
expect_exit 0 "$PA" finalize --artifact "$T/foreign" --model "$T/m.lance" --out "$T/idx-foreign"
for f in index.idx auxiliary.idx; do expect_exit 0 cmp "$T/idx-own/$f" "$T/idx-foreign/$f"; done
# another program's artifact with its metadata.lance: the model comes from it
cp -r "$T/own" "$T/foreign-meta"
python3 -c "
import json; f = '$T/foreign-meta/manifest.json'; m = json.load(open(f)); del m['partifact']
open(f, 'w').write(json.dumps(m))"
expect_exit 0 "$PA" inspect "$T/foreign-meta"
expect_out "codes: 4 bytes (8-bit), dimension 16, metric l2"
expect_exit 0 "$PA" finalize --artifact "$T/foreign-meta" --out "$T/idx-foreign-meta"
# (the index records the model file it was made with: metadata.lance's XXH64 here)
expect_exit 0 "$PA" finalize --artifact "$T/foreign" --model "$T/own/metadata.lance" --out "$T/idx-foreign-m"
for f in index.idx auxiliary.idx; do expect_exit 0 cmp "$T/idx-foreign-m/$f" "$T/idx-foreign-meta/$f"; done
# structural checks still hold without the extras: a range past its file, overlapping ranges
cp -r "$T/foreign" "$T/foreign-bad"
python3 -c "
import json; f = '$T/foreign-bad/manifest.json'; m = json.load(open(f)); m['partitions'][1]['ranges'][0]['offset'] += 1
open(f, 'w').write(json.dumps(m))"
expect_err 2 "foreign-bad/partitions/bucket-00001.lance: rows [0, 1) belong to no range (partition 1's range starts at 1)" \
    "$PA" verify "$T/foreign-bad"

# the 0.1 layout: read by verify, inspect and finalize, giving the index the new layout of the
# same rows (artifact-gen, same seed) gives, byte for byte
expect_exit 0 "$PA" verify "$V01"
expect_out "OK: 300 rows in 4 partitions, 4 ranges, 2 files (5566 bytes hashed)"
expect_out "(0.1 layout)"
expect_exit 0 "$PA" inspect --read "$V01"
expect_out "layout: partifact 0.1 (read only)"
expect_exit 0 "$PA" inspect --json "$V01"
expect_out "\"layout\":\"0.1\""
expect_exit 0 "$PA" finalize --artifact "$V01" --out "$T/idx-v01"
expect_exit 0 "$PA" artifact-gen --out "$T/new" --rows 300 --partitions 4 --sub-vectors 2 --buckets 2 --seed 5 \
    --model "$V01/model.lance"
expect_exit 0 "$PA" finalize --artifact "$T/new" --out "$T/idx-new"
for f in index.idx auxiliary.idx; do expect_exit 0 cmp "$T/idx-v01/$f" "$T/idx-new/$f"; done
finish
