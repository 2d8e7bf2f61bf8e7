// LanceDB side of the backend benchmark: load the same vectors into a table (not timed), then
// time the IVF_PQ index build. Usage: node lancedb_ivfpq.mjs BASE.fvecs NLIST M WORKDIR
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url + '/../../tests/interop/');
const lancedb = await import(require.resolve('@lancedb/lancedb'));
const arrow = await import(require.resolve('apache-arrow'));

const [path, nlist, m, work] = process.argv.slice(2);
const buf = fs.readFileSync(path);
const d = buf.readInt32LE(0), n = buf.length / (4 + 4 * d);
const vals = new Float32Array(n * d);
for (let i = 0; i < n; i++)
  vals.set(new Float32Array(buf.buffer, buf.byteOffset + i * (4 + 4 * d) + 4, d), i * d);
const child = arrow.makeData({type: new arrow.Float32(), length: n * d, data: vals});
const type = new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), true));
const vec = arrow.makeVector(arrow.makeData({type, length: n, child}));
fs.rmSync(work, {recursive: true, force: true});
const db = await lancedb.connect(work);
const t = await db.createTable('bench', new arrow.Table({vector: vec}));
const t0 = performance.now();
await t.createIndex('vector', {config: lancedb.Index.ivfPq({numPartitions: Number(nlist),
                                                              numSubVectors: Number(m)})});
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({index_seconds: secs, rows: n, dim: d}));
