// LanceDB searches a table with its vector index: search(q).nprobes(N).limit(K), row ids
// (row addresses) of each query into OUT.npy (uint64, shape (queries, K)); prints the index
// LanceDB lists.
// Usage: node lancedb_search.mjs LANCEDB_DIR T.lance QUERIES.fvecs NPROBES K OUT.npy
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';
import {searchIdsNpy} from './npy.mjs';

const [dir, table, qPath, N, K, outPath] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const q = readFvecs(qPath), k = Number(K);
const t = await (await lancedb.connect(path.dirname(table))).openTable(path.basename(table, '.lance'));
await searchIdsNpy(outPath, q, k, (v) => t.search(v).nprobes(Number(N)).select(['id']));
const idx = await t.listIndices();
console.log(idx.map((x) => `${x.name}: ${x.indexType} on ${x.columns}`).join('; '));
