// LanceDB builds its own IVF_PQ index on a table's vector column under a given name.
// Usage: node lancedb_create_index.mjs LANCEDB_DIR T.lance NAME PARTITIONS SUB_VECTORS
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const [dir, t, name, P, M] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const tb = await (await lancedb.connect(path.dirname(t))).openTable(path.basename(t, '.lance'));
await tb.createIndex('vector', {name, config: lancedb.Index.ivfPq({numPartitions: Number(P),
                                                                    numSubVectors: Number(M)})});
console.log(`LanceDB indexed ${t} as ${name}: version ${await tb.version()}`);
