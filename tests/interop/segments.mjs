// LanceDB's view of an index partifact committed as several segments (issue 16): one index of
// that name with SEGMENTS segments covering every live row, and its search returning, for every
// query, exactly the ids partifact search gives over the same segments, in the same order.
// Usage: node segments.mjs LANCEDB_DIR TABLE.lance NAME SEGMENTS QUERIES.fvecs NPROBES K PA.npy
//          ROWIDS.txt
// PA.npy: partifact's ids (uint64, queries x K); ROWIDS.txt gets the table's live row
// addresses, ascending, one a line (for the caller to compare with the segments' rows).
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';

const [dir, table, name, S, qPath, NP, K, paNpy, rowidsOut] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const version = JSON.parse(fs.readFileSync(path.join(path.resolve(dir), 'node_modules', '@lancedb',
                                                     'lancedb', 'package.json'))).version;
const fail = (msg) => { console.error(`LanceDB ${version}: ${msg}`); process.exit(1); };
const tb = await (await lancedb.connect(path.dirname(table))).openTable(path.basename(table, '.lance'));
const live = await tb.countRows();
const idx = await tb.listIndices();
if (idx.length !== 1 || idx[0].name !== name || idx[0].indexType !== 'IvfPq' ||
    idx[0].numSegments !== Number(S) || idx[0].numIndexedRows !== live)
  fail(`listIndices() gave ${JSON.stringify(idx)}, expected one IvfPq index ${name} of ${S} ` +
       `segments over ${live} rows`);
const st = await tb.indexStats(name);
if (st.numIndexedRows !== live || st.numUnindexedRows !== 0 || st.numIndices !== Number(S))
  fail(`indexStats() gave ${JSON.stringify(st)}, expected ${S} indices over ${live} rows`);
const addrs = (await tb.query().select(['id']).withRowId(true).toArray()).map((r) => BigInt(r._rowid));
addrs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
fs.writeFileSync(rowidsOut, addrs.join('\n') + '\n');
const q = readFvecs(qPath), k = Number(K);
const buf = fs.readFileSync(paNpy), hlen = buf.readUInt16LE(8) + 10;
let same = 0;
for (let i = 0; i < q.n; i++) {
  const rows = await tb.search(Array.from(q.data.subarray(i * q.dim, (i + 1) * q.dim)))
    .nprobes(Number(NP)).limit(k).withRowId(true).toArray();
  const got = rows.map((r) => BigInt(r._rowid)).join(',');
  const want = [];
  for (let j = 0; j < k; j++) want.push(buf.readBigUInt64LE(hlen + 8 * (i * k + j)));
  if (got === want.join(',')) same++;
  else if (i - same < 3) console.error(`query ${i}: LanceDB ${got} partifact ${want.join(',')}`);
}
if (same !== q.n) fail(`${same} of ${q.n} queries gave partifact's ids in partifact's order`);
console.log(`LanceDB ${version}: index ${name}, ${S} segments, ${live} live rows indexed; ` +
            `${same}/${q.n} queries identical to partifact search over the segments`);
