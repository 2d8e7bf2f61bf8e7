// Writes the small tables the bad-inputs catalogue reads (tests/bad-inputs/files/), once, with
// LanceDB 0.37.1 (file format 2.1): table-novec.lance (a double id and a string, no vector
// column), table-twovec.lance (two fixed_size_list<float,4> columns a and b, and an id) and
// table-deleted.lance (6000 rows of fixed_size_list<float,4> and an id in one fragment: ids 3,
// 5 and 7 deleted (version 2: _deletions/0-1-*.arrow), then ids 100 to 5989 (version 3: more
// than 5,000, so _deletions/0-2-*.bin, a bitmap, replaces it).
// Usage: node make_fixture_tables.mjs DIR
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';

const fsl = (n, f) => {
  const vals = new Float32Array(n * 4).map((_, i) => f(i));
  const child = arrow.makeData({type: new arrow.Float32(), length: n * 4, data: vals});
  const type = new arrow.FixedSizeList(4, new arrow.Field('item', new arrow.Float32(), true));
  return arrow.makeVector(arrow.makeData({type, length: n, child}));
};
const n = 10, ids = arrow.makeVector(new Float64Array(n).map((_, i) => i));
const db = await lancedb.connect(process.argv[2]);
const opts = {mode: 'overwrite', storageOptions: {new_table_data_storage_version: '2.1'}};
await db.createTable('table-novec', new arrow.Table({id: ids,
  name: arrow.vectorFromArray(Array.from({length: n}, (_, i) => `row ${i}`), new arrow.Utf8())}), opts);
await db.createTable('table-twovec', new arrow.Table({id: ids, a: fsl(n, (i) => i), b: fsl(n, (i) => -i)}), opts);
const m = 6000, mids = arrow.makeVector(new Float64Array(m).map((_, i) => i));
const d = await db.createTable('table-deleted', new arrow.Table({id: mids, vector: fsl(m, (i) => i % 97)}), opts);
await d.delete('id = 3 OR id = 5 OR id = 7');
await d.delete('id >= 100 AND id < 5990');
console.log('wrote table-novec.lance, table-twovec.lance and table-deleted.lance');
