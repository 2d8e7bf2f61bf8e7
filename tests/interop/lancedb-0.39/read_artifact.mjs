// LanceDB 0.39.0 opens every bucket file and metadata.lance of an artifact (file_as_table.mjs:
// the files' own bytes, in tables this test makes) and must read exactly the rows and the model
// the manifest describes: each partition's ranges, read by LanceDB, are the row ids and codes
// partifact's range reader returns for that partition (ROWS.bin, tests/interop/artifact_tool.c
// rows), in the same order, every partition; the bucket files hold no row outside a range; and
// metadata.lance's _ivf_centroids and _pq_codebook (lance-cuvs' columns) are, bit for bit, the
// model's centroids and codebook (MODEL.bin, artifact_tool model) in lance-cuvs' order
// (cuda.rs pq_codebook_from_host: sub-space, then centroid).
// Usage: node read_artifact.mjs ARTIFACT WORK ROWS.bin MODEL.bin
import * as fs from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { readLanceSchema } from '../lance_schema.mjs';
import { columnValues } from '../values.mjs';
import { fileAsTable } from './file_as_table.mjs';
import { ROWID_STAND_IN, bucketBatch, metadataBatch, readModel, readRows } from './upstream_layout.mjs';

const [artifact, work, rowsPath, modelPath] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, msg) => { if (ok) passed++; else if (failed++ < 10) console.log(`FAIL: ${msg}`); return ok; };
const man = JSON.parse(fs.readFileSync(`${artifact}/manifest.json`, 'utf8'));
fs.rmSync(`${work}/tables`, { recursive: true, force: true });
const db = await lancedb.connect(`${work}/tables`);

// ---- partifact's reading
const model = readModel(modelPath);
const { dim, P, M, bits } = model;
const mine = readRows(rowsPath, M);
check(mine.size === man.num_partitions && P === man.num_partitions,
      `partifact read ${mine.size} partitions, the model has ${P}, the manifest ${man.num_partitions}`);

// ---- every bucket file through LanceDB
const paths = [...new Set(man.partitions.map((e) => e.path).filter((x) => x !== null))].sort();
const files = new Map();
for (const [k, f] of paths.entries()) {
  const rows = readLanceSchema(`${artifact}/${f}`).numRows;
  const t = await fileAsTable(db, `${work}/tables`, `b${k}`, bucketBatch(M, new BigUint64Array(1), new Uint8Array(M)), `${artifact}/${f}`, rows);
  const n = await t.countRows();
  check(n === rows, `${f}: LanceDB counts ${n} rows, its footer says ${rows}`);
  const ids = new BigUint64Array(n), codes = new Uint8Array(n * M);
  let at = 0;
  for (const batch of (await t.query().toArrow()).batches) {
    ids.set(columnValues(batch, ROWID_STAND_IN), at);
    codes.set(columnValues(batch, '__pq_code', M), at * M);
    at += batch.numRows;
  }
  check(at === n, `${f}: LanceDB read ${at} of ${n} rows`);
  files.set(f, { ids, codes, covered: new Uint8Array(n) });
}
let rowsChecked = 0, partsChecked = 0;
man.partitions.forEach((e, p) => {
  const got = mine.get(p);
  if (!check(got, `partition ${p}: partifact returned nothing`)) return;
  if (!check(got.ids.length === e.num_rows, `partition ${p}: partifact read ${got.ids.length} rows, the manifest says ${e.num_rows}`)) return;
  if (e.num_rows === 0) { partsChecked++; return; }
  const f = files.get(e.path);
  let k = 0, bad = 0;
  for (const r of e.ranges) {
    for (let i = r.offset; i < r.offset + r.num_rows; i++, k++) {
      if (f.covered[i]++) bad += !check(false, `${e.path} row ${i} is in two ranges`);
      if (f.ids[i] !== got.ids[k]) bad += !check(false, `partition ${p} row ${k} (${e.path} row ${i}): LanceDB reads row id ${f.ids[i]}, partifact ${got.ids[k]}`);
      for (let j = 0; j < M; j++) {
        if (f.codes[i * M + j] !== got.codes[k * M + j]) { bad += !check(false, `partition ${p} row ${k} (${e.path} row ${i}): code byte ${j} LanceDB ${f.codes[i * M + j]}, partifact ${got.codes[k * M + j]}`); break; }
      }
      rowsChecked++;
    }
  }
  check(k === got.ids.length, `partition ${p}: the ranges hold ${k} rows, partifact read ${got.ids.length}`);
  if (!bad) partsChecked++;
});
for (const [f, { covered }] of files) {
  const left = covered.reduce((s, x) => s + (x ? 0 : 1), 0);
  check(left === 0, `${f}: ${left} rows LanceDB reads are in no range`);
}

// ---- metadata.lance through LanceDB: the model
const mdFile = `${artifact}/${man.metadata_file ?? 'metadata.lance'}`;
const mdt = await fileAsTable(db, `${work}/tables`, 'metadata', metadataBatch({ dim, P, M, bits }, 1), mdFile, readLanceSchema(mdFile).numRows);
const mdr = await mdt.query().toArrow();
check(mdr.numRows === 1, `metadata.lance: LanceDB reads ${mdr.numRows} rows, lance-cuvs writes one`);
const flat = (col) => {
  const v = mdr.getChild(col).get(0);   // the list of one row: a vector of fixed-size lists
  return { n: v.length, values: Float32Array.from(v.data[0].children[0].values.subarray(v.data[0].children[0].offset + v.data[0].offset * v.type.listSize, v.data[0].children[0].offset + (v.data[0].offset + v.length) * v.type.listSize)) };
};
const cent = flat('_ivf_centroids'), book = flat('_pq_codebook');
const wc = model.centroids, wb = model.codebook;
const sameBits = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
check(cent.n === P && sameBits(cent.values, wc), `metadata.lance _ivf_centroids: ${cent.n} centroids of ${dim} read by LanceDB${cent.n === P ? ', values differ from the model' : `, the model has ${P}`}`);
check(book.n === M << bits && sameBits(book.values, wb), `metadata.lance _pq_codebook: ${book.n} entries read by LanceDB${book.n === M << bits ? ', values differ from the model' : `, the model has ${M << bits}`}`);
console.log(`LanceDB 0.39.0 read ${files.size} bucket files and metadata.lance of ${artifact}: ${partsChecked} of ${man.partitions.length} partitions (${rowsChecked} rows) equal to partifact's reading; centroids ${cent.n}x${dim}, codebook ${book.n}x${dim / M}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
