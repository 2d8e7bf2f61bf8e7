// LanceDB side of the table benchmark (bench/table_bench.sh). Subcommands:
//   make BASE.fvecs DIR            a LanceDB table DIR/t.lance of the vectors (Lance file format
//                                  2.1, one `vector` column and a uint64 `id`, the row's ordinal)
//   index DIR P M                  times createIndex(Index.ivfPq) with LanceDB's other defaults
//   truth DIR QUERIES.fvecs K OUT  exact top K ids per query (bypassVectorIndex), as JSON
//   recall DIR QUERIES.fvecs TRUTH K NPROBES
//                                  recall@K of LanceDB's own search on the table's index at each
//                                  of the comma-separated NPROBES
// Every subcommand prints one JSON object on stdout.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url + '/../../tests/interop/');
const lancedb = await import(require.resolve('@lancedb/lancedb'));
const arrow = await import(require.resolve('apache-arrow'));

const readFvecs = (p) => {
  const buf = fs.readFileSync(p);
  const dim = buf.readInt32LE(0), n = buf.length / (4 + 4 * dim);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    data.set(new Float32Array(buf.buffer, buf.byteOffset + i * (4 + 4 * dim) + 4, dim), i * dim);
  return {n, dim, data};
};
const open = async (dir) => (await lancedb.connect(dir)).openTable('t');
// Runs f(i) for i in 0..n-1, CONC at a time (LanceDB searches are async; two cores).
const CONC = 4;
const each = async (n, f) => {
  let next = 0;
  await Promise.all(Array.from({length: CONC}, async () => {
    for (let i; (i = next++) < n;) await f(i);
  }));
};
const query = (q, i) => Array.from(q.data.subarray(i * q.dim, (i + 1) * q.dim));

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'make') {
  const base = readFvecs(a[0]);
  const child = arrow.makeData({type: new arrow.Float32(), length: base.n * base.dim, data: base.data});
  const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new arrow.Float32(), true));
  const ids = new BigUint64Array(base.n).map((_, i) => BigInt(i));
  fs.rmSync(a[1], {recursive: true, force: true});
  const db = await lancedb.connect(a[1]);
  const t = await db.createTable('t', new arrow.Table({
    vector: arrow.makeVector(arrow.makeData({type, length: base.n, child})),
    id: arrow.makeVector(ids)}), {storageOptions: {new_table_data_storage_version: '2.1'}});
  console.log(JSON.stringify({rows: await t.countRows(), dim: base.dim, version: await t.version()}));
} else if (cmd === 'index') {
  const t = await open(a[0]);
  const t0 = performance.now();
  await t.createIndex('vector', {config: lancedb.Index.ivfPq({numPartitions: Number(a[1]),
                                                              numSubVectors: Number(a[2])})});
  console.log(JSON.stringify({index_seconds: (performance.now() - t0) / 1000}));
} else if (cmd === 'truth') {
  const t = await open(a[0]), q = readFvecs(a[1]), k = Number(a[2]);
  const ids = new Array(q.n);
  const t0 = performance.now();
  await each(q.n, async (i) => {
    const rows = await t.search(query(q, i)).bypassVectorIndex().limit(k).select(['id']).toArray();
    ids[i] = rows.map((r) => Number(r.id));
  });
  fs.writeFileSync(a[3], JSON.stringify(ids));
  console.log(JSON.stringify({queries: q.n, seconds: (performance.now() - t0) / 1000}));
} else if (cmd === 'recall') {
  const t = await open(a[0]), q = readFvecs(a[1]), truth = JSON.parse(fs.readFileSync(a[2]));
  const k = Number(a[3]), out = [];
  const idx = await t.listIndices();
  if (idx.length !== 1 || idx[0].indexType !== 'IvfPq')
    throw new Error(`expected one IVF_PQ index, listIndices() gave ${JSON.stringify(idx)}`);
  for (const np of a[4].split(',').map(Number)) {
    let hits = 0;
    await each(q.n, async (i) => {
      const rows = await t.search(query(q, i)).nprobes(np).limit(k).select(['id']).toArray();
      const want = new Set(truth[i]);
      for (const r of rows) if (want.has(Number(r.id))) hits++;
    });
    out.push({nprobes: np, recall: hits / (q.n * k)});
  }
  console.log(JSON.stringify({index: idx[0].name, search: out}));
} else {
  console.error('usage: node table_bench.mjs make|index|truth|recall ...');
  process.exit(2);
}
