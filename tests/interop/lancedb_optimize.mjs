// LanceDB compacts a table (optimize(): fragments rewritten, indexes remapped or merged);
// prints the version it ends at, or the error it stopped with.
// Usage: node lancedb_optimize.mjs LANCEDB_DIR T.lance
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const [dir, t] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(dir), 'package.json'));
const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
const tb = await (await lancedb.connect(path.dirname(t))).openTable(path.basename(t, '.lance'));
try { await tb.optimize(); console.log(`optimized: version ${await tb.version()}`); }
catch (e) { console.log(`optimize failed: ${e.message}`); process.exit(1); }
