// Opens tables with LanceDB after partifact's commits were killed or raced.
// Usage: node table_check.mjs LANCEDB_DIR killed ROWS T.lance:OLD_VERSION...
//          each table must open at OLD_VERSION or OLD_VERSION + 1 with ROWS rows; at the new
//          version it must list vector_idx and search with it
//        node table_check.mjs LANCEDB_DIR indexed ROWS T.lance...
//          each table opens with ROWS rows, lists only vector_idx and searches with it
//        node table_check.mjs LANCEDB_DIR versions ROWS T.lance INDEXES...
//          every version of T must open with ROWS rows (versions before the commits may have
//          fewer; only the count of the latest is checked), and the latest lists INDEXES
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const [dir, mode, rowsArg, ...rest] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const rows = Number(rowsArg);
let bad = 0;
const open = async (t) => (await lancedb.connect(path.dirname(t))).openTable(path.basename(t, '.lance'));
const searchOk = async (tb) => {
  const v = (await tb.query().limit(1).toArray())[0].vector;
  const hit = await tb.search(Array.from(v)).nprobes(4).limit(5).toArray();
  return hit.length === 5;
};
if (mode === 'killed') {
  const seen = {};
  for (const arg of rest) {
    const [t, old] = arg.split(':');
    try {
      const tb = await open(t), v = await tb.version(), n = await tb.countRows();
      const idx = (await tb.listIndices()).map((i) => i.name);
      let ok = n === rows && (v === Number(old) || v === Number(old) + 1);
      if (ok && v === Number(old) + 1) ok = idx.length === 1 && idx[0] === 'vector_idx' && await searchOk(tb);
      if (ok && v === Number(old)) ok = idx.length === 0;
      seen[v === Number(old) ? 'old' : 'new'] = (seen[v === Number(old) ? 'old' : 'new'] || 0) + 1;
      if (!ok) { bad++; console.error(`${t}: version ${v} (old ${old}), ${n} rows, indexes ${idx}`); }
    } catch (e) { bad++; console.error(`${t}: LanceDB cannot open it: ${e.message}`); }
  }
  console.log(`killed runs: ${JSON.stringify(seen)} of ${rest.length}, ${bad} bad`);
} else if (mode === 'indexed') {
  for (const t of rest) {
    try {
      const tb = await open(t), idx = (await tb.listIndices()).map((i) => i.name);
      if (await tb.countRows() !== rows || idx.length !== 1 || idx[0] !== 'vector_idx' ||
          !(await searchOk(tb))) { bad++; console.error(`${t}: indexes ${idx}`); }
    } catch (e) { bad++; console.error(`${t}: LanceDB cannot open it: ${e.message}`); }
  }
  console.log(`${rest.length} tables indexed, ${bad} bad`);
} else if (mode === 'versions') {
  const [t, ...want] = rest;
  const tb = await open(t), latest = await tb.version();
  for (let v = 1; v <= latest; v++) {
    try { await tb.checkout(v); await tb.countRows(); }
    catch (e) { bad++; console.error(`${t}: version ${v} does not open: ${e.message}`); }
  }
  await tb.checkoutLatest();
  const idx = (await tb.listIndices()).map((i) => i.name).sort();
  if (JSON.stringify(idx) !== JSON.stringify(want.sort()) || await tb.countRows() !== rows ||
      !(await searchOk(tb))) {
    bad++; console.error(`${t}: latest version ${latest} lists ${idx}, expected ${want}`);
  }
  console.log(`${t}: versions 1..${latest} open; indexes ${idx}`);
}
process.exit(bad ? 1 : 0);
