// Writes the small tables the bad-inputs catalogue reads (tests/bad-inputs/files/), once, with
// LanceDB 0.37.1 (file format 2.1): table-novec.lance (a double id and a string, no vector
// column) and table-twovec.lance (two fixed_size_list<float,4> columns a and b, and an id).
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
console.log('wrote table-novec.lance and table-twovec.lance');
