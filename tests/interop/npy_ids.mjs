// Prints the values of a uint64 .npy array (as partifact and lancedb_*.mjs write ground truth
// and results), one a line; the header's length is read from the file.
// Usage: node npy_ids.mjs FILE.npy
import fs from 'node:fs';
const b = fs.readFileSync(process.argv[2]);
const major = b[6], hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
const at = (major === 1 ? 10 : 12) + hlen, out = [];
for (let p = at; p + 8 <= b.length; p += 8) out.push(b.readBigUInt64LE(p).toString());
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
