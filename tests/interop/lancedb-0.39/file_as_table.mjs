// LanceDB opens one Lance file as it is: a table LanceDB makes with the file's Arrow schema (one
// placeholder row) gets the file in place of its data file, and its manifest (lancedb/lance
// protos/table.proto: Manifest.fragments = 2, DataFragment.files = 2 and physical_rows = 4,
// DataFile.file_size_bytes = 6, "zero: unknown") is rewritten to the file's rows and an unknown
// size. The file's bytes are not changed, and partifact is not involved: LanceDB reads the
// file's pages by its column indices, under the names of the schema given here (so a file whose
// first column is _rowid, a name LanceDB tables refuse, is read under the name given).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { pbFields, pbEncode } from '../lance_schema.mjs';

// batch: a one-row placeholder of the file's Arrow schema; file: the Lance file; rows: its rows.
// Returns the opened table.
export async function fileAsTable(db, dbDir, name, batch, file, rows) {
  await db.createTable(name, new arrow.Table([batch]), { mode: 'create' });
  const dir = `${dbDir}/${name}.lance`;
  const data = fs.readdirSync(`${dir}/data`);
  const versions = fs.readdirSync(`${dir}/_versions`).filter((f) => f.endsWith('.manifest'));
  if (data.length !== 1 || versions.length !== 1) throw new Error(`${name}: ${data.length} data files, ${versions.length} versions`);
  fs.copyFileSync(file, path.join(`${dir}/data`, data[0]));
  const mpath = `${dir}/_versions/${versions[0]}`;
  const m = fs.readFileSync(mpath);
  const pos = Number(m.readBigUInt64LE(m.length - 16)), len = m.readUInt32LE(pos);
  const patched = pbFields(m.subarray(pos + 4, pos + 4 + len)).map(([n, w, v]) => {
    if (n !== 2) return [n, w, v];
    const frag = pbFields(v).map(([fn, fw, fv]) => {
      if (fn === 4) return [fn, fw, BigInt(rows)];                 // physical_rows
      if (fn === 5 || fn === 6) throw new Error(`${name}: the fragment has a row id sequence`);
      if (fn !== 2) return [fn, fw, fv];
      return [fn, fw, pbEncode(pbFields(fv).filter(([dn]) => dn !== 6))];   // size unknown
    });
    return [n, w, pbEncode(frag)];
  });
  const msg = pbEncode(patched);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(msg.length);
  fs.writeFileSync(mpath, Buffer.concat([m.subarray(0, pos), head, msg, m.subarray(m.length - 16)]));
  return db.openTable(name);
}
