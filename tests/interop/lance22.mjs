// Lance file format 2.2 between LanceDB 0.39.0 and partifact, for the column types partifact
// writes (lance22.c is the C side; the value formulas are values.mjs / values.h):
//   cols   xrowid uint64 = id(i), part uint32 = part(i), __pq_code fixed_size_list<uint8
//          (item nullable)>[16] = code(i, j), the field nullable as upstream declares it;
//   vecs   v128 fixed_size_list<float>[128] = vec(i, j), v8 fixed_size_list<float>[8] =
//          vec(i, j + 200);
//   odd    c12 fixed_size_list<uint8>[12] = code(i, j), part uint32 = part(i), 257 rows;
//   lists  (3000 rows; lists40: the first 40) lf list<float>: 1 + i % 7 items, item k = vec(i, k); lv list<fixed_size_list<float>
//          [8]> (item field "lv_item"): 1 + i % 5 items, component j of item k = vec(i, 100 +
//          8k + j); lw list<fixed_size_list<float>[128]>: 1 + i % 3 items, vec(i, 1000 + 128k +
//          j);
//   meta   lance-cuvs' metadata.lance (backends/cuvs_26_02/src/backend.rs, build_metadata_batch,
//          lance-format/lance-cuvs 364d2a1): one row, _ivf_centroids list<_ivf_centroids_item:
//          fixed_size_list<float>[D]> (P items: centroid p = vec(p, j)) and _pq_codebook
//          list<_pq_codebook_item: fixed_size_list<float>[D/M]> (M * 256 items: entry e =
//          vec(e + 100000, j)), both not null; meta32 has P 300, D 32, M 8 (mini-block pages),
//          meta128 P 1000, D 128, M 16 (the centroids full-zip).
// Usage:
//   node lance22.mjs make DIR ROWS    LanceDB writes the tables above (format 2.2) into DIR
//   node lance22.mjs check DIR        LanceDB reads the tables lance22.c wrote (pa_*.lance) and
//                                     compares every value with the formulas
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import * as V from './values.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const req = createRequire(path.join(here, 'lancedb-0.39', 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const [mode, dir, rowsArg] = process.argv.slice(2);
const db = await lancedb.connect(dir);
const BATCH = 65536;
const F32 = () => new arrow.Float32();
const fslType = (dim) => new arrow.FixedSizeList(dim, new arrow.Field('item', F32(), true));

const listLen = {lf: (i) => 1 + (i % 7), lv: (i) => 1 + (i % 5), lw: (i) => 1 + (i % 3)};
const listDim = {lf: 1, lv: 8, lw: 128};
const listVal = {lf: (i, k) => V.vec(i, k), lv: (i, k, j) => V.vec(i, 100 + 8 * k + j),
                 lw: (i, k, j) => V.vec(i, 1000 + 128 * k + j)};
const metas = {meta32: [300, 32, 8], meta128: [1000, 128, 16]};

// An Arrow list column of rows [first, first + n): items of dim floats (dim 1: plain floats).
function listData(name, itemName, first, n) {
  const len = listLen[name], dim = listDim[name], offs = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) offs[k + 1] = offs[k] + len(first + k);
  const vals = new Float32Array(offs[n] * dim);
  for (let k = 0, at = 0; k < n; k++)
    for (let q = 0; q < len(first + k); q++)
      for (let j = 0; j < dim; j++) vals[at++] = listVal[name](first + k, q, j);
  const flat = arrow.makeData({type: F32(), length: offs[n] * dim, data: vals});
  const item = dim === 1 ? flat : arrow.makeData({type: fslType(dim), length: offs[n], child: flat});
  const type = new arrow.List(new arrow.Field(itemName, item.type, dim === 1));
  return arrow.makeData({type, length: n, valueOffsets: offs, child: item});
}

// One row holding a list of n items of dim floats, item e component j = vec(e + base, j).
function metaList(itemName, n, dim, base) {
  const vals = new Float32Array(n * dim);
  for (let e = 0; e < n; e++) for (let j = 0; j < dim; j++) vals[e * dim + j] = V.vec(e + base, j);
  const flat = arrow.makeData({type: F32(), length: n * dim, data: vals});
  const fsl = arrow.makeData({type: fslType(dim), length: n, child: flat});
  const type = new arrow.List(new arrow.Field(itemName, fsl.type, false));
  return arrow.makeData({type, length: 1, valueOffsets: new Int32Array([0, n]), child: fsl});
}

function batchOf(fields, children, n, metadata) {
  const schema = new arrow.Schema(fields, metadata);
  return new arrow.RecordBatch(schema, arrow.makeData({type: new arrow.Struct(schema.fields), length: n, children}));
}

const v22 = {mode: 'overwrite', storageOptions: {new_table_data_storage_version: '2.2'}};

async function make(rows) {
  const parts = [];
  for (let first = 0; first < rows; first += BATCH) {
    const n = Math.min(BATCH, rows - first);
    const ids = new BigUint64Array(n), pt = new Uint32Array(n), u8 = new Uint8Array(n * 16);
    for (let k = 0; k < n; k++) {
      ids[k] = V.id(first + k), pt[k] = V.part(first + k);
      for (let j = 0; j < 16; j++) u8[k * 16 + j] = V.code(first + k, j);
    }
    const code = V.fixedSizeList(arrow, new arrow.Uint8(), 16, n, u8).data[0];
    parts.push(batchOf([new arrow.Field('xrowid', new arrow.Uint64(), false),
                        new arrow.Field('part', new arrow.Uint32(), false),
                        new arrow.Field('__pq_code', code.type, true)],
                       [arrow.makeData({type: new arrow.Uint64(), length: n, data: ids}),
                        arrow.makeData({type: new arrow.Uint32(), length: n, data: pt}), code], n));
  }
  await db.createTable('cols', new arrow.Table(parts), v22);
  const vrows = 40000, vb = [];
  for (let first = 0; first < vrows; first += 4096) {
    const n = Math.min(4096, vrows - first);
    const a = new Float32Array(n * 128), b = new Float32Array(n * 8);
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < 128; j++) a[k * 128 + j] = V.vec(first + k, j);
      for (let j = 0; j < 8; j++) b[k * 8 + j] = V.vec(first + k, j + 200);
    }
    const d128 = V.fixedSizeList(arrow, F32(), 128, n, a).data[0], d8 = V.fixedSizeList(arrow, F32(), 8, n, b).data[0];
    vb.push(batchOf([new arrow.Field('v128', d128.type, false), new arrow.Field('v8', d8.type, false)], [d128, d8], n));
  }
  await db.createTable('vecs', new arrow.Table(vb), v22);
  // odd: 257 rows of fixed_size_list<uint8>[12] = code(i, j) (one chunk whose values end inside
  // an 8-byte word: padding) and part uint32 = part(i)
  const o12 = new Uint8Array(257 * 12), op = new Uint32Array(257);
  for (let k = 0; k < 257; k++) { op[k] = V.part(k); for (let j = 0; j < 12; j++) o12[k * 12 + j] = V.code(k, j); }
  const d12 = V.fixedSizeList(arrow, new arrow.Uint8(), 12, 257, o12).data[0];
  await db.createTable('odd', new arrow.Table([batchOf([new arrow.Field('c12', d12.type, false), new arrow.Field('part', new arrow.Uint32(), false)],
                                                       [d12, arrow.makeData({type: new arrow.Uint32(), length: 257, data: op})], 257)]), v22);
  const lrows = 3000, lb = [];
  for (let first = 0; first < lrows; first += 1000) {
    const n = Math.min(1000, lrows - first);
    const ch = [listData('lf', 'item', first, n), listData('lv', 'lv_item', first, n), listData('lw', 'item', first, n)];
    lb.push(batchOf(['lf', 'lv', 'lw'].map((nm, q) => new arrow.Field(nm, ch[q].type, false)), ch, n));
  }
  await db.createTable('lists', new arrow.Table(lb), v22);
  // the same formulas, 40 rows: LanceDB stores these repetition levels otherwise (inline
  // bit-packing rather than out-of-line)
  const sc = [listData('lf', 'item', 0, 40), listData('lv', 'lv_item', 0, 40), listData('lw', 'item', 0, 40)];
  await db.createTable('lists40', new arrow.Table([batchOf(['lf', 'lv', 'lw'].map((nm, q) => new arrow.Field(nm, sc[q].type, false)), sc, 40)]), v22);
  for (const [name, [P, D, M]] of Object.entries(metas)) {
    const c = metaList('_ivf_centroids_item', P, D, 0), q = metaList('_pq_codebook_item', M * 256, D / M, 100000);
    const meta = new Map([['lance:index_build:artifact_version', '1'], ['lance:index_build:num_partitions', String(P)]]);
    await db.createTable(name, new arrow.Table([batchOf([new arrow.Field('_ivf_centroids', c.type, false),
                                                         new arrow.Field('_pq_codebook', q.type, false)], [c, q], 1, meta)]), v22);
  }
  console.log(`LanceDB 0.39 wrote cols (${rows} rows), vecs (${vrows}), lists (${lrows}), meta32, meta128 in format 2.2`);
}

let bad = 0, checked = 0;
const fail = (m) => { if (bad++ < 20) console.error(m); };
const eq = (what, got, want) => { checked++; if (got !== want) fail(`${what}: LanceDB read ${got}, expected ${want}`); };

// Every row of table name through LanceDB, as plain arrays per column.
async function readAll(name) {
  const t = await db.openTable(name);
  const rows = await t.countRows();
  const tab = await t.query().toArrow();
  return {rows, tab, schema: await t.schema()};
}

async function check() {
  for (const [name, n] of [['pa_cols', 70000], ['pa_one', 1], ['pa_empty', 0]]) {
    const {rows, tab, schema} = await readAll(name);
    eq(`${name} rows`, rows, n);
    const fields = schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
    eq(`${name} schema`, fields, 'xrowid:Uint64,part:Uint32,__pq_code:FixedSizeList[16]<Uint8>,' +
       'v128:FixedSizeList[128]<Float32>,v8:FixedSizeList[8]<Float32>');
    eq(`${name} nullable fields`, schema.fields.filter((f) => f.nullable).map((f) => f.name).join(','), '__pq_code');
    let i = 0;
    for (const b of tab.batches) {
      const ids = V.columnValues(b, 'xrowid'), pt = V.columnValues(b, 'part'), code = V.columnValues(b, '__pq_code', 16);
      const a = V.columnValues(b, 'v128', 128), v8 = V.columnValues(b, 'v8', 8);
      for (let k = 0; k < b.numRows; k++, i++) {
        eq(`${name} row ${i} xrowid`, ids[k], V.id(i));
        eq(`${name} row ${i} part`, pt[k], V.part(i));
        for (let j = 0; j < 16; j++) eq(`${name} row ${i} __pq_code[${j}]`, code[k * 16 + j], V.code(i, j));
        for (let j = 0; j < 128; j++) eq(`${name} row ${i} v128[${j}]`, a[k * 128 + j], V.vec(i, j));
        for (let j = 0; j < 8; j++) eq(`${name} row ${i} v8[${j}]`, v8[k * 8 + j], V.vec(i, j + 200));
      }
    }
    eq(`${name} rows read`, i, n);
  }
  {
    const {rows, tab} = await readAll('pa_lists');
    eq('pa_lists rows', rows, 3000);
    eq('pa_lists schema', tab.schema.fields.map((f) => `${f.name}:${f.type}`).join(','),
       'lf:List<Float32>,lv:List<FixedSizeList[8]<Float32>>,lw:List<FixedSizeList[128]<Float32>>');
    eq('pa_lists lv item name', tab.schema.fields[1].type.children[0].name, 'lv_item');
    for (let i = 0; i < rows; i++) {
      const row = tab.get(i);
      for (const nm of ['lf', 'lv', 'lw']) {
        const list = row[nm];
        eq(`pa_lists row ${i} ${nm} length`, list.length, listLen[nm](i));
        for (let q = 0; q < list.length; q++) {
          const item = list.get(q);
          if (listDim[nm] === 1) eq(`pa_lists row ${i} ${nm}[${q}]`, item, listVal[nm](i, q));
          else for (let j = 0; j < listDim[nm]; j++) eq(`pa_lists row ${i} ${nm}[${q}][${j}]`, item.get(j), listVal[nm](i, q, j));
        }
      }
    }
  }
  for (const [name, [P, D, M]] of Object.entries(metas)) {
    const {rows, tab} = await readAll('pa_' + name);
    eq(`pa_${name} rows`, rows, 1);
    const f = tab.schema.fields;
    eq(`pa_${name} schema`, f.map((x) => `${x.name}:${x.type}:${x.type.children[0].name}`).join(','),
       `_ivf_centroids:List<FixedSizeList[${D}]<Float32>>:_ivf_centroids_item,` +
       `_pq_codebook:List<FixedSizeList[${D / M}]<Float32>>:_pq_codebook_item`);
    const row = tab.get(0);
    for (const [col, n, dim, base] of [['_ivf_centroids', P, D, 0], ['_pq_codebook', M * 256, D / M, 100000]]) {
      const list = row[col];
      eq(`pa_${name} ${col} items`, list.length, n);
      for (let e = 0; e < list.length; e++) {
        const item = list.get(e);
        for (let j = 0; j < dim; j++) eq(`pa_${name} ${col}[${e}][${j}]`, item.get(j), V.vec(e + base, j));
      }
    }
  }
  console.log(`LanceDB 0.39 read partifact's 2.2 files: ${checked} values checked, ${bad} problems`);
  process.exit(bad ? 1 : 0);
}

if (mode === 'make') await make(Number(rowsArg));
else await check();
