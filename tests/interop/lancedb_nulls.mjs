// A LanceDB table whose vector column is nullable and holds nulls: the vectors of an .fvecs
// file, every row whose ordinal is 3 mod 10 null, in 2 fragments, Lance file format STORAGE.
// The null rows' addresses go to WORK/nulls.txt; LanceDB's exact search of the queries to
// WORK/exact_nulls.npy (uint64 row addresses, (queries, K)).
// Usage: node lancedb_nulls.mjs LANCEDB_DIR WORK BASE.fvecs QUERIES.fvecs STORAGE K
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';
import {searchIdsNpy} from './npy.mjs';

const [dir, work, basePath, qPath, storage, K] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const base = readFvecs(basePath), q = readFvecs(qPath), k = Number(K);
const part = (first, n) => {
  const child = arrow.makeData({type: new arrow.Float32(), length: n * base.dim,
                                data: base.data.subarray(first * base.dim, (first + n) * base.dim)});
  const valid = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++)
    if ((first + i) % 10 !== 3) valid[i >> 3] |= 1 << (i & 7); else nulls++;
  const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new arrow.Float32(), true));
  const vec = arrow.makeVector(arrow.makeData({type, length: n, child, nullBitmap: valid, nullCount: nulls}));
  return new arrow.Table({id: arrow.makeVector(new Float64Array(n).map((_, i) => first + i)), vector: vec});
};
const db = await lancedb.connect(work);
const half = Math.ceil(base.n / 2);
const t = await db.createTable('n', part(0, half),
  {mode: 'overwrite', storageOptions: {new_table_data_storage_version: storage}});
await t.add(part(half, base.n - half));
const nulls = await t.query().where('vector IS NULL').withRowId(true).select(['id']).toArray();
fs.writeFileSync(path.join(work, 'nulls.txt'), nulls.map((r) => `${r._rowid}\n`).join(''));
await searchIdsNpy(path.join(work, 'exact_nulls.npy'), q, k,
  (v) => t.search(v).distanceType('l2').bypassVectorIndex().select(['id']));
console.log(`LanceDB (${storage}): ${base.n} rows, ${nulls.length} null vectors`);
