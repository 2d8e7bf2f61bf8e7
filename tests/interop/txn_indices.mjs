// Prints the index names a Lance transaction file's CreateIndex (field 103) adds and removes:
// "new NAME" / "removed NAME" lines, and "read_version N".
// Usage: node txn_indices.mjs FILE.txn
import fs from 'node:fs';

function walk(b) {
  const out = []; let i = 0;
  const varint = () => { let x = 0n, s = 0n; for (;;) { const c = b[i++]; x |= BigInt(c & 127) << s;
    s += 7n; if (!(c & 128)) return x; } };
  while (i < b.length) {
    const t = varint(), no = Number(t >> 3n), wt = Number(t & 7n);
    if (wt === 0) out.push([no, varint()]);
    else if (wt === 2) { const l = Number(varint()); out.push([no, b.subarray(i, i + l)]); i += l; }
    else throw new Error(`wire type ${wt}`);
  }
  return out;
}
const top = walk(fs.readFileSync(process.argv[2]));
console.log(`read_version ${top.find(([n]) => n === 1)[1]}`);
for (const [n, x] of walk(top.find(([k]) => k === 103)[1]))
  console.log(`${n === 1 ? 'new' : 'removed'} ${Buffer.from(walk(x).find(([k]) => k === 3)[1])}`);
