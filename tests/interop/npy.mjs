// Row ids as .npy (uint64, shape (queries, k)), shared by the interop scripts that save
// LanceDB's answers for partifact's to be compared with: searchIdsNpy runs each query of q
// ({n, dim, data}, as readFvecs gives) through search(t, vector) (a LanceDB query builder,
// limit and _rowid added here) and writes the row ids, 2^64 - 1 where fewer came back;
// readIdsNpy reads such a file (or partifact's) back as strings.
import fs from 'node:fs';

export const searchIdsNpy = async (file, q, k, search) => {
  const hdr = `{'descr': '<u8', 'fortran_order': False, 'shape': (${q.n}, ${k}), }`;
  const hlen = Math.ceil((10 + hdr.length + 1) / 64) * 64;
  const out = Buffer.alloc(hlen + 8 * q.n * k);
  out.write('\x93NUMPY', 0, 'latin1'); out[6] = 1; out[7] = 0; out.writeUInt16LE(hlen - 10, 8);
  out.write(hdr.padEnd(hlen - 11, ' ') + '\n', 10, 'latin1');
  for (let i = 0; i < q.n; i++) {
    const rows = await search(Array.from(q.data.subarray(i * q.dim, (i + 1) * q.dim)))
      .limit(k).withRowId(true).toArray();
    for (let j = 0; j < k; j++)
      out.writeBigUInt64LE(j < rows.length ? BigInt(rows[j]._rowid) : 0xFFFFFFFFFFFFFFFFn, hlen + 8 * (i * k + j));
  }
  fs.writeFileSync(file, out);
};

export const readIdsNpy = (file) => {
  const b = fs.readFileSync(file);
  const major = b[6], hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const out = [];
  for (let p = (major === 1 ? 10 : 12) + hlen; p + 8 <= b.length; p += 8) out.push(b.readBigUInt64LE(p).toString());
  return out;
};
