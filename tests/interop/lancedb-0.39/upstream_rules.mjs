// The upstream reader's and builder's rules, checked field by field on an artifact, each check
// naming the source it comes from. Independent of partifact: the manifest is parsed here
// (json_lexemes.mjs), the Lance files' footers and schemas read here (lance_schema.mjs), and
// the bucket and metadata.lance schemas compared with the files LanceDB 0.39.0 itself writes for
// the Arrow schemas the upstream sources declare.
// Usage: node upstream_rules.mjs ARTIFACT WORK --buckets B --dim D --metric l2|cosine|dot
//          [--bits 8] [--require empty,shared,multirange]
//   --buckets: the bucket count the producer was given (upstream default: min(P, 256));
//   --require: the artifact must have an empty partition / a bucket shared by several
//   partitions / a partition of several ranges (so that the rules about them were exercised).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';
import { bucketBatch, metadataBatch } from './upstream_layout.mjs';
import { parseJson, isUnsigned, keysOf, get, dupKeys } from '../json_lexemes.mjs';
import { readLanceSchema } from '../lance_schema.mjs';

// The sources, at the commits read (the checks name them by these short names).
const SOURCES = {
  'partition_artifact.rs': 'lancedb/lance@5a6feec787421e0565f5506c0c359737d9c6861d rust/lance/src/index/vector/partition_artifact.rs (the PR #6463 branch)',
  'backend.rs': 'lance-format/lance-cuvs@364d2a119e0b14735e1bf03c2194625d8e3783c6 backends/cuvs_26_02/src/backend.rs',
  'cuda.rs': 'lance-format/lance-cuvs@364d2a119e0b14735e1bf03c2194625d8e3783c6 backends/cuvs_26_02/src/cuda.rs',
  'file.proto': 'lancedb/lance protos/file2.proto (the v2 footer) and protos/file.proto (FileDescriptor, Schema, Field)',
};
const PR = 'partition_artifact.rs', CUVS = 'backend.rs', CUVS_CUDA = 'cuda.rs', FILE2 = 'file.proto';

const argv = process.argv.slice(2);
const [artifact, work] = argv;
const opt = (name, dflt) => { const k = argv.indexOf(`--${name}`); return k < 0 ? dflt : argv[k + 1]; };
const expBuckets = Number(opt('buckets'));
const expDim = Number(opt('dim'));
const expMetric = opt('metric', 'l2');
const expBits = Number(opt('bits', '8'));
const needs = (opt('require', '') || '').split(',').filter(Boolean);

let passed = 0, failed = 0;
const seen = new Map();   // rule -> [passes, failures]
function check(ok, rule, where, msg) {
  const s = seen.get(rule) ?? { src: where, pass: 0, fail: 0 };
  seen.set(rule, s);
  if (ok) { s.pass++; passed++; return true; }
  if (s.fail++ < 5) console.log(`FAIL [${rule}] (${where}): ${msg}`);
  failed++;
  return false;
}

// ---- manifest.json as serde_json parses it into PartitionArtifactManifest
const text = fs.readFileSync(`${artifact}/manifest.json`, 'utf8');
let man;
try { man = parseJson(text); } catch (e) { check(false, 'manifest parses', PR, e.message); }
if (!man || man.t !== 'obj') {
  check(false, 'manifest is an object', `${PR}: PartitionArtifactManifest`, 'not a JSON object');
  report();
}
const S_MAN = `${PR}: struct PartitionArtifactManifest (serde, no deny_unknown_fields)`;
check(dupKeys(man).length === 0, 'manifest keys once', S_MAN, `repeated keys ${dupKeys(man)}`);
for (const k of ['version', 'num_partitions', 'partitions'])
  check(get(man, k) !== undefined, `manifest has ${k}`, `${S_MAN}: ${k} has no #[serde(default)]`, `no "${k}"`);
const version = get(man, 'version');
check(isUnsigned(version, 2n ** 32n - 1n), 'version is a u32', `${S_MAN}: version: u32`, `version ${version?.s ?? version?.t}`);
check(version?.v === 1, 'version is 1', `${PR}: PartitionArtifactShuffleReader::try_open_with_store (manifest.version != 1 refused); PARTITION_ARTIFACT_MANIFEST_VERSION = 1`, `version ${version?.s}`);
const np = get(man, 'num_partitions');
check(isUnsigned(np), 'num_partitions is a usize', `${S_MAN}: num_partitions: usize`, `num_partitions ${np?.s ?? np?.t}`);
const parts = get(man, 'partitions');
check(parts?.t === 'arr', 'partitions is an array', `${S_MAN}: partitions: Vec<PartitionArtifactPartition>`, `partitions is ${parts?.t}`);
const P = np?.v ?? 0;
const plist = parts?.t === 'arr' ? parts.items : [];
check(plist.length === P, 'num_partitions equals the partitions listed', `${PR}: try_open_with_store (partitions.len() != num_partitions refused)`, `${plist.length} partitions listed, num_partitions ${P}`);
// what the builder writes: every field of the struct (None serialized as null)
const S_FIN = `${PR}: PartitionArtifactBuilder::finish (PartitionArtifactManifest with every field, metadata_file: Some(..))`;
for (const k of ['metadata_file', 'total_loss'])
  check(get(man, k) !== undefined, `builder writes ${k}`, S_FIN, `no "${k}"`);
const mf = get(man, 'metadata_file');
check(mf?.t === 'str', 'metadata_file is a string', `${S_MAN}: metadata_file: Option<String>; ${S_FIN}`, `metadata_file is ${mf?.t}`);
check(mf?.v === 'metadata.lance', 'metadata_file is metadata.lance', `${CUVS}: PARTITION_ARTIFACT_METADATA_FILE_NAME = "metadata.lance", passed to finish`, `metadata_file ${JSON.stringify(mf?.v)}`);
const tl = get(man, 'total_loss');
check(tl === undefined || tl.t === 'null' || tl.t === 'num', 'total_loss is null or a number', `${S_MAN}: total_loss: Option<f64>`, `total_loss is ${tl?.t}`);
const extras = keysOf(man).filter((k) => !['version', 'num_partitions', 'metadata_file', 'total_loss', 'partitions'].includes(k));

// ---- partitions, ranges, paths
const S_PART = `${PR}: struct PartitionArtifactPartition`;
const S_RANGE = `${PR}: struct PartitionArtifactRange (offset, num_rows: u64, no #[serde(default)])`;
const S_READ = `${PR}: ShuffleReader::read_partition`;
const S_FLUSH = `${PR}: PartitionArtifactBuilder::flush_bucket / flush_single_partition_bucket`;
const S_PATH = `${PR}: final_bucket_relative_path ("partitions/bucket-{bucket_id:05}.lance"), append_batch (bucket_id = partition_id % num_buckets)`;
const numBuckets = expBuckets || Math.min(P, 256);
// (paths below are checked against this count: upstream's default is
// `${PR}: try_new_with_store` num_partitions.min(PARTITION_ARTIFACT_DEFAULT_BUCKETS = 256))
const bucketName = (b) => `partitions/bucket-${String(b).padStart(5, '0')}.lance`;
const files = new Map();   // path -> [{p, offset, rows}]
let totalRows = 0n, empty = 0, multi = 0;
plist.forEach((e, p) => {
  if (!check(e.t === 'obj', 'partition is an object', S_PART, `partition ${p} is ${e.t}`)) return;
  check(dupKeys(e).length === 0, 'partition keys once', S_PART, `partition ${p} repeats ${dupKeys(e)}`);
  const pth = get(e, 'path'), nr = get(e, 'num_rows'), rg = get(e, 'ranges');
  for (const [k, n] of [['path', pth], ['num_rows', nr], ['ranges', rg]])
    check(n !== undefined, `builder writes partition ${k}`, `${PR}: try_new_with_store (every partition starts {path: None, num_rows: 0, ranges: []}), serde writes every field`, `partition ${p} has no "${k}"`);
  check(pth === undefined || pth.t === 'null' || pth.t === 'str', 'path is null or a string', `${S_PART}: path: Option<String>`, `partition ${p} path is ${pth?.t}`);
  check(nr === undefined || isUnsigned(nr), 'num_rows is a usize', `${S_PART}: num_rows: usize`, `partition ${p} num_rows ${nr?.s ?? nr?.t}`);
  check(rg === undefined || rg.t === 'arr', 'ranges is an array', `${S_PART}: ranges: Vec<PartitionArtifactRange>`, `partition ${p} ranges is ${rg?.t}`);
  const n = nr?.t === 'num' ? BigInt(nr.s) : 0n;
  const ranges = rg?.t === 'arr' ? rg.items : [];
  let sum = 0n, last = -1n;
  for (const [j, r] of ranges.entries()) {
    if (!check(r.t === 'obj', 'range is an object', S_RANGE, `partition ${p} range ${j} is ${r.t}`)) continue;
    const o = get(r, 'offset'), l = get(r, 'num_rows');
    check(isUnsigned(o) && isUnsigned(l), 'range has offset and num_rows, u64', S_RANGE, `partition ${p} range ${j}: ${text.slice(0, 0)}offset ${o?.s ?? o?.t}, num_rows ${l?.s ?? l?.t}`);
    check(dupKeys(r).length === 0, 'range keys once', S_RANGE, `partition ${p} range ${j} repeats ${dupKeys(r)}`);
    if (!isUnsigned(o) || !isUnsigned(l)) continue;
    const off = BigInt(o.s), len = BigInt(l.s);
    check(len > 0n, 'a range holds rows', `${S_FLUSH} (a range per run of one partition's rows)`, `partition ${p} range ${j} is empty`);
    check(off > last, "a partition's ranges ascend", `${S_FLUSH} (ranges appended at bucket_row_counts, which only grows)`, `partition ${p} range ${j} at ${off} after ${last}`);
    last = off;
    sum += len;
    if (pth?.t === 'str') {
      if (!files.has(pth.v)) files.set(pth.v, []);
      files.get(pth.v).push({ p, j, off, len });
    }
  }
  check(sum === n, 'num_rows is the sum of the ranges', `${S_FLUSH} (num_rows += run length with each range pushed); ShuffleReader::partition_size returns num_rows, read_partition reads the ranges`, `partition ${p}: num_rows ${n}, ranges hold ${sum}`);
  totalRows += n;
  if (n > 0n) {
    check(pth?.t === 'str', 'a partition with rows has a path', `${S_READ} ("has {} rows but no path" refused)`, `partition ${p}: ${n} rows, path ${pth?.t}`);
    check(ranges.length > 0, 'a partition with rows has ranges', `${S_READ} ("has {} rows but no ranges" refused)`, `partition ${p}: ${n} rows, no ranges`);
    check(pth?.v === bucketName(p % numBuckets), 'path is the bucket p % num_buckets', S_PATH, `partition ${p}: path ${JSON.stringify(pth?.v)}, expected ${bucketName(p % numBuckets)} (${numBuckets} buckets)`);
    if (ranges.length > 1) multi++;
  } else {
    empty++;
    check(pth?.t === 'null' && rg?.t === 'arr' && ranges.length === 0,
          'an empty partition is {"path":null,"num_rows":0,"ranges":[]}', `${PR}: try_new_with_store (path: None, num_rows: 0, ranges: Vec::new() until a flush); serde writes None as null`,
          `partition ${p}: ${JSON.stringify(text.length < 4096 ? e : '')} path ${pth?.t}, ${ranges.length} ranges`);
  }
  if (pth?.t === 'str') {
    const segs = pth.v.split('/');
    check(!pth.v.startsWith('/') && !segs.includes('..') && !pth.v.includes('\\'), 'path is relative, inside the artifact',
          `${PR}: join_relative_path (the path's '/' segments joined onto the artifact root)`, `partition ${p}: path ${JSON.stringify(pth.v)}`);
  }
  const pextra = keysOf(e).filter((k) => !['path', 'num_rows', 'ranges'].includes(k));
  if (pextra.length) extras.push(...pextra.map((k) => `partitions[].${k}`));
});

// ---- bucket files: present, the only files, 2.2, the schema exactly, ranges inside and tiling
const S_SCHEMA = `${PR}: try_new_with_store (final_schema: _rowid UInt64 not null, __pq_code FixedSizeList(Field "item" UInt8 nullable, pq_code_width) nullable)`;
const S_VER = `${PR}: PARTITION_ARTIFACT_FILE_VERSION = "2.2", file_writer_options; footer per ${FILE2}`;
const onDisk = fs.existsSync(`${artifact}/partitions`) ? fs.readdirSync(`${artifact}/partitions`).map((f) => `partitions/${f}`) : [];
for (const f of onDisk)
  check(files.has(f), 'every file in partitions/ is a bucket a partition names', `${PR}: ensure_final_writer (a bucket's file is created by its first flush: buckets with no rows have no file)`, `${f} is named by no partition`);
let width = null, fileRows = 0n;
const bucketSchemas = [];
for (const [f, rs] of [...files.entries()].sort()) {
  if (!check(fs.existsSync(`${artifact}/${f}`), 'a named bucket file exists', S_READ, `${f} is missing`)) continue;
  let s;
  try { s = readLanceSchema(`${artifact}/${f}`); } catch (e) { check(false, 'bucket file is a Lance file', FILE2, e.message); continue; }
  check(s.major === 2 && s.minor === 2, 'bucket file is Lance 2.2', S_VER, `${f}: version ${s.major}.${s.minor}`);
  check(s.numColumns === 2 && s.fields.length === 2, 'bucket file has exactly two columns', S_SCHEMA, `${f}: ${s.numColumns} columns, fields ${s.fields.map((x) => x.name)}`);
  const [a, b] = s.fields;
  check(a?.name === '_rowid' && a.logicalType === 'uint64' && a.nullable === false && a.parentId === -1,
        '_rowid: uint64, not null', `${S_SCHEMA}; lance_core::ROW_ID = "_rowid"`, `${f}: first field ${JSON.stringify(a)}`);
  const m = /^fixed_size_list:uint8:([0-9]+)$/.exec(b?.logicalType ?? '');
  check(b?.name === '__pq_code' && m && b.nullable === true && b.parentId === -1,
        '__pq_code: fixed_size_list<uint8>[W], nullable', `${S_SCHEMA}; lance_index::vector::PQ_CODE_COLUMN = "__pq_code"`, `${f}: second field ${JSON.stringify(b)}`);
  if (m) {
    if (width === null) width = Number(m[1]);
    check(Number(m[1]) === width, 'every bucket has one code width', `${PR}: try_new_with_store (one pq_code_width)`, `${f}: width ${m[1]}, others ${width}`);
  }
  bucketSchemas.push([f, s]);
  const rows = BigInt(s.numRows);
  fileRows += rows;
  // ranges inside the file, disjoint, covering it (every flushed row is in the range of its run)
  const sorted = [...rs].sort((x, y) => (x.off < y.off ? -1 : x.off > y.off ? 1 : 0));
  let at = 0n;
  for (const r of sorted) {
    check(r.off + r.len <= rows, 'a range lies inside its file', `${S_READ} (ReadBatchParams::Ranges of the file's rows)`, `${f}: partition ${r.p} range ${r.j} [${r.off}, ${r.off + r.len}) past its ${rows} rows`);
    check(r.off >= at, 'ranges of a file do not overlap', `${S_FLUSH} (each flush appends its rows once, one range per run)`, `${f}: partition ${r.p} range ${r.j} starts at ${r.off}, inside the range ending at ${at}`);
    check(r.off <= at, 'ranges of a file leave no row out', `${S_FLUSH} (every buffered row is written inside a range)`, `${f}: rows [${at}, ${r.off}) are in no range`);
    if (r.off + r.len > at) at = r.off + r.len;
  }
  check(at === rows, 'the ranges reach the end of the file', S_FLUSH, `${f}: ranges end at ${at}, the file has ${rows} rows`);
}
check(fileRows === totalRows, 'the partitions hold every row of the files', S_FLUSH, `files ${fileRows} rows, partitions ${totalRows}`);

// ---- metadata.lance as lance-cuvs writes it
const S_MDB = `${CUVS}: build_metadata_batch (_ivf_centroids List<Field "_ivf_centroids_item" centroids' FixedSizeList<f32, dim>, not null> not null, _pq_codebook List<Field "_pq_codebook_item" FixedSizeList<f32, dim/M>, not null> not null; one row)`;
const S_MDK = `${CUVS}: write_partition_artifact_metadata (add_schema_metadata lance:index_build:*)`;
const S_MDV = `${CUVS}: metadata_writer_options (PARTITION_ARTIFACT_FILE_VERSION = "2.2")`;
let md = null;
const mdPath = `${artifact}/${mf?.v ?? 'metadata.lance'}`;
if (check(fs.existsSync(mdPath), 'metadata.lance exists', S_MDK, `${mdPath} is missing`)) {
  try { md = readLanceSchema(mdPath); } catch (e) { check(false, 'metadata.lance is a Lance file', FILE2, e.message); }
}
const subdim = width ? expDim / width : NaN;
if (md) {
  check(md.major === 2 && md.minor === 2, 'metadata.lance is Lance 2.2', S_MDV, `version ${md.major}.${md.minor}`);
  check(md.numRows === 1, 'metadata.lance has one row', S_MDB, `${md.numRows} rows`);
  const want = [['_ivf_centroids', 'list', -1, false], ['_ivf_centroids_item', `fixed_size_list:float:${expDim}`, 0, false],
                ['_pq_codebook', 'list', -1, false], ['_pq_codebook_item', `fixed_size_list:float:${subdim}`, 2, false]];
  check(md.fields.length === want.length && md.numColumns === 2, 'metadata.lance has exactly its two list columns', S_MDB,
        `${md.numColumns} columns, fields ${md.fields.map((x) => `${x.name}:${x.logicalType}`)}`);
  want.forEach(([name, lt, parentIdx, nullable], k) => {
    const f = md.fields[k];
    const parentId = parentIdx < 0 ? -1 : md.fields[parentIdx]?.id;
    check(f?.name === name && f.logicalType === lt && f.parentId === parentId && f.nullable === nullable,
          `metadata.lance field ${name}`, S_MDB, `field ${k} is ${JSON.stringify(f)}, expected ${name} ${lt}, parent ${parentId}, nullable ${nullable}`);
  });
  const K = 'lance:index_build:';
  const wantMeta = { artifact_version: '1', distance_type: expMetric, num_partitions: String(P),
                     num_sub_vectors: String(width), num_bits: String(expBits), dimension: String(expDim) };
  for (const [k, v] of Object.entries(wantMeta))
    check(md.metadata[K + k] === v, `metadata.lance ${K}${k}`, `${S_MDK}${k === 'distance_type' ? ' (DistanceType Display: l2, cosine, dot)' : ''}`, `${K}${k} is ${JSON.stringify(md.metadata[K + k])}, expected ${JSON.stringify(v)}`);
  const otherMeta = Object.keys(md.metadata).filter((k) => !k.startsWith(K));
  if (otherMeta.length) extras.push(...otherMeta.map((k) => `metadata.lance schema metadata ${k}`));
  const otherBuild = Object.keys(md.metadata).filter((k) => k.startsWith(K) && !(k.slice(K.length) in wantMeta));
  check(otherBuild.length === 0, 'no lance:index_build key lance-cuvs does not write', S_MDK, `${otherBuild}`);
  check(Number.isInteger(subdim), 'dimension is a multiple of num_sub_vectors', `${CUVS_CUDA}: pq_codebook_from_host (subvector_dim = dimension / num_sub_vectors)`, `dimension ${expDim}, ${width} sub-vectors`);
}

// ---- the schemas, attribute by attribute, against what LanceDB 0.39.0 writes for the upstream
// Arrow schemas (the same names but _rowid, which a LanceDB table refuses: written as _r0wid)
fs.mkdirSync(work, { recursive: true });
const db = await lancedb.connect(`${work}/reference`);
async function referenceFile(name, batch) {
  await db.createTable(name, new arrow.Table([batch]), { mode: 'overwrite' });
  const dir = `${work}/reference/${name}.lance/data`;
  return readLanceSchema(path.join(dir, fs.readdirSync(dir)[0]));
}
const same = (x, y) => ['type', 'id', 'parentId', 'logicalType', 'nullable', 'extensionName']
  .every((k) => x[k] === y[k]) && JSON.stringify(x.metadata) === JSON.stringify(y.metadata);
if (width) {
  const ref = await referenceFile('bucket', bucketBatch(width, new BigUint64Array(1), new Uint8Array(width)));
  for (const [f, s] of bucketSchemas)
    check(s.fields.length === ref.fields.length && s.fields.every((x, k) => same(x, ref.fields[k])) && s.numColumns === ref.numColumns,
          'bucket schema is what LanceDB writes for the upstream Arrow schema', S_SCHEMA,
          `${f}: ${JSON.stringify(s.fields)} vs LanceDB's ${JSON.stringify(ref.fields)}`);
}
if (md && width && Number.isInteger(subdim)) {
  const ref = await referenceFile('metadata', metadataBatch({ dim: expDim, M: width, bits: expBits }, 2));
  check(md.fields.length === ref.fields.length && md.fields.every((x, k) => same(x, ref.fields[k]) && x.name === ref.fields[k].name) &&
        md.numColumns === ref.numColumns,
        "metadata.lance schema is what LanceDB writes for lance-cuvs' Arrow schema", S_MDB,
        `${JSON.stringify(md.fields)} vs LanceDB's ${JSON.stringify(ref.fields)}`);
}

// ---- coverage: the artifact exercised the rules it was made for
const shared = [...files.values()].filter((rs) => new Set(rs.map((r) => r.p)).size > 1).length;
const have = { empty, shared, multirange: multi };
for (const r of needs)
  check(have[r] > 0, `the artifact has ${r} partitions/buckets`, 'this test', `no ${r} (${JSON.stringify(have)})`);
report();

function report() {
  for (const [k, v] of Object.entries(SOURCES)) console.log(`source ${k}: ${v}`);
  for (const [rule, s] of seen) console.log(`${s.fail ? 'FAIL' : 'ok  '} ${rule} (${s.pass + s.fail}x) -- ${s.src}`);
  console.log(`artifact ${artifact}: ${P} partitions in ${numBuckets} buckets${expBuckets ? '' : ' (upstream default min(P, 256): partition_artifact.rs try_new_with_store)'} (${empty} empty, ${multi} of several ranges), ${files.size} bucket files (${shared} shared), ${totalRows} rows; keys the upstream reader ignores: ${[...new Set(extras)].join(', ') || 'none'}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
