// Compares two Lance manifest files field by field at the top level of the Manifest message:
// every field but those a commit changes (version 3, index_section 6, timestamp 7,
// transaction_file 12, transaction_section 21) must have exactly the same bytes, in the same
// order among fields of the same number. Prints the field numbers of each and exits 1 on a
// difference.
// Usage: node manifest_fields.mjs OLD.manifest NEW.manifest
import fs from 'node:fs';

const CHANGED = new Set([3, 6, 7, 12, 21]);
function fields(file) {
  const b = fs.readFileSync(file);
  const pos = Number(b.readBigInt64LE(b.length - 16)), len = b.readUInt32LE(pos);
  const m = b.subarray(pos + 4, pos + 4 + len), out = [];
  const varint = (at) => { let v = 0n, s = 0n, i = at; for (;;) { const x = m[i++];
    v |= BigInt(x & 0x7f) << s; s += 7n; if (!(x & 0x80)) return [v, i]; } };
  for (let at = 0; at < m.length;) {
    const start = at; let tag; [tag, at] = varint(at);
    const wt = Number(tag & 7n), no = Number(tag >> 3n);
    if (wt === 0) at = varint(at)[1];
    else if (wt === 1) at += 8;
    else if (wt === 5) at += 4;
    else if (wt === 2) { let l; [l, at] = varint(at); at += Number(l); }
    else throw new Error(`${file}: wire type ${wt} at byte ${start}`);
    out.push({no, bytes: Buffer.from(m.subarray(start, at)).toString('hex')});
  }
  return out;
}
const [a, b] = process.argv.slice(2).map(fields);
const keep = (f) => f.filter((x) => !CHANGED.has(x.no)).sort((x, y) => x.no - y.no);
const ka = keep(a), kb = keep(b);
const same = ka.length === kb.length && ka.every((x, i) => x.no === kb[i].no && x.bytes === kb[i].bytes);
console.log(`old fields ${a.map((x) => x.no).join(',')}; new fields ${b.map((x) => x.no).join(',')}`);
if (!same) { console.error('the fields a commit does not change differ'); process.exit(1); }
const nb = (f, n) => f.filter((x) => x.no === n).length;
if (nb(b, 3) !== 1 || nb(b, 6) !== 1 || nb(b, 7) !== 1 || nb(b, 12) !== 1) {
  console.error('the new manifest lacks version, index_section, timestamp or transaction_file');
  process.exit(1);
}
