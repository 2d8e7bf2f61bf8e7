// Prints the values of a uint64 .npy array (as partifact and lancedb_*.mjs write ground truth
// and results), one a line.
// Usage: node npy_ids.mjs FILE.npy
import {readIdsNpy} from './npy.mjs';
const ids = readIdsNpy(process.argv[2]);
process.stdout.write(ids.join('\n') + (ids.length ? '\n' : ''));
