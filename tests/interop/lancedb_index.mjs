// LanceDB -> partifact search: LanceDB (0.37.1, or the one in LANCEDB_DIR) builds an IVF_PQ
// index of BITS-bit codes on vectors from an .fvecs file, and searches the queries itself (all
// partitions probed, no refine); its ids go to an .ivecs file, and the index directory's path
// to WORK/index_dir.txt, for partifact to open.
// Usage: node lancedb_index.mjs WORK BASE.fvecs QUERIES.fvecs PARTITIONS SUB_VECTORS K [BITS=8]
//        [LANCEDB_DIR=.]
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';

const [work, basePath, qPath, P, M, K, BITS = '8', DIR = '.'] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(DIR), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const base = readFvecs(basePath), q = readFvecs(qPath);
const child = arrow.makeData({type: new arrow.Float32(), length: base.n * base.dim, data: base.data});
const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new arrow.Float32(), true));
const vector = arrow.makeVector(arrow.makeData({type, length: base.n, child}));
const db = await lancedb.connect(work);
const t = await db.createTable('t', new arrow.Table({vector}), {mode: 'overwrite'});
await t.createIndex('vector', {config: lancedb.Index.ivfPq({
  numPartitions: Number(P), numSubVectors: Number(M), numBits: Number(BITS), distanceType: 'l2'})});
const out = Buffer.alloc(q.n * 4 * (Number(K) + 1));
let at = 0;
for (let i = 0; i < q.n; i++) {
  const rows = await t.search(Array.from(q.data.subarray(i * q.dim, (i + 1) * q.dim)))
    .nprobes(Number(P)).limit(Number(K)).withRowId(true).toArray();
  out.writeInt32LE(Number(K), at); at += 4;
  for (let j = 0; j < Number(K); j++) { out.writeInt32LE(j < rows.length ? Number(rows[j]._rowid) : -1, at); at += 4; }
}
fs.writeFileSync(path.join(work, 'lancedb.ivecs'), out);
const idxRoot = path.join(work, 't.lance', '_indices');
const dirs = fs.readdirSync(idxRoot);
if (dirs.length !== 1) throw new Error(`expected one index in ${idxRoot}, found ${dirs.length}`);
fs.writeFileSync(path.join(work, 'index_dir.txt'), path.join(idxRoot, dirs[0]));
console.log(`LanceDB built ${path.join(idxRoot, dirs[0])} and searched ${q.n} queries`);
