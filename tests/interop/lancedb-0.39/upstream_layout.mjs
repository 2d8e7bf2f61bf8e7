// The upstream layout's Arrow schemas and the dumps of tests/interop/artifact_tool.c, in one place
// for the upstream-layout tests (upstream_rules.mjs, read_artifact.mjs, foreign_artifact.mjs).
// Bucket files: lancedb/lance@5a6feec787421e0565f5506c0c359737d9c6861d
// rust/lance/src/index/vector/partition_artifact.rs, PartitionArtifactBuilder::try_new_with_store
// (final_schema). metadata.lance: lance-format/lance-cuvs@364d2a119e0b14735e1bf03c2194625d8e3783c6
// backends/cuvs_26_02/src/backend.rs, build_metadata_batch and write_partition_artifact_metadata.
import * as fs from 'node:fs';
import * as arrow from 'apache-arrow';

// A LanceDB table refuses a column named _rowid (a reserved name): tables stand this name of
// the same length in for it.
export const ROWID_STAND_IN = '_r0wid';
export const BUILD_KEY = 'lance:index_build:';
export const METRICS = ['l2', 'cosine', 'dot'];   // pa_metric 0, 1, 2; lance's DistanceType names

export const batchOf = (schema, n, children) =>
  new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, children }));

// _rowid UInt64 not null, __pq_code FixedSizeList(Field "item" UInt8 nullable, M) nullable
export function bucketSchema(M) {
  const codeT = new arrow.FixedSizeList(M, new arrow.Field('item', new arrow.Uint8(), true));
  return new arrow.Schema([new arrow.Field(ROWID_STAND_IN, new arrow.Uint64(), false),
                           new arrow.Field('__pq_code', codeT, true)]);
}
export function bucketBatch(M, ids, codes) {
  const schema = bucketSchema(M), n = ids.length;
  return batchOf(schema, n, [
    arrow.makeData({ type: new arrow.Uint64(), length: n, data: ids }),
    arrow.makeData({ type: schema.fields[1].type, length: n,
                     child: arrow.makeData({ type: new arrow.Uint8(), length: n * M, data: codes }) })]);
}

// One list column of lance-cuvs' metadata.lance: List<Field "<name>_item" FixedSizeList<f32, d>
// not null> not null, one row holding n lists of d floats.
function listColumn(name, d, n, values) {
  const fslT = new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), true));
  const t = new arrow.List(new arrow.Field(`${name}_item`, fslT, false));
  const v = arrow.makeData({ type: new arrow.Float32(), length: n * d, data: values ?? new Float32Array(n * d) });
  return [new arrow.Field(name, t, false),
          arrow.makeData({ type: t, length: 1, valueOffsets: new Int32Array([0, n]),
                           child: arrow.makeData({ type: fslT, length: n, child: v }) })];
}
// _ivf_centroids (P centroids of dim) and _pq_codebook (M x 2^bits sub-vector centroids of
// dim / M, in (sub-space, centroid) order: lance-cuvs cuda.rs pq_codebook_from_host), with the
// schema metadata lance-cuvs writes when model.metric is given; without values, placeholders
// of n lists each.
export function metadataBatch(model, n) {
  const { dim, P, M, bits, metric, centroids, codebook } = model;
  const [cf, cd] = listColumn('_ivf_centroids', dim, n ?? P, n ? null : centroids);
  const [pf, pd] = listColumn('_pq_codebook', dim / M, n ?? (M << bits), n ? null : codebook);
  const meta = metric === undefined ? new Map() : new Map([
    [`${BUILD_KEY}artifact_version`, '1'], [`${BUILD_KEY}distance_type`, METRICS[metric]],
    [`${BUILD_KEY}num_partitions`, String(P)], [`${BUILD_KEY}num_sub_vectors`, String(M)],
    [`${BUILD_KEY}num_bits`, String(bits)], [`${BUILD_KEY}dimension`, String(dim)]]);
  return batchOf(new arrow.Schema([cf, pf], meta), 1, [cd, pd]);
}

// artifact_tool model: u32 dim, partitions, sub-vectors, bits, metric; centroids; codebook.
export function readModel(path) {
  const b = fs.readFileSync(path);
  const [dim, P, M, bits, metric] = [0, 1, 2, 3, 4].map((k) => b.readUInt32LE(4 * k));
  const f32 = (off, n) => new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 4 * n));
  return { dim, P, M, bits, metric, centroids: f32(20, P * dim), codebook: f32(20 + 4 * P * dim, dim << bits) };
}

// artifact_tool rows: per partition u32 part, u64 rows, row ids, codes (M bytes each). A Map
// part -> {ids: BigUint64Array, codes: Uint8Array}.
export function readRows(path, M) {
  const b = fs.readFileSync(path), out = new Map();
  for (let off = 0; off < b.length;) {
    const p = b.readUInt32LE(off), n = Number(b.readBigUInt64LE(off + 4));
    off += 12;
    out.set(p, { ids: new BigUint64Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 8 * n)),
                 codes: Uint8Array.from(b.subarray(off + 8 * n, off + 8 * n + n * M)) });
    off += n * (8 + M);
  }
  return out;
}
