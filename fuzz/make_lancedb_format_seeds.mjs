// Writes tiny LanceDB tables in Lance file formats 2.0, 2.1 and 2.2 whose data files seed the
// Lance file fuzz target: fixed-size lists of float32 / float16 / float64 / uint8 (mini-block
// and full-zip), nullable vectors (some null, all null), bit-packed, flat, run-length encoded
// and constant uint64 / uint32,
// a string column the reader must skip, zstd / lz4 compressed pages, and list columns.
// Usage: node make_lancedb_format_seeds.mjs LANCEDB_DIR DIR
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {fixedSizeList} from '../tests/interop/values.mjs';

const [dir, out] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const n = 40;
const fsl = (child, dim, data, valid) => fixedSizeList(arrow, child, dim, n, data, valid);
const f32 = (dim) => new Float32Array(n * dim).map((_, k) => (k % 97) / 7);
const cols = {
  seq: arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(k))),
  id: arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(k) * 0x9E3779B97F4A7C15n % (1n << 64n))),
  part: arrow.makeVector(new Uint32Array(n).map((_, k) => k % 13)),
  runs: arrow.makeVector(new BigUint64Array(n).map((_, k) => BigInt(k >> 4))),
  k7: arrow.makeVector(new Uint32Array(n).fill(7)),
  v4: fsl(new arrow.Float32(), 4, f32(4)),
  h4: fsl(new arrow.Float16(), 4, new Uint16Array(n * 4).map((_, k) => 0x3c00 + k)),
  d4: fsl(new arrow.Float64(), 4, new Float64Array(n * 4).map((_, k) => k / 8)),
  c8: fsl(new arrow.Uint8(), 8, new Uint8Array(n * 8).map((_, k) => k * 7)),
  nv4: fsl(new arrow.Float32(), 4, f32(4), (k) => k % 5 !== 3),
  nall: fsl(new arrow.Float32(), 4, f32(4), () => false),
  nv80: fsl(new arrow.Float32(), 80, f32(80), (k) => k % 4 !== 1),
  s: arrow.vectorFromArray(Array.from({length: n}, (_, k) => 's' + k), new arrow.Utf8()),
};
const db = await lancedb.connect(out);
for (const ver of ['2.0', '2.1', '2.2'])
  await db.createTable('f' + ver.replace('.', ''), new arrow.Table(cols),
                       {mode: 'overwrite', storageOptions: {new_table_data_storage_version: ver}});
// and zstd / lz4 compressed uint64 pages (asked for in the field metadata; 1100 rows, so that
// LanceDB compresses them) in table fz (2.2)
const m = 1100;
const big = new arrow.Table({z: arrow.makeVector(new BigUint64Array(m).map((_, k) => BigInt(k) * 1000n)),
                             l: arrow.makeVector(new BigUint64Array(m).map((_, k) => BigInt(k) * 1000n))});
const ask = {z: 'zstd', l: 'lz4'};
const zschema = new arrow.Schema(big.schema.fields.map((f) => new arrow.Field(
  f.name, f.type, f.nullable, new Map([['lance-encoding:compression', ask[f.name]]]))));
await db.createTable('fz', new arrow.Table(big.batches.map((b) => new arrow.RecordBatch(zschema, b.data))),
                     {mode: 'overwrite', storageOptions: {new_table_data_storage_version: '2.2'}});
// and list columns (2.1, 2.2): list<float> of 1 to 5 items a row (mini-block, bit-packed
// repetition levels), list<fixed_size_list<float, 4>> and list<fixed_size_list<float, 64>>
// (full-zip) of 1 to 3 items, 12 rows, in tables fl21 / fl22
const listOf = (dim, lens, base) => {
  const offs = Int32Array.from([0, ...lens.map((_, i) => lens.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
  const items = offs[offs.length - 1];
  const flat = arrow.makeData({type: new arrow.Float32(), length: items * dim,
                               data: new Float32Array(items * dim).map((_, k) => base + k / 4)});
  const item = dim === 1 ? flat : arrow.makeData({type: new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)),
                                                  length: items, child: flat});
  return arrow.makeData({type: new arrow.List(new arrow.Field('item', item.type, dim === 1)), length: lens.length,
                         valueOffsets: offs, child: item});
};
const ln = 12, lens = (k) => Array.from({length: ln}, (_, i) => 1 + (i % k));
const lcols = [listOf(1, lens(5), 0), listOf(4, lens(3), 1000), listOf(64, lens(3), 2000)];
const lschema = new arrow.Schema(['lf', 'l4', 'l64'].map((nm, i) => new arrow.Field(nm, lcols[i].type, false)));
const lbatch = new arrow.RecordBatch(lschema, arrow.makeData({type: new arrow.Struct(lschema.fields), length: ln, children: lcols}));
for (const ver of ['2.1', '2.2'])
  await db.createTable('fl' + ver.replace('.', ''), new arrow.Table([lbatch]),
                       {mode: 'overwrite', storageOptions: {new_table_data_storage_version: ver}});
console.log('format seeds written');
