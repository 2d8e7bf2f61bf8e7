// A LanceDB table WORK/NAME.lance of the vectors of an .fvecs file in FRAGMENTS fragments
// (createTable, then add), with a uint64 id column (the row's ordinal), Lance file format 2.1
// (what partifact reads today). With "delete PREDICATE" or "append N" instead of a file, that
// is done to the existing table WORK/NAME.lance (appended rows: ids from 10^6, vectors 0.5).
// Usage: node make_table.mjs LANCEDB_DIR WORK NAME BASE.fvecs FRAGMENTS [v1|stable]
//          (v1: manifests named by version, _versions/N.manifest, else LanceDB's default V2;
//          stable: stable row ids)
//        node make_table.mjs LANCEDB_DIR WORK NAME delete PREDICATE
//        node make_table.mjs LANCEDB_DIR WORK NAME append N DIM
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {readFvecs} from './fvecs.mjs';

const [dir, work, name, basePath, F, naming] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
if (basePath === 'delete' || basePath === 'append') {
  const t = await (await lancedb.connect(work)).openTable(name);
  if (basePath === 'delete') await t.delete(F);
  else {
    const n = Number(F), dim = Number(process.argv[7]);
    const child = arrow.makeData({type: new arrow.Float32(), length: n * dim,
                                  data: new Float32Array(n * dim).fill(0.5)});
    const type = new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
    const ids = new BigUint64Array(n).map((_, i) => BigInt(1000000 + i));
    await t.add(new arrow.Table({vector: arrow.makeVector(arrow.makeData({type, length: n, child})),
                                 id: arrow.makeVector(ids)}));
  }
  console.log(`${name}: ${basePath} done, version ${await t.version()}`);
  process.exit(0);
}
const base = readFvecs(basePath);
const part = (first, n) => {
  const child = arrow.makeData({type: new arrow.Float32(), length: n * base.dim,
                                data: base.data.subarray(first * base.dim, (first + n) * base.dim)});
  const type = new arrow.FixedSizeList(base.dim, new arrow.Field('item', new arrow.Float32(), true));
  const ids = new BigUint64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(first + i);
  return new arrow.Table({vector: arrow.makeVector(arrow.makeData({type, length: n, child})),
                          id: arrow.makeVector(ids)});
};
const db = await lancedb.connect(work);
const per = Math.ceil(base.n / Number(F));
const t = await db.createTable(name, part(0, Math.min(per, base.n)),
  {mode: 'overwrite', storageOptions: {new_table_data_storage_version: '2.1',
    new_table_enable_v2_manifest_paths: naming === 'v1' ? 'false' : 'true',
    new_table_enable_stable_row_ids: naming === 'stable' ? 'true' : 'false'}});
for (let at = per; at < base.n; at += per) await t.add(part(at, Math.min(per, base.n - at)));
console.log(`${name}: ${base.n} rows in ${Number(F)} fragments, version ${await t.version()}`);
