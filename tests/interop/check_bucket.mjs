// LanceDB reads an artifact bucket file (wrapped as a dataset by partifact) and must see exactly
// the rows the manifest says are there: the file's columns are _rowid and __pq_code (the
// upstream layout), the ranges of the bucket's partitions cover the file once, and the row ids
// and codes in each range equal what partifact's range reader returned for that partition
// (expected file from wrap_bucket).
// Usage: node check_bucket.mjs ARTIFACT BUCKET DATASET_PARENT TABLE EXPECTED
import * as fs from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { columnValues } from './values.mjs';

const [artifact, bucketArg, parent, name, expectedPath] = process.argv.slice(2);
const bucket = Number(bucketArg);
const man = JSON.parse(fs.readFileSync(`${artifact}/manifest.json`, 'utf8'));
const M = man.partifact.code_bytes;
const bucketPath = `partitions/bucket-${String(bucket).padStart(5, '0')}.lance`;
let bad = 0;
const fail = (m) => { if (bad++ < 10) console.error(m); };
const t = await (await lancedb.connect(parent)).openTable(name);
const nrows = await t.countRows();
const file = man.partifact.files.find((f) => f.path === bucketPath);
if (nrows !== file.rows) fail(`LanceDB counts ${nrows} rows, the manifest says ${file.rows}`);
// all rows in file order (one fragment)
const rowId = new BigUint64Array(nrows), code = new Uint8Array(nrows * M);
const cols = (await t.schema()).fields.map((f) => f.name).join(',');
// wrap_bucket renamed _rowid (reserved in a dataset) to rowid_ in its copy's schema
if (cols !== 'rowid_,__pq_code') fail(`LanceDB sees columns ${cols}, expected rowid_,__pq_code`);
let at = 0;
for (const batch of (await t.query().toArrow()).batches) {
  rowId.set(columnValues(batch, 'rowid_'), at);
  code.set(columnValues(batch, '__pq_code', M), at * M);
  at += batch.numRows;
}
if (at !== nrows) fail(`read ${at} rows of ${nrows}`);
// the manifest's ranges against LanceDB's rows
const covered = new Uint8Array(nrows);
const exp = fs.readFileSync(expectedPath);
let off = 0, partitions = 0, checked = 0;
while (off < exp.length) {
  const p = exp.readUInt32LE(off), n = Number(exp.readBigUInt64LE(off + 4));
  off += 12;
  const ids = new BigUint64Array(exp.buffer.slice(exp.byteOffset + off, exp.byteOffset + off + 8 * n));
  off += 8 * n;
  const codes = exp.subarray(off, off + n * M);
  off += n * M;
  const entry = man.partitions[p];
  if (n && entry.path !== bucketPath) fail(`partition ${p} is in file ${entry.path}`);
  let k = 0;
  for (const { offset: o, num_rows: len } of entry.ranges) {
    for (let r = o; r < o + len; r++, k++) {
      if (covered[r]++) fail(`row ${r} is in two ranges`);
      if (rowId[r] !== ids[k]) fail(`partition ${p} row ${k}: row_id ${rowId[r]} vs ${ids[k]}`);
      for (let j = 0; j < M; j++) if (code[r * M + j] !== codes[k * M + j]) { fail(`row ${r}: code byte ${j}`); break; }
      checked++;
    }
  }
  if (k !== n) fail(`partition ${p}: ranges hold ${k} rows, partifact read ${n}`);
  partitions++;
}
const uncovered = covered.reduce((s, x) => s + (x ? 0 : 1), 0);
if (uncovered) fail(`${uncovered} rows of the file are in no range`);
console.log(`LanceDB read bucket ${bucket}: ${nrows} rows, ${partitions} partitions, ${checked} rows checked against the manifest, ${bad} problems`);
console.log(bad ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(bad ? 1 : 0);
