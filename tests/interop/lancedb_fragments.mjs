// A LanceDB table in several fragments, as tables grow (createTable, then add): the vectors of
// an .fvecs file split into FRAGMENTS parts. LanceDB then answers the queries by exact search
// (no index: a flat scan), and their _rowid values (row addresses, fragment id << 32 | offset)
// go to WORK/lancedb_exact.npy as a uint64 array of shape (queries, K).
// Usage: node lancedb_fragments.mjs WORK BASE.fvecs QUERIES.fvecs FRAGMENTS K
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';
import path from 'node:path';
import {readFvecs} from './fvecs.mjs';
import {searchIdsNpy} from './npy.mjs';

const [work, basePath, qPath, F, K] = process.argv.slice(2);
const base = readFvecs(basePath), q = readFvecs(qPath);
const part = (first, n) => {
  const child = arrow.makeData({type: new arrow.Float32(), length: n * base.dim,
                                data: base.data.subarray(first * base.dim, (first + n) * base.dim)});
  const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new arrow.Float32(), true));
  return new arrow.Table({vector: arrow.makeVector(arrow.makeData({type, length: n, child}))});
};
const db = await lancedb.connect(work);
const per = Math.ceil(base.n / Number(F));
const t = await db.createTable('v', part(0, Math.min(per, base.n)), {mode: 'overwrite'});
for (let at = per; at < base.n; at += per) await t.add(part(at, Math.min(per, base.n - at)));
const k = Number(K);
await searchIdsNpy(path.join(work, 'lancedb_exact.npy'), q, k, (v) => t.search(v).distanceType('l2'));
console.log(`LanceDB wrote ${base.n} rows in ${(await t.stats()).fragmentStats?.numFragments ?? '?'} fragments and searched ${q.n} queries exactly`);
