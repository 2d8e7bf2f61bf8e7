// Value formulas shared with values.h (the C side). Floats are exact in float32.
export function hash(i, j) {
  let h = (Math.imul(i, 0x9E3779B1) ^ Math.imul(j, 0x85EBCA77)) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x2C1B3C6D) >>> 0;
  h = (h ^ (h >>> 12)) >>> 0;
  return h;
}
export const id = (i) => BigInt.asUintN(64, BigInt(i) * 2654435761n + 12345n);
export const part = (i) => (i * 7) % 1000003;
export const score = (i) => (i % 4096) * 0.25 - 7;
export const code = (i, j) => hash(i, j + 1000) & 255;
export const vec = (i, j) => (hash(i, j) % 65536) / 256 - 128;

// The values of one column of one record batch as a flat typed array (FSL: items row-major).
export function columnValues(batch, name, dim = 1) {
  const d = batch.getChild(name).data[0];
  if (dim === 1) return d.values.subarray(d.offset, d.offset + d.length);
  const c = d.children[0];
  const start = c.offset + d.offset * dim;
  return c.values.subarray(start, start + d.length * dim);
}

// An Arrow fixed_size_list<child, dim> vector of n rows over the flat typed array data; with
// valid(k) given, row k is null where it returns false.
export function fixedSizeList(arrow, child, dim, n, data, valid) {
  const c = arrow.makeData({type: child, length: n * dim, data});
  const type = new arrow.FixedSizeList(dim, new arrow.Field('item', child, true));
  const opts = {type, length: n, child: c};
  if (valid) {
    const bm = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    for (let k = 0; k < n; k++) if (valid(k)) bm[k >> 3] |= 1 << (k & 7); else nulls++;
    opts.nullBitmap = bm;
    opts.nullCount = nulls;
  }
  return arrow.makeVector(arrow.makeData(opts));
}
