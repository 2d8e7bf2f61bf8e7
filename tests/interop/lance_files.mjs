// Tables in every Lance file format LanceDB writes, for read_lance_files.c: WORK/t20.lance,
// t21.lance, t22.lance (dataStorageVersion 2.0 / 2.1 / 2.2) and tdefault.lance (LanceDB's
// default), each in three fragments (createTable, then two adds) of ROWS rows in all.
// Columns (row i of the table; formulas in values.mjs / values.h):
//   seq uint64 = i; id uint64 = id(i); u32 uint32 = part(i); runs uint64 = floor(i / 8)
//   (run-length encoded); k7 uint32 = 7 (a constant page in 2.2); zid, lid uint64 = 1000 i with
//   zstd / lz4 compression asked for in the field metadata;
//   v8, v128, v768: fixed_size_list<float32> vec(i, j); u8: fixed_size_list<uint8,32> code(i, j);
//   f16: fixed_size_list<float16,16> raw bits f16bits(i, j); f64: fixed_size_list<float64,16>
//   f64val(i, j); nv8, nv128: nullable fixed_size_list<float32> vec(i, j), null when i % 5 == 3;
//   nrun: nullable fixed_size_list<float32,8> vec(i, j), null in runs: when (i / 50) % 3 == 0;
//   nall: nullable fixed_size_list<float32,8>, null in the whole first fragment and when
//   i % 3 == 0; and columns partifact does not read: s string, dbl double, i64 int64,
//   ts timestamp, st struct{a double, b string}.
// Usage: node lance_files.mjs LANCEDB_DIR WORK ROWS
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import * as V from './values.mjs';

const [dir, work, rowsArg] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const ROWS = Number(rowsArg);
const f16bits = (i, j) => 0x3c00 + ((i * 3 + j) % 2048);
const f64val = (i, j) => i * 0.25 + j / 8 - 100;

const fsl = (child, dim, n, data, valid) => V.fixedSizeList(arrow, child, dim, n, data, valid);

function part(first, n, fragment) {
  const cols = {};
  cols.seq = arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(first + k)));
  cols.id = arrow.makeVector(new BigUint64Array(n).map((_, k) => V.id(first + k)));
  cols.u32 = arrow.makeVector(new Uint32Array(n).map((_, k) => V.part(first + k)));
  cols.runs = arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(Math.floor((first + k) / 8))));
  cols.k7 = arrow.makeVector(new Uint32Array(n).fill(7));
  cols.zid = arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(first + k) * 1000n));
  cols.lid = arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(first + k) * 1000n));
  const floats = (dim) => {
    const a = new Float32Array(n * dim);
    for (let k = 0; k < n; k++) for (let j = 0; j < dim; j++) a[k * dim + j] = V.vec(first + k, j);
    return a;
  };
  for (const d of [8, 128, 768]) cols['v' + d] = fsl(new arrow.Float32(), d, n, floats(d));
  const u8 = new Uint8Array(n * 32);
  for (let k = 0; k < n; k++) for (let j = 0; j < 32; j++) u8[k * 32 + j] = V.code(first + k, j);
  cols.u8 = fsl(new arrow.Uint8(), 32, n, u8);
  const h = new Uint16Array(n * 16), g = new Float64Array(n * 16);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < 16; j++) h[k * 16 + j] = f16bits(first + k, j), g[k * 16 + j] = f64val(first + k, j);
  cols.f16 = fsl(new arrow.Float16(), 16, n, h);
  cols.f64 = fsl(new arrow.Float64(), 16, n, g);
  cols.nv8 = fsl(new arrow.Float32(), 8, n, floats(8), (k) => (first + k) % 5 !== 3);
  cols.nv128 = fsl(new arrow.Float32(), 128, n, floats(128), (k) => (first + k) % 5 !== 3);
  cols.nrun = fsl(new arrow.Float32(), 8, n, floats(8), (k) => Math.floor((first + k) / 50) % 3 !== 0);
  cols.nall = fsl(new arrow.Float32(), 8, n, floats(8), (k) => fragment > 0 && (first + k) % 3 !== 0);
  cols.s = arrow.vectorFromArray(Array.from({length: n}, (_, k) => 'row-' + (first + k)), new arrow.Utf8());
  cols.dbl = arrow.makeVector(new Float64Array(n).map((_, k) => (first + k) / 3));
  cols.i64 = arrow.makeVector(new BigInt64Array(n).map((_, k) => BigInt(first + k) * -3n));
  cols.ts = arrow.vectorFromArray(Array.from({length: n}, (_, k) => new Date(1.7e12 + (first + k) * 1000)),
                                  new arrow.TimestampMillisecond());
  cols.st = arrow.vectorFromArray(Array.from({length: n}, (_, k) => ({a: (first + k) / 7, b: 'x' + k})));
  // zid and lid ask for zstd and lz4 compression (field metadata, as a LanceDB user would)
  const t = new arrow.Table(cols);
  const ask = {zid: 'zstd', lid: 'lz4'};
  const schema = new arrow.Schema(t.schema.fields.map((f) => ask[f.name]
    ? new arrow.Field(f.name, f.type, f.nullable, new Map([['lance-encoding:compression', ask[f.name]]]))
    : f));
  return new arrow.Table(t.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
}

const db = await lancedb.connect(work);
const sizes = [Math.floor(ROWS / 10), Math.floor(ROWS * 3 / 10)];
sizes.push(ROWS - sizes[0] - sizes[1]);
for (const ver of ['2.0', '2.1', '2.2', 'default']) {
  const opts = {mode: 'overwrite'};
  if (ver !== 'default') opts.storageOptions = {new_table_data_storage_version: ver};
  let first = 0;
  const t = await db.createTable('t' + ver.replace('.', ''), part(0, sizes[0], 0), opts);
  first = sizes[0];
  for (let f = 1; f < 3; f++) { await t.add(part(first, sizes[f], f)); first += sizes[f]; }
  console.log(`t${ver.replace('.', '')}: ${first} rows, version ${await t.version()}`);
}
