// Writes a tiny LanceDB table (two fragments) whose data files and manifests seed the Lance
// fuzz targets. Usage (from tests/interop, for its node_modules): node make_lancedb_seeds.mjs DIR
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';

const fsl = (dim, n, first) => {
  const vals = new Float32Array(n * dim);
  for (let k = 0; k < n * dim; k++) vals[k] = ((first * dim + k) % 97) / 7;
  const child = arrow.makeData({type: new arrow.Float32(), length: n * dim, data: vals});
  const type = new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
  return arrow.makeVector(arrow.makeData({type, length: n, child}));
};
const table = (first, n) => {
  const seq = new BigUint64Array(n), part = new Uint32Array(n), score = new Float32Array(n);
  for (let k = 0; k < n; k++) { seq[k] = BigInt(first + k); part[k] = (first + k) % 13; score[k] = (first + k) / 3; }
  return new arrow.Table({seq: arrow.makeVector(seq), part: arrow.makeVector(part),
                          score: arrow.makeVector(score), v: fsl(4, n, first)});
};
const db = await lancedb.connect(process.argv[2]);
const t = await db.createTable('t', table(0, 120), {mode: 'overwrite'});
await t.add(table(120, 40));
console.log(`t: ${await t.countRows()} rows`);
