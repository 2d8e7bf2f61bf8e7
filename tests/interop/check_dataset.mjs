// C -> LanceDB: open the dataset partifact wrote and check every value against the formulas.
// Usage: node check_dataset.mjs PARENT_DIR TABLE_NAME ROWS
import * as lancedb from '@lancedb/lancedb';
import * as v from './values.mjs';

const [parent, name, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const db = await lancedb.connect(parent);
const t = await db.openTable(name);
let bad = 0, checked = 0;
const fail = (msg) => { if (bad++ < 10) console.error(msg); };
const n = await t.countRows();
if (n !== rows) fail(`countRows ${n}, expected ${rows}`);
const schema = (await t.schema()).toString();
for (const want of ['seq: Uint64', 'id: Uint64', 'part: Uint32', 'score: Float32',
                    'code: FixedSizeList[16]<Uint8>', 'vec: FixedSizeList[32]<Float32>'])
  if (!schema.includes(want)) fail(`schema lacks ${want}: ${schema}`);
const seen = new Uint8Array(rows);
const tbl = await t.query().toArrow();
for (const batch of tbl.batches) {
  const seq = v.columnValues(batch, 'seq'), id = v.columnValues(batch, 'id');
  const part = v.columnValues(batch, 'part'), score = v.columnValues(batch, 'score');
  const code = v.columnValues(batch, 'code', 16), vec = v.columnValues(batch, 'vec', 32);
  for (let k = 0; k < batch.numRows; k++) {
    const i = Number(seq[k]);
    if (!(i >= 0 && i < rows) || seen[i]) { fail(`row ${k}: seq ${i} out of range or repeated`); continue; }
    seen[i] = 1;
    if (id[k] !== v.id(i)) fail(`row ${i}: id ${id[k]} != ${v.id(i)}`);
    if (part[k] !== v.part(i)) fail(`row ${i}: part ${part[k]} != ${v.part(i)}`);
    if (score[k] !== v.score(i)) fail(`row ${i}: score ${score[k]} != ${v.score(i)}`);
    for (let j = 0; j < 16; j++) if (code[k * 16 + j] !== v.code(i, j)) fail(`row ${i}: code[${j}]`);
    for (let j = 0; j < 32; j++) if (vec[k * 32 + j] !== v.vec(i, j)) fail(`row ${i}: vec[${j}] ${vec[k*32+j]} != ${v.vec(i, j)}`);
    checked += 4 + 16 + 32;
  }
}
const missing = seen.reduce((a, x) => a + (x ? 0 : 1), 0);
if (missing) fail(`${missing} rows never seen`);
console.log(`LanceDB read ${n} rows written by partifact; ${checked} values checked, ${bad} wrong`);
console.log(bad ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(bad ? 1 : 0);
