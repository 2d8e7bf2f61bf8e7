// LanceDB -> C: LanceDB writes two tables with values from values.mjs, each in two fragments
// (createTable + add), large enough that every column spans several pages:
//   a: seq u64, id u64, part u32, v8 fixed_size_list<float,8>    (1,100,000 + 300,000 rows)
//   b: seq u64, v128 fixed_size_list<float,128>                   (40,000 + 12,000 rows)
// Usage: node make_tables.mjs PARENT_DIR
//
// The data goes to LanceDB as many record batches (as streaming ingestion does): Lance's writer
// caches each column's incoming arrays and writes a page every ~8 MiB, so every column of the
// large fragments spans several pages. (One big batch would become one page per column.)
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';
import * as v from './values.mjs';

const fsl = (dim, n, first) => {
  const vals = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) for (let j = 0; j < dim; j++) vals[k * dim + j] = v.vec(first + k, j);
  const child = arrow.makeData({type: new arrow.Float32(), length: n * dim, data: vals});
  const type = new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
  return arrow.makeVector(arrow.makeData({type, length: n, child}));
};
const u64 = (n, first, f) => { const a = new BigUint64Array(n); for (let k = 0; k < n; k++) a[k] = f(first + k); return arrow.makeVector(a); };
const u32 = (n, first, f) => { const a = new Uint32Array(n); for (let k = 0; k < n; k++) a[k] = f(first + k); return arrow.makeVector(a); };
const batched = (make, first, n, per) => {
  let t = null;
  for (let at = 0; at < n; at += per) {
    const part = make(first + at, Math.min(per, n - at));
    t = t ? t.concat(part) : part;
  }
  return t;
};
const tableA = (first, n) => batched((f, k) => new arrow.Table({
  seq: u64(k, f, BigInt), id: u64(k, f, v.id), part: u32(k, f, v.part), v8: fsl(8, k, f)}), first, n, 65536);
const tableB = (first, n) => batched((f, k) => new arrow.Table({
  seq: u64(k, f, BigInt), v128: fsl(128, k, f)}), first, n, 4096);

const db = await lancedb.connect(process.argv[2]);
const a = await db.createTable('a', tableA(0, 1100000), {mode: 'overwrite'});
await a.add(tableA(1100000, 300000));
const b = await db.createTable('b', tableB(0, 40000), {mode: 'overwrite'});
await b.add(tableB(40000, 12000));
console.log(`a: ${await a.countRows()} rows, b: ${await b.countRows()} rows`);
