// Reads an .fvecs file (records of int32 dim, dim x float32) into {n, dim, data}; shared by the
// interop scripts that hand partifact's generated vectors to LanceDB.
import fs from 'node:fs';

export const readFvecs = (p) => {
  const b = fs.readFileSync(p);
  const dim = b.readInt32LE(0), n = b.length / (4 * (dim + 1));
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) data[i * dim + j] = b.readFloatLE(4 * (i * (dim + 1) + 1 + j));
  return {n, dim, data};
};
