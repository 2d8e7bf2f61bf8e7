#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/<target>/ and the fixed files the dataset and
# artifact targets open next to the fuzzed manifest (fuzz/data/), from real files: what
# partifact writes (several layouts and types) and what LanceDB 0.37.1 writes.
# Usage: fuzz/make_seeds.sh BUILD_DIR   (a normal build: its partifact and interop programs)
# Needs tests/interop/node_modules (make deps-node). Files are kept small (a few KB each).
set -euo pipefail
B=$(cd "$1" && pwd); PA=$B/partifact
cd "$(dirname "$0")"; F=$(pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
C=$F/corpus
mkdir -p "$C"/{fuzz_lance_file,fuzz_lance_dataset,fuzz_artifact_manifest,fuzz_model,fuzz_npy,fuzz_vecs,fuzz_index,fuzz_queries,fuzz_groundtruth}
rm -rf "$F/data"; mkdir -p "$F/data/dataset/data" "$F/data/artifact" "$F/data/index"

# -- Lance files written by partifact: every layout, several pages, all five column types
"$PA" lance-gen --out "$C/fuzz_lance_file/pa-auto.lance" --rows 40 --dim 4 >/dev/null
"$PA" lance-gen --out "$C/fuzz_lance_file/pa-miniblock.lance" --rows 60 --dim 3 --layout mini-block --page-bytes 256 >/dev/null
"$PA" lance-gen --out "$C/fuzz_lance_file/pa-fullzip.lance" --rows 30 --dim 2 --layout full-zip --page-bytes 256 >/dev/null
"$PA" lance-gen --out "$C/fuzz_lance_file/pa-bigdim.lance" --rows 8 --dim 80 >/dev/null
# claims 127 rows in pages holding 100 (refused at open: more rows than the data holds)
"$PA" lance-gen --out "$C/fuzz_lance_file/pa-rows-claimed.lance" --rows 100 --dim 4 >/dev/null
python3 "$F/lance_rows.py" "$C/fuzz_lance_file/pa-rows-claimed.lance" 127

# -- a small artifact: its bucket files stay fixed (fuzz/data), its manifest is the seed
"$PA" artifact-gen --out "$T/art" --rows 300 --partitions 7 --sub-vectors 4 --buckets 3 --seed 5 >/dev/null
cp -r "$T/art/partitions" "$F/data/artifact/"
cp "$T/art/manifest.json" "$C/fuzz_artifact_manifest/artifact.json"
# and the same manifest damaged as the checks at open and on read must refuse: overlapping
# ranges, a range handed to another partition, a range without its checksum, a wrong checksum,
# extras version 1, another checksum algorithm, no extras (another program's artifact), and the
# partifact 0.1 layout (fuzz/corpus keeps its seed v01.json, whose files no longer match)
M=$C/fuzz_artifact_manifest
jed() { python3 -c "import json, sys
m = json.load(open('$M/artifact.json')); x = m['partifact']; p = m['partitions']
exec(sys.argv[1]); print(json.dumps(m, separators=(',', ':')))" "$1"; }
jed 'p[3]["ranges"][0]["offset"] -= 1' > "$M/overlap.json"
jed 'p[0], p[3] = p[3], p[0]' > "$M/wrong-part.json"
jed 'del x["range_xxh3"][1]' > "$M/no-checksum.json"
jed 'x["range_xxh3"][1] = "f" + x["range_xxh3"][1][1:]' > "$M/bad-checksum.json"
jed 'x["format_version"] = 1' > "$M/version-1.json"
jed 'x["range_checksum"] = "crc32c"' > "$M/other-algo.json"
jed 'del m["partifact"]' > "$M/foreign.json"
cp "$T/art/partitions/bucket-00001.lance" "$C/fuzz_lance_file/pa-bucket.lance"

# -- a model file (metadata JSON, a global buffer with the codebook)
"$PA" gen-vectors --out "$T/v.fvecs" --rows 300 --dim 8 --clusters 4 --seed 2 >/dev/null
"$PA" train --input "$T/v.fvecs" --partitions 2 --sub-vectors 2 --max-iters 2 --out "$T/model.lance" >/dev/null 2>&1
cp "$T/model.lance" "$C/fuzz_lance_file/pa-model.lance"
cp "$T/model.lance" "$C/fuzz_model/l2.lance"
# the same model as an artifact's metadata.lance (lance-cuvs' list columns and keys)
"$PA" encode --input "$T/v.fvecs" --model "$T/model.lance" --out "$T/enc" >/dev/null
cp "$T/enc/metadata.lance" "$C/fuzz_model/metadata.lance"
"$PA" train --input "$T/v.fvecs" --partitions 3 --sub-vectors 4 --metric cosine --max-iters 2 --out "$C/fuzz_model/cosine.lance" >/dev/null 2>&1
"$PA" train --input "$T/v.fvecs" --partitions 2 --sub-vectors 1 --metric dot --max-iters 2 --out "$C/fuzz_model/dot.lance" >/dev/null 2>&1

# -- index files: a small index's two files stay fixed (fuzz/data/index); each is a seed, behind
#    the byte that picks it (0 auxiliary.idx, 1 index.idx), for l2 and for dot
"$PA" encode --input "$T/v.fvecs" --model "$T/model.lance" --out "$T/ia" >/dev/null
"$PA" finalize --artifact "$T/ia" --out "$T/idx" >/dev/null
cp "$T/idx/index.idx" "$T/idx/auxiliary.idx" "$F/data/index/"
{ printf '\x00'; cat "$T/idx/auxiliary.idx"; } > "$C/fuzz_index/aux-l2.bin"
{ printf '\x01'; cat "$T/idx/index.idx"; } > "$C/fuzz_index/idx-l2.bin"
"$PA" encode --input "$T/v.fvecs" --model "$C/fuzz_model/dot.lance" --out "$T/ib" >/dev/null
"$PA" finalize --artifact "$T/ib" --out "$T/idx2" >/dev/null
{ printf '\x00'; cat "$T/idx2/auxiliary.idx"; } > "$C/fuzz_index/aux-dot.bin"
cp "$T/idx/auxiliary.idx" "$C/fuzz_lance_file/pa-index-aux.lance"

# -- a dataset written by partifact
"$B/interop/interop_write_dataset" "$T/ds" 30 >/dev/null
for f in "$T"/ds/data/*.lance; do cp "$f" "$F/data/dataset/data/"; done
cp "$(ls "$T"/ds/_versions/*.manifest | head -1)" "$C/fuzz_lance_dataset/pa.manifest"
cp "$(ls "$T"/ds/data/*.lance | head -1)" "$C/fuzz_lance_file/pa-dataset.lance"

# -- a table written by LanceDB (two fragments: two versions)
(cd "$F/../tests/interop" && cp "$F/make_lancedb_seeds.mjs" .seeds.mjs &&
 node .seeds.mjs "$T/ldb" >/dev/null 2>&1; rm -f .seeds.mjs)
i=0
for f in "$T"/ldb/t.lance/data/*.lance; do
  cp "$f" "$F/data/dataset/data/"; i=$((i+1)); cp "$f" "$C/fuzz_lance_file/lancedb-$i.lance"
done
i=0
for m in "$T"/ldb/t.lance/_versions/*.manifest; do i=$((i+1)); cp "$m" "$C/fuzz_lance_dataset/lancedb-$i.manifest"; done

# -- tiny LanceDB 0.39.0 tables in Lance file formats 2.0, 2.1 and 2.2 (nullable vectors,
#    float16/float64/uint8 lists, a string column the reader skips)
(cd "$F/../tests/interop" && node "$F/make_lancedb_format_seeds.mjs" lancedb-0.39 "$T/fmt" >/dev/null 2>&1)
for v in 20 21 22; do cp "$T"/fmt/f$v.lance/data/*.lance "$C/fuzz_lance_file/lancedb-format-$v.lance"; done
cp "$T"/fmt/fz.lance/data/*.lance "$C/fuzz_lance_file/lancedb-format-22-compressed.lance"
for v in 21 22; do cp "$T"/fmt/fl$v.lance/data/*.lance "$C/fuzz_lance_file/lancedb-format-$v-lists.lance"; done

# -- vector files: the first byte of a fuzz_vecs input picks the extension (0 fvecs, 1 bvecs, 2 ivecs)
"$PA" gen-vectors --out "$T/s.fvecs" --rows 12 --dim 6 --clusters 3 --seed 1 >/dev/null
{ printf '\x00'; cat "$T/s.fvecs"; } > "$C/fuzz_vecs/f.bin"
python3 - "$C" <<'PY'
import struct, sys
C = sys.argv[1]
def rows(fmt, dim, n, f):
    return b''.join(struct.pack('<i', dim) + struct.pack('<%d%s' % (dim, fmt), *[f(r, j) for j in range(dim)]) for r in range(n))
open(C + '/fuzz_vecs/b.bin', 'wb').write(b'\x01' + rows('B', 5, 9, lambda r, j: (r * 7 + j) % 256))
open(C + '/fuzz_vecs/i.bin', 'wb').write(b'\x02' + rows('i', 3, 7, lambda r, j: r * 3 - j))
open(C + '/fuzz_vecs/nan.bin', 'wb').write(b'\x00' + rows('f', 2, 3, lambda r, j: float('nan') if r == 1 else 1.5))
def npy(descr, shape, data, fortran=False, ver=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    pre = 10 if ver == 1 else 12
    h += ' ' * ((64 - (pre + len(h) + 1) % 64) % 64) + '\n'
    lenf = struct.pack('<H', len(h)) if ver == 1 else struct.pack('<I', len(h))
    return b'\x93NUMPY' + bytes([ver, 0]) + lenf + h.encode() + data
import array
f32 = struct.pack('<24f', *[i / 4 for i in range(24)])
open(C + '/fuzz_npy/f4.npy', 'wb').write(npy('<f4', (6, 4), f32))
open(C + '/fuzz_npy/f2.npy', 'wb').write(npy('<f2', (4, 3), struct.pack('<12e', *[i / 2 for i in range(12)])))
open(C + '/fuzz_npy/u1.npy', 'wb').write(npy('|u1', (5, 2), bytes(range(10))))
open(C + '/fuzz_npy/v2.npy', 'wb').write(npy('<f4', (3, 8), f32, ver=2))
open(C + '/fuzz_npy/nan.npy', 'wb').write(npy('<f4', (2, 2), struct.pack('<4f', 1, float('nan'), 2, float('inf'))))
# header variants NumPy reads: double quotes, no spaces, other key order, big-endian, version 3
def raw_npy(h, data, ver=1):
    pre = 10 if ver == 1 else 12
    h += ' ' * ((64 - (pre + len(h) + 1) % 64) % 64) + '\n'
    lenf = struct.pack('<H', len(h)) if ver == 1 else struct.pack('<I', len(h))
    return b'\x93NUMPY' + bytes([ver, 0]) + lenf + h.encode() + data
open(C + '/fuzz_npy/dquote.npy', 'wb').write(raw_npy('{"descr":"<f4","fortran_order":False,"shape":(6,4)}', f32))
open(C + '/fuzz_npy/order.npy', 'wb').write(raw_npy("{'shape': (6, 4), 'descr': '=f4', 'fortran_order': False}", f32, ver=3))
open(C + '/fuzz_npy/be.npy', 'wb').write(raw_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (6, 4), }", struct.pack('>24f', *[i / 4 for i in range(24)])))
open(C + '/fuzz_npy/fortran.npy', 'wb').write(raw_npy("{'descr':'<f4','fortran_order':True,'shape':(6,4)}", f32))
PY
# -- queries read whole (fuzz_queries): the first byte picks the kind (0 fvecs, 1 bvecs, 2 ivecs,
#    3 npy, 4 dataset manifest next to fuzz/data/dataset/data), seeded from the corpora above,
#    and a manifest whose second fragment claims 2^60 - 119 rows (the crafted --queries dataset
#    that once overflowed search's query buffer: 16 * (2^60 + 1) wraps to 16 bytes)
for f in "$C"/fuzz_vecs/*.bin; do cp "$f" "$C/fuzz_queries/vecs-$(basename "$f")"; done
for f in "$C"/fuzz_npy/*.npy; do { printf '\x03'; cat "$f"; } > "$C/fuzz_queries/npy-$(basename "$f" .npy).bin"; done
for f in "$C"/fuzz_lance_dataset/*.manifest; do { printf '\x04'; cat "$f"; } > "$C/fuzz_queries/ds-$(basename "$f" .manifest).bin"; done
python3 "$F/craft_manifest.py" "$C/fuzz_lance_dataset/lancedb-2.manifest" "$T/over.manifest" $(( (1 << 60) + 1 - 120 ))
{ printf '\x04'; cat "$T/over.manifest"; } > "$C/fuzz_queries/ds-rows-overflow.bin"

# -- ground truth (fuzz_groundtruth): the first byte picks .ivecs (0) or .npy (1)
"$PA" groundtruth --input "$T/s.fvecs" --queries "$T/s.fvecs" -k 4 --out "$T/gt.ivecs" >/dev/null
"$PA" groundtruth --input "$T/s.fvecs" --queries "$T/s.fvecs" -k 4 --out "$T/gt.npy" >/dev/null
{ printf '\x00'; cat "$T/gt.ivecs"; } > "$C/fuzz_groundtruth/gt-ivecs.bin"
{ printf '\x01'; cat "$T/gt.npy"; } > "$C/fuzz_groundtruth/gt-u8.bin"
python3 - "$C" <<'PY'
import struct, sys
C = sys.argv[1]
h = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }"
h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
open(C + '/fuzz_groundtruth/gt-i4.bin', 'wb').write(b'\x01\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + struct.pack('<6i', 0, 1, 2, -1, 4, 5))
PY
echo "seeds: $(find "$C" -type f | wc -l) files, $(du -sh "$C" | cut -f1); data: $(du -sh "$F/data" | cut -f1)"
