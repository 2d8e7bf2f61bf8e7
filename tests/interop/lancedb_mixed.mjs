// A LanceDB table as users make them: the vectors of an .fvecs file beside a double id (what
// plain JS objects give), a string, an int64, a timestamp and a struct column, in 3 fragments
// (createTable, then add), in Lance file format STORAGE (2.1, 2.2, ...), vectors stored as
// VTYPE (f32, f16, f64; the values are exact in each). Then a delete of a few rows (a deletion
// file of the arrow-array kind) and of many rows (the bitmap kind), and an update (its rows
// are deleted where they were and written again as a new fragment). VTYPE f32huge: float
// vectors, those of the rows the deletes remove holding 1e20 (partifact refuses such a row
// wherever it reads one); the search at the old version is then not made.
// LanceDB's own exact search (bypassVectorIndex, withRowId) answers the queries, at the latest
// version into WORK/exact.npy (the queries as both sides search them: WORK/queries.fvecs)
// and at the version before the deletes into WORK/exact_old.npy (uint64 row addresses, shape
// (queries, K)); WORK/versions.txt holds "OLD LATEST"; the
// deleted rows' addresses at the old version go to WORK/deleted.txt (one a line).
// Usage: node lancedb_mixed.mjs LANCEDB_DIR WORK BASE.fvecs QUERIES.fvecs STORAGE VTYPE K
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';
import {searchIdsNpy} from './npy.mjs';

const [dir, work, basePath, qPath, storage, vtype, K] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const base = readFvecs(basePath), q = readFvecs(qPath), k = Number(K);

const elem = {f32: [arrow.Float32, Float32Array], f32huge: [arrow.Float32, Float32Array], f64: [arrow.Float64, Float64Array],
              f16: [arrow.Float16, Uint16Array]}[vtype];
const toHalf = (x) => { // exact for the small integers and halves gen-vectors does not make
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = u & 0x7fffff;
  if (e <= 0) return s; if (e >= 31) return s | 0x7c00;
  return s | (e << 10) | Math.round(m / 8192);
};
const fromHalf = (h) => {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? s * Infinity : s * (1 + m / 1024) * 2 ** (e - 15);
};
// LanceDB searches a halffloat column with the query rounded to halffloat: so do the queries
// both sides get (WORK/queries.fvecs, what partifact reads)
if (vtype === 'f16') for (let i = 0; i < q.data.length; i++) q.data[i] = fromHalf(toHalf(q.data[i]));
{
  const b = Buffer.alloc(q.n * 4 * (q.dim + 1));
  for (let i = 0; i < q.n; i++) {
    b.writeInt32LE(q.dim, 4 * i * (q.dim + 1));
    for (let j = 0; j < q.dim; j++) b.writeFloatLE(q.data[i * q.dim + j], 4 * (i * (q.dim + 1) + 1 + j));
  }
  fs.writeFileSync(path.join(work, 'queries.fvecs'), b);
}
const vectors = (first, n) => {
  const src = base.data.subarray(first * base.dim, (first + n) * base.dim);
  const data = vtype === 'f16' ? Uint16Array.from(src, toHalf) : new elem[1](src);
  if (vtype === 'f32huge')
    for (let i = 0; i < n; i++)
      if ((first + i) % 97 === 5 || (first + i >= 1000 && first + i < 7000)) data[i * base.dim] = 1e20;
  const child = arrow.makeData({type: new elem[0](), length: n * base.dim, data});
  const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new elem[0](), true));
  return arrow.makeVector(arrow.makeData({type, length: n, child}));
};
const part = (first, n) => {
  const ids = new Float64Array(n), n64 = new BigInt64Array(n), ts = new BigInt64Array(n);
  const names = [], a = new Int32Array(n), b = [];
  for (let i = 0; i < n; i++) {
    ids[i] = first + i; n64[i] = BigInt(first + i) * -3n; ts[i] = 1700000000000n + BigInt(first + i);
    names.push(`row ${first + i}`); a[i] = first + i; b.push(`s${(first + i) % 13}`);
  }
  const meta = arrow.makeVector(arrow.makeData({
    type: new arrow.Struct([new arrow.Field('a', new arrow.Int32()), new arrow.Field('b', new arrow.Utf8())]),
    length: n, children: [arrow.makeVector(a).data[0], arrow.vectorFromArray(b, new arrow.Utf8()).data[0]]}));
  return new arrow.Table({id: arrow.makeVector(ids), name: arrow.vectorFromArray(names, new arrow.Utf8()),
    n64: arrow.makeVector(n64),
    ts: arrow.vectorFromArray(Array.from(ts, (x) => Number(x)), new arrow.TimestampMillisecond()),
    meta, vector: vectors(first, n)});
};
const db = await lancedb.connect(work);
const per = Math.ceil(base.n / 3);
const t = await db.createTable('t', part(0, per),
  {mode: 'overwrite', storageOptions: {new_table_data_storage_version: storage}});
for (let at = per; at < base.n; at += per) await t.add(part(at, Math.min(per, base.n - at)));
const old = await t.version();
// the deleted rows' addresses, as the table had them before the deletes
const dead = await t.query().where('id % 97 = 5 OR (id >= 1000 AND id < 7000) OR id % 11 = 4')
  .withRowId(true).select(['id']).toArray();
fs.writeFileSync(path.join(work, 'deleted.txt'), dead.map((r) => `${r._rowid}\n`).join(''));
await t.delete('id % 97 = 5');                    // a few rows per fragment: the arrow kind
await t.delete('id >= 1000 AND id < 7000');       // many rows of one fragment: the bitmap kind
await t.update({values: {name: 'updated'}, where: 'id % 11 = 4'});
const latest = await t.version();

const exact = (file) => searchIdsNpy(path.join(work, file), q, k,
  (v) => t.search(v).distanceType('l2').bypassVectorIndex().select(['id']));
await exact('exact.npy');
if (vtype !== 'f32huge') {
  await t.checkout(old);
  await exact('exact_old.npy');
}
fs.writeFileSync(path.join(work, 'versions.txt'), `${old} ${latest}\n`);
console.log(`LanceDB (${storage}, ${vtype}): ${base.n} rows, ${dead.length} deleted or moved, ` +
            `versions ${old} and ${latest}`);
