// LanceDB searches a table with its vector index: search(q).nprobes(N).limit(K), row ids
// (row addresses) of each query into OUT.npy (uint64, shape (queries, K)); prints the index
// LanceDB lists.
// Usage: node lancedb_search.mjs LANCEDB_DIR T.lance QUERIES.fvecs NPROBES K OUT.npy
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';

const [dir, table, qPath, N, K, outPath] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const q = readFvecs(qPath), k = Number(K);
const t = await (await lancedb.connect(path.dirname(table))).openTable(path.basename(table, '.lance'));
const hdr = `{'descr': '<u8', 'fortran_order': False, 'shape': (${q.n}, ${k}), }`;
const hlen = Math.ceil((10 + hdr.length + 1) / 64) * 64;
const out = Buffer.alloc(hlen + 8 * q.n * k);
out.write('\x93NUMPY', 0, 'latin1'); out[6] = 1; out[7] = 0; out.writeUInt16LE(hlen - 10, 8);
out.write(hdr.padEnd(hlen - 11, ' ') + '\n', 10, 'latin1');
for (let i = 0; i < q.n; i++) {
  const rows = await t.search(Array.from(q.data.subarray(i * q.dim, (i + 1) * q.dim)))
    .nprobes(Number(N)).limit(k).withRowId(true).select(['id']).toArray();
  for (let j = 0; j < k; j++)
    out.writeBigUInt64LE(j < rows.length ? BigInt(rows[j]._rowid) : 0xFFFFFFFFFFFFFFFFn, hlen + 8 * (i * k + j));
}
fs.writeFileSync(outPath, out);
const idx = await t.listIndices();
console.log(idx.map((x) => `${x.name}: ${x.indexType} on ${x.columns}`).join('; '));
