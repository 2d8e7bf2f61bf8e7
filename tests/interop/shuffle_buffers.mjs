// Lance's precomputed shuffle buffers, written through LanceDB 0.39.0 the way Lance's IvfShuffler
// writes them for lance-cuvs (the rules, from lance-index src/vector/ivf/shuffler.rs,
// IvfShuffler::write_partitioned_shuffles and PartitionListBuilder, and lance-format/lance-cuvs
// 364d2a1 backends/cuvs_26_02/src/backend.rs, assign_ivf_pq_to_artifact and
// build_partition_batch):
//   - the encoded rows arrive in batches (lance-cuvs' batch_size); every 16 batches
//     (PARTITION_ARTIFACT_SHUFFLE_BATCHES_PER_FILE) make one file "sorted_<first batch>.lance";
//   - a file's rows are sorted by partition id (stably: a partition keeps its rows' order) and
//     written as one column "partitions": list<item: struct<_rowid: uint64 not null,
//     __ivf_part_id: uint32 not null, __pq_code: fixed_size_list<uint8 (item nullable), M>
//     (nullable)>>, one list row per partition present in the file, in partition order;
//   - Lance file format 2.0 (IvfShuffler's format_version, V2_0 as lance-cuvs sets it).
// Usage:
//   node shuffle_buffers.mjs rows PARENT TABLE OUTDIR BATCH   the rows of LanceDB table
//        PARENT/TABLE (row_id, part_id, pq_code, in their order) as shuffle files in OUTDIR
//   node shuffle_buffers.mjs bad OUTDIR   the bad-input catalogue's shuffle directories
//        (tests/bad-inputs/files/shuffle-*; the catalogue's model has 4 partitions, 2-byte codes)
import * as fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {columnValues} from './values.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const req = createRequire(path.join(here, 'lancedb-0.39', 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
const FILE_BATCHES = 16;

// One shuffle file of the rows {ids, parts, codes (M bytes a row)} at OUTDIR/name, written by
// LanceDB (a table in a scratch directory, its one data file moved into place). names renames
// the struct's fields (bad inputs); parts are grouped as given.
async function writeShuffleFile(scratch, outPath, rows, M, names = {}) {
  const n = rows.ids.length;
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => rows.parts[a] - rows.parts[b] || a - b);
  const ids = new BigUint64Array(n), parts = new Uint32Array(n), codes = new Uint8Array(n * M);
  const offs = [0];
  order.forEach((src, k) => {
    ids[k] = rows.ids[src], parts[k] = rows.parts[src];
    codes.set(rows.codes.subarray(src * M, src * M + M), k * M);
    if (k > 0 && parts[k] !== parts[k - 1]) offs.push(k);
  });
  offs.push(n);
  const codeType = new arrow.FixedSizeList(M, new arrow.Field('item', new arrow.Uint8(), true));
  const fields = [new arrow.Field(names._rowid || '_rowid', new arrow.Uint64(), false),
                  new arrow.Field(names.__ivf_part_id || '__ivf_part_id', new arrow.Uint32(), false),
                  new arrow.Field(names.__pq_code || '__pq_code', codeType, true)];
  const st = new arrow.Struct(fields);
  const item = arrow.makeData({type: st, length: n, children: [
    arrow.makeData({type: new arrow.Uint64(), length: n, data: ids}),
    arrow.makeData({type: new arrow.Uint32(), length: n, data: parts}),
    arrow.makeData({type: codeType, length: n, child: arrow.makeData({type: new arrow.Uint8(), length: n * M, data: codes})})]});
  const lt = new arrow.List(new arrow.Field('item', st, true));
  const list = arrow.makeData({type: lt, length: offs.length - 1, valueOffsets: Int32Array.from(offs), child: item});
  const schema = new arrow.Schema([new arrow.Field('partitions', lt, true)]);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({type: new arrow.Struct(schema.fields), length: offs.length - 1, children: [list]}));
  fs.rmSync(scratch, {recursive: true, force: true});
  const db = await lancedb.connect(scratch);
  await db.createTable('t', new arrow.Table([batch]), {storageOptions: {new_table_data_storage_version: '2.0'}});
  const data = path.join(scratch, 't.lance', 'data');
  const files = fs.readdirSync(data);
  if (files.length !== 1) throw new Error(`${data}: ${files.length} data files`);
  fs.copyFileSync(path.join(data, files[0]), outPath);
  fs.rmSync(scratch, {recursive: true, force: true});
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'rows') {
  const [parent, table, outDir, batchArg] = args;
  const BATCH = Number(batchArg);
  const t = await (await lancedb.connect(parent)).openTable(table);
  const all = await t.query().toArrow();
  const M = all.schema.fields.find((f) => f.name === 'pq_code').type.listSize;
  const total = await t.countRows();
  const ids = new BigUint64Array(total), parts = new Uint32Array(total), codes = new Uint8Array(total * M);
  let at = 0;
  for (const b of all.batches) {
    ids.set(columnValues(b, 'row_id'), at);
    parts.set(columnValues(b, 'part_id'), at);
    codes.set(columnValues(b, 'pq_code', M), at * M);
    at += b.numRows;
  }
  fs.mkdirSync(outDir, {recursive: true});
  const perFile = BATCH * FILE_BATCHES;
  let files = 0;
  for (let first = 0; first < total; first += perFile) {
    const end = Math.min(total, first + perFile);
    await writeShuffleFile(path.join(outDir, '.scratch'), path.join(outDir, `sorted_${first / BATCH}.lance`),
                           {ids: ids.subarray(first, end), parts: parts.subarray(first, end), codes: codes.subarray(first * M, end * M)}, M);
    files++;
  }
  console.log(`wrote ${total} rows of ${parent}/${table} as ${files} shuffle files (Lance 2.0, ${FILE_BATCHES} batches of ${BATCH} rows each) in ${outDir}`);
} else if (mode === 'bad') {
  const [outDir] = args;
  // 10 rows; a good file holds part ids < 4 and 2-byte codes (the catalogue's model)
  const rows = (n, M, part) => ({ids: BigUint64Array.from({length: n}, (_, i) => BigInt(100 + i)),
                                 parts: Uint32Array.from({length: n}, (_, i) => part(i)),
                                 codes: Uint8Array.from({length: n * M}, (_, i) => (i * 37) & 255)});
  const mk = async (dir, name, r, M, names) => {
    fs.mkdirSync(path.join(outDir, dir), {recursive: true});
    await writeShuffleFile(path.join(outDir, '.scratch'), path.join(outDir, dir, name), r, M, names);
  };
  await mk('shuffle-wrong-column', 'sorted_0.lance', rows(10, 2, (i) => i % 4), 2, {__ivf_part_id: 'part_id'});
  await mk('shuffle-part-too-big', 'sorted_0.lance', rows(10, 2, (i) => (i * 3) % 7), 2);
  await mk('shuffle-code-width', 'sorted_0.lance', rows(10, 8, (i) => i % 4), 8);
  await mk('shuffle-mixed-width', 'sorted_0.lance', rows(10, 2, (i) => i % 4), 2);
  await mk('shuffle-mixed-width', 'sorted_16.lance', rows(10, 4, (i) => i % 4), 4);
  console.log(`wrote the bad shuffle directories in ${outDir}`);
} else {
  console.error('usage: shuffle_buffers.mjs rows PARENT TABLE OUTDIR BATCH | bad OUTDIR');
  process.exit(2);
}
