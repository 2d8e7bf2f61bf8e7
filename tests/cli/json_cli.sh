#!/usr/bin/env bash
# Every JSON partifact writes is valid JSON with the exact values back, for paths and names
# holding quotes, backslashes, control characters and non-ASCII: the artifact's manifest.json,
# the index files' partifact:index / partifact:source records (read back by commit, which
# parses them), table-info --json (the library's text) and the CLI's --json summaries. Each is
# parsed by a strict parser (Python's json: no control characters in strings, no NaN, no
# duplicate keys) and must hold the nasty strings as values, byte for byte.
PA=$1; T=$2
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../bad-inputs/files" && pwd)/table-d8.lance
W=$(printf 'we"ird \\ dir\t\001\037 caf\303\251 \342\202\254 \360\237\230\200')
D="$T/$W"
mkdir -p "$D"
# the table, copied under the nasty directory, its vector column renamed in every file to a
# name of the same length (6 bytes) holding a quote, a backslash, a tab and a non-ASCII letter
COL=$(printf 'v"\\\303\251\t')
cp -r "$SRC" "$D/t.lance"
python3 - "$D/t.lance" <<'EOF'
import os, sys
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        b = open(p, 'rb').read()
        open(p, 'wb').write(b.replace(b'vector', b'v"\\\xc3\xa9\t'))
EOF
# jcheck FILE WANT...: FILE is one strict JSON document holding every WANT as a string value
jcheck() {
  local file=$1; shift
  if python3 - "$file" "$@" <<'EOF'
import json, sys
def pairs(kv):
    keys = [k for k, _ in kv]
    if len(keys) != len(set(keys)):
        raise ValueError('duplicate key')
    return dict(kv)
def bad_constant(c):
    raise ValueError('not JSON: ' + c)
text = open(sys.argv[1], 'rb').read().decode('utf-8')
doc = json.loads(text, object_pairs_hook=pairs, parse_constant=bad_constant)
found = set()
def walk(v):
    if isinstance(v, str):
        found.add(v)
    elif isinstance(v, dict):
        for k, x in v.items():
            found.add(k)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(doc)
want = [w.encode('utf-8', 'surrogateescape').decode('utf-8') for w in sys.argv[2:]]
missing = [w for w in want if w not in found]
if missing:
    print('missing values: %r' % missing)
    sys.exit(1)
EOF
  then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $file is not valid JSON holding: $*"; head -c 600 "$file"; echo; fi
}
# jout CMD...: runs CMD (exit 0 expected), keeps its stdout as $T/j.json
jout() { expect_exit 0 "$@"; cp "$T/out" "$T/j.json"; }

jout "$PA" train --input "$D/t.lance" --column "$COL" --out "$D/m.lance" --partitions 4 \
  --sub-vectors 2 --max-iters 3 --json
jcheck "$T/j.json" "$D/t.lance" "$D/m.lance"
jout "$PA" encode --input "$D/t.lance" --column "$COL" --model "$D/m.lance" --out "$D/art" --json
jcheck "$T/j.json" "$D/art"
jcheck "$D/art/manifest.json" "$D/m.lance" # the model's path, recorded as given
jout "$PA" verify "$D/art" --json
jcheck "$T/j.json"
jout "$PA" inspect "$D/art" --json
jcheck "$T/j.json"
jout "$PA" finalize --artifact "$D/art" --model "$D/m.lance" --out "$D/idx" --json
jcheck "$T/j.json" "$D/idx"
jout "$PA" index-info "$D/idx" --json
jcheck "$T/j.json" "$D/idx"
jout "$PA" lance-info "$D/m.lance" --json
jcheck "$T/j.json" "$D/m.lance"
jout "$PA" table-info "$D/t.lance" --json
jcheck "$T/j.json" "$COL" "$(cd "$D/t.lance" && pwd -P)"
# build from the table records the table's path and the column in partifact:source; commit
# parses it and checks it against the table
jout "$PA" build --input "$D/t.lance" --column "$COL" --out "$D/idx2" --partitions 4 \
  --sub-vectors 2 --max-iters 3 --json
jcheck "$T/j.json" "$D/idx2"
jout "$PA" commit --index "$D/idx2" --table "$D/t.lance" --name "n\"a\\me" --json
jcheck "$T/j.json" "$D/t.lance" "n\"a\\me"
jout "$PA" table-info "$D/t.lance" --json
jcheck "$T/j.json" "n\"a\\me" "$COL"
jout "$PA" lance-info "$D/t.lance/_indices/$(ls "$D/t.lance/_indices")/index.idx" --json
jcheck "$T/j.json" "partifact:index" "partifact:source"
jout "$PA" search --index "$D/idx2" --queries "$D/t.lance" --column "$COL" -k 5 --nprobes 2 --json
jcheck "$T/j.json"
jout "$PA" groundtruth --input "$D/t.lance" --queries "$D/t.lance" --column "$COL" -k 5 \
  --out "$D/gt.npy" --json
jcheck "$T/j.json" "$D/gt.npy"
# artifact-gen --json printed its path unescaped on the branch-start binary
jout "$PA" artifact-gen --out "$D/gen" --rows 1000 --partitions 4 --json
jcheck "$T/j.json" "$D/gen"
jout "$PA" inspect "$D/gen" --ranges --read --json
jcheck "$T/j.json"
jout "$PA" export-rows --artifact "$D/art" --out "$D/rows.lance" --json
jcheck "$T/j.json" "$D/rows.lance"
jout "$PA" --version --json
jcheck "$T/j.json"
jout "$PA" lance-gen --out "$D/g.lance" --rows 100 --dim 4 --json
jcheck "$T/j.json" "$D/g.lance"
# a table under a directory whose name is not UTF-8: table-info still describes it, showing
# the byte it cannot hold as U+FFFD (it used to drop the "table" member)
B="$T/bad$(printf '\377')dir"
mkdir -p "$B" && cp -r "$SRC" "$B/t.lance"
jout "$PA" table-info "$B/t.lance" --json
jcheck "$T/j.json" "$(cd "$T" && pwd -P)/bad$(printf '\357\277\275')dir/t.lance"
finish
