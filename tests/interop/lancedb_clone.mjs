// Tables whose files lie elsewhere (LanceDB 0.39.0): a shallow clone of WORK/t.lance as
// WORK/c.lance (its manifest names t.lance as a base path for the data and deletion files),
// then a branch "b" of the clone, to which rows are appended (the branch's manifest lives
// under c.lance/tree/b). LanceDB's exact search of the clone and of the branch go to
// WORK/exact_clone.npy and WORK/exact_branch.npy (uint64 row addresses, (queries, K)).
// Usage: node lancedb_clone.mjs LANCEDB_DIR WORK QUERIES.fvecs K
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';
import {searchIdsNpy} from './npy.mjs';

const [dir, work, qPath, K] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const q = readFvecs(qPath), k = Number(K);
const db = await lancedb.connect(work);
const c = await db.cloneTable('c', path.resolve(work, 't.lance'), {isShallow: true});
const exact = (t, file) => searchIdsNpy(path.join(work, file), q, k,
  (v) => t.search(v).distanceType('l2').bypassVectorIndex().select(['id']));
await exact(c, 'exact_clone.npy');
const b = await (await c.branches()).create('b');
const some = await c.query().limit(500).toArrow();
await b.add(some);
await exact(b, 'exact_branch.npy');
console.log(`clone: version ${await c.version()}, ${await c.countRows()} rows; branch b: ${await b.countRows()} rows`);
