// Compares two Lance manifest files field by field at the top level of the Manifest message:
// every field but those a commit changes (version 3, index_section 6, timestamp 7,
// transaction_file 12, transaction_section 21) must have exactly the same bytes, in the same
// order among fields of the same number; and every entry of the old index section must be in
// the new one with the same bytes (unless REPLACED is set in the environment). Prints the
// field numbers of each and exits 1 on a difference.
// Usage: node manifest_fields.mjs OLD.manifest NEW.manifest
import fs from 'node:fs';

const CHANGED = new Set([3, 6, 7, 12, 21]);
function fields(file, at) {
  const b = fs.readFileSync(file);
  const pos = at ?? Number(b.readBigInt64LE(b.length - 16)), len = b.readUInt32LE(pos);
  const m = b.subarray(pos + 4, pos + 4 + len), out = [];
  const varint = (at) => { let v = 0n, s = 0n, i = at; for (;;) { const x = m[i++];
    v |= BigInt(x & 0x7f) << s; s += 7n; if (!(x & 0x80)) return [v, i]; } };
  for (let at = 0; at < m.length;) {
    const start = at; let tag; [tag, at] = varint(at);
    const wt = Number(tag & 7n), no = Number(tag >> 3n);
    let value;
    if (wt === 0) [value, at] = varint(at);
    else if (wt === 1) at += 8;
    else if (wt === 5) at += 4;
    else if (wt === 2) { let l; [l, at] = varint(at); at += Number(l); }
    else throw new Error(`${file}: wire type ${wt} at byte ${start}`);
    out.push({no, value, bytes: Buffer.from(m.subarray(start, at)).toString('hex')});
  }
  return out;
}
const [fa, fb] = process.argv.slice(2);
const [a, b] = [fields(fa), fields(fb)];
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
// every index entry of the old version is carried into the new one byte for byte
const entries = (file, f) => {
  const sec = f.find((x) => x.no === 6);
  return sec ? fields(file, Number(sec.value)).filter((x) => x.no === 1).map((x) => x.bytes) : [];
};
const ea = entries(fa, a), eb = entries(fb, b);
const carried = ea.filter((e) => eb.includes(e)).length;
console.log(`index entries: ${ea.length} old, ${eb.length} new, ${carried} carried unchanged`);
if (carried !== ea.length && !process.env.REPLACED) {
  console.error('an old index entry is not in the new index section byte for byte');
  process.exit(1);
}
