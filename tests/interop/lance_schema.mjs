// A small, independent reader of a Lance file's footer and schema, for the upstream-layout
// tests (it shares no code with partifact's reader). From the Lance format's own statement in
// lancedb/lance: protos/file2.proto (the v2 layout: 40-byte footer `u64 column_meta_start,
// u64 column_meta_offsets_start, u64 global_buff_offsets_start, u32 num_global_buffers,
// u32 num_columns, u16 major_version, u16 minor_version, "LANC"`; global buffer 0 holds the
// FileDescriptor) and protos/file.proto (message FileDescriptor {Schema schema = 1; uint32
// length = 2}, message Schema {repeated Field fields = 1; map<string, bytes> metadata = 5},
// message Field {Type type = 1; string name = 2; int32 id = 3; int32 parent_id = 4; string
// logical_type = 5; bool nullable = 6; ... map<string, bytes> metadata = 10}).
import * as fs from 'node:fs';

// One protobuf message as [field number, wire type, value] triples: varints as BigInt, length-
// delimited values as Buffers.
export function pbFields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    if (wire === 0) out.push([field, wire, varint()]);
    else if (wire === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw new Error('protobuf: length past the message');
      out.push([field, wire, buf.subarray(i, i + n)]);
      i += n;
    } else if (wire === 1) { out.push([field, wire, buf.readBigUInt64LE(i)]); i += 8; }
    else if (wire === 5) { out.push([field, wire, buf.readUInt32LE(i)]); i += 4; }
    else throw new Error(`protobuf: wire type ${wire}`);
  }
  return out;
}

const int32 = (v) => Number(BigInt.asIntN(32, v));

function mapEntry(buf) {
  let k = '', v = Buffer.alloc(0);
  for (const [f, , val] of pbFields(buf)) {
    if (f === 1) k = val.toString('utf8');
    else if (f === 2) v = val;
  }
  return [k, v.toString('utf8')];
}

const FIELD_TYPES = ['PARENT', 'REPEATED', 'LEAF'];

function field(buf) {
  // proto3 defaults for what is absent
  const f = { type: 'PARENT', name: '', id: 0, parentId: 0, logicalType: '', nullable: false,
              metadata: {}, extensionName: '' };
  for (const [n, , v] of pbFields(buf)) {
    if (n === 1) f.type = FIELD_TYPES[Number(v)] ?? `type ${v}`;
    else if (n === 2) f.name = v.toString('utf8');
    else if (n === 3) f.id = int32(v);
    else if (n === 4) f.parentId = int32(v);
    else if (n === 5) f.logicalType = v.toString('utf8');
    else if (n === 6) f.nullable = v !== 0n;
    else if (n === 9) f.extensionName = v.toString('utf8');
    else if (n === 10) { const [k, val] = mapEntry(v); f.metadata[k] = val; }
  }
  return f;
}

// The footer, the FileDescriptor's schema and row count of the Lance file at path.
export function readLanceSchema(path) {
  const b = fs.readFileSync(path);
  if (b.length < 40) throw new Error(`${path}: ${b.length} bytes, smaller than the footer`);
  const foot = b.subarray(b.length - 40);
  if (foot.toString('latin1', 36, 40) !== 'LANC') throw new Error(`${path}: no LANC magic`);
  const gbo = Number(foot.readBigUInt64LE(16));
  const numGlobal = foot.readUInt32LE(24), numColumns = foot.readUInt32LE(28);
  const major = foot.readUInt16LE(32), minor = foot.readUInt16LE(34);
  if (numGlobal < 1) throw new Error(`${path}: no global buffer 0 (the schema)`);
  const pos = Number(b.readBigUInt64LE(gbo)), size = Number(b.readBigUInt64LE(gbo + 8));
  if (pos + size > b.length) throw new Error(`${path}: global buffer 0 lies past the file`);
  let schema = Buffer.alloc(0), length = 0;
  for (const [n, , v] of pbFields(b.subarray(pos, pos + size))) {
    if (n === 1) schema = v;
    else if (n === 2) length = Number(v);
  }
  const fields = [], metadata = {};
  for (const [n, , v] of pbFields(schema)) {
    if (n === 1) fields.push(field(v));
    else if (n === 5) { const [k, val] = mapEntry(v); metadata[k] = val; }
  }
  return { path, major, minor, numColumns, numGlobalBuffers: numGlobal, numRows: length,
           fields, metadata };
}

// The inverse of pbFields: [field number, wire type, value] triples back to bytes.
export function pbEncode(fields) {
  const parts = [];
  const varint = (v) => {
    const out = [];
    v = BigInt.asUintN(64, BigInt(v));
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
    return Buffer.from(out);
  };
  for (const [n, w, v] of fields) {
    parts.push(varint((n << 3) | w));
    if (w === 0) parts.push(varint(v));
    else if (w === 2) parts.push(varint(v.length), v);
    else if (w === 1) { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); parts.push(b); }
    else if (w === 5) { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); }
  }
  return Buffer.concat(parts);
}
