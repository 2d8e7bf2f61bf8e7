// A producer of partition artifacts other than partifact: it follows the upstream builder's rules
// (lancedb/lance@5a6feec787421e0565f5506c0c359737d9c6861d
// rust/lance/src/index/vector/partition_artifact.rs, PartitionArtifactBuilder) and lance-cuvs'
// metadata.lance (lance-format/lance-cuvs@364d2a119e0b14735e1bf03c2194625d8e3783c6
// backends/cuvs_26_02/src/backend.rs, build_metadata_batch / write_partition_artifact_metadata),
// and writes every Lance file through LanceDB 0.39.0 (Lance 2.2 by default):
//   - rows arrive in row-id order (an encoder's scan), each into the buffer of bucket
//     part % num_buckets (num_buckets = min(num_partitions, 256) unless --buckets);
//   - a buffer that reaches --buffer-rows (upstream: 32 Ki, or
//     LANCE_PARTITION_ARTIFACT_BUCKET_BUFFER_ROWS) is flushed: sorted by part id (when a bucket
//     holds one partition, as is), appended to the bucket's file, one range per partition
//     present; finish flushes every bucket in bucket order;
//   - buckets that got no rows have no file; an empty partition is {"path":null,"num_rows":0,
//     "ranges":[]}; metadata.lance is written, then manifest.json, last, as serde_json writes
//     the manifest struct (compact, field order).
// A LanceDB table refuses a column named _rowid (a reserved name), so each bucket is written as a
// table whose first column is _r0wid, and the name, in the schema of the data file LanceDB wrote,
// is then set to _rowid (same length: nothing else in the file changes).
// The rows and the model are partifact's (tests/interop/artifact_tool.c rows / model dumps).
// Usage: node foreign_artifact.mjs ROWS.bin MODEL.bin OUT_ARTIFACT WORK [--buckets B]
//          [--buffer-rows N] [--total-loss X]
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';
import { ROWID_STAND_IN, bucketBatch, metadataBatch, readModel, readRows } from './upstream_layout.mjs';

const argv = process.argv.slice(2);
const [rowsPath, modelPath, out, work] = argv;
const opt = (name, dflt) => { const k = argv.indexOf(`--${name}`); return k < 0 ? dflt : argv[k + 1]; };

// ---- the model and the rows (artifact_tool dumps), rows in row-id order (an encoder's scan)
const model = readModel(modelPath);
const { P, M } = model;
const rows = [];   // [row id, part, code bytes]
for (const [p, { ids, codes }] of readRows(rowsPath, M))
  ids.forEach((id, k) => rows.push([id, p, codes.subarray(k * M, (k + 1) * M)]));
rows.sort((x, y) => (x[0] < y[0] ? -1 : 1));

// ---- the builder
const numBuckets = Number(opt('buckets', Math.min(P, 256)));
const bufferRows = Number(opt('buffer-rows', 32 * 1024));
const bucketPath = (b) => `partitions/bucket-${String(b).padStart(5, '0')}.lance`;
const partitions = Array.from({ length: P }, () => ({ path: null, num_rows: 0, ranges: [] }));
const buffers = Array.from({ length: numBuckets }, () => []);
const written = Array.from({ length: numBuckets }, () => []);   // flushed batches, in order
const fileRows = new Array(numBuckets).fill(0);
function flush(b) {
  const buf = buffers[b];
  if (!buf.length) return;
  buffers[b] = [];
  // sort_unstable_by_key(part id): any order within a partition is the builder's; this is one
  const sorted = numBuckets === P ? buf : [...buf].sort((x, y) => x[1] - y[1]);
  for (let s = 0; s < sorted.length;) {
    let e = s + 1;
    while (e < sorted.length && sorted[e][1] === sorted[s][1]) e++;
    const part = partitions[sorted[s][1]];
    if (part.path !== null && part.path !== bucketPath(b)) throw new Error('partition split across buckets');
    part.path = bucketPath(b);
    part.num_rows += e - s;
    part.ranges.push({ offset: fileRows[b] + s, num_rows: e - s });
    s = e;
  }
  written[b].push(sorted);
  fileRows[b] += sorted.length;
}
for (const r of rows) {
  const b = r[1] % numBuckets;
  buffers[b].push(r);
  if (buffers[b].length >= bufferRows) flush(b);
}
for (let b = 0; b < numBuckets; b++) flush(b);

// ---- the files, through LanceDB
fs.mkdirSync(work, { recursive: true });
const db = await lancedb.connect(`${work}/tables`);
// the one data file of a new table of batches, copied to dest; the column name from is renamed
// to `to` in its schema (global buffer 0) when given
async function writeFile(name, batches, dest, rename) {
  await db.createTable(name, new arrow.Table(batches), { mode: 'create' });
  const dir = `${work}/tables/${name}.lance/data`;
  const made = fs.readdirSync(dir);
  if (made.length !== 1) throw new Error(`${name}: LanceDB wrote ${made.length} data files, expected 1`);
  const bytes = fs.readFileSync(path.join(dir, made[0]));
  if (rename) {
    const gbo = Number(bytes.readBigUInt64LE(bytes.length - 24));
    const pos = Number(bytes.readBigUInt64LE(gbo)), size = Number(bytes.readBigUInt64LE(gbo + 8));
    const desc = bytes.subarray(pos, pos + size);
    const at = desc.indexOf(rename[0]);
    if (at < 0 || desc.indexOf(rename[0], at + 1) >= 0) throw new Error(`${name}: ${rename[0]} not once in the schema`);
    desc.write(rename[1], at, 'latin1');
  }
  fs.writeFileSync(dest, bytes, { flag: 'wx' });
}
fs.mkdirSync(out);
fs.mkdirSync(`${out}/partitions`);
for (let b = 0; b < numBuckets; b++) {
  if (!written[b].length) continue;   // ensure_final_writer: no rows, no file
  const batches = written[b].map((flushed) => {
    const n = flushed.length, ids = new BigUint64Array(n), codes = new Uint8Array(n * M);
    flushed.forEach(([id, , code], k) => { ids[k] = id; codes.set(code, k * M); });
    return bucketBatch(M, ids, codes);
  });
  await writeFile(`bucket-${b}`, batches, `${out}/${bucketPath(b)}`, [ROWID_STAND_IN, '_rowid']);
}
// metadata.lance: one row, lance-cuvs' columns and schema metadata
await writeFile('metadata', [metadataBatch(model)], `${out}/metadata.lance`);
// manifest.json last, as serde_json::to_vec writes PartitionArtifactManifest
const loss = opt('total-loss', null);
const manifest = `{"version":1,"num_partitions":${P},"metadata_file":"metadata.lance","total_loss":${loss ?? 'null'},"partitions":[${
  partitions.map((p) => `{"path":${JSON.stringify(p.path)},"num_rows":${p.num_rows},"ranges":[${
    p.ranges.map((r) => `{"offset":${r.offset},"num_rows":${r.num_rows}}`).join(',')}]}`).join(',')}]}`;
fs.writeFileSync(`${out}/manifest.json`, manifest, { flag: 'wx' });
const files = fileRows.filter((n) => n > 0).length;
console.log(`foreign artifact ${out}: ${rows.length} rows, ${P} partitions (${partitions.filter((p) => !p.num_rows).length} empty), ${numBuckets} buckets, ${files} files, ${partitions.reduce((s, p) => s + p.ranges.length, 0)} ranges (buffers of ${bufferRows} rows)`);
