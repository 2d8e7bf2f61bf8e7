# Shared by the output tests (tests/cli/outputs_cli.sh, tests/fault/diskfull.sh): the commands
# that write an output, their inputs, and a checksum of a tree. Needs $PA.
# writer_inputs ROWS QUERIES: v.fvecs, q.fvecs, m.lance, artifact a, index idx, rows.lance here.
writer_inputs() {
  "$PA" gen-vectors --out v.fvecs --rows "$1" --dim 16 --clusters 8 >/dev/null
  "$PA" gen-vectors --out q.fvecs --rows "$2" --dim 16 --clusters 8 --first-row 100000 >/dev/null
  "$PA" train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out m.lance >/dev/null
  "$PA" encode --input v.fvecs --model m.lance --out a >/dev/null
  "$PA" finalize --artifact a --out idx >/dev/null
  "$PA" export-rows --artifact a --out rows.lance >/dev/null
}
# set_writers SPILL: WRITERS, one "name|kind|command" per command that writes, OUT standing for
# its output, kind "dir" for a directory output; finalize --rows spills to SPILL.
set_writers() {
  WRITERS=(
    "train|file|$PA train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out OUT"
    "encode|dir|$PA encode --input v.fvecs --model m.lance --out OUT"
    "finalize|dir|$PA finalize --artifact a --out OUT"
    "finalize|dir|$PA finalize --rows rows.lance --model m.lance --out OUT --memory 64KiB --tmp $1"
    "build|dir|$PA build --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out OUT"
    "groundtruth|file|$PA groundtruth --input v.fvecs --queries q.fvecs -k 10 --out OUT"
    "search|file|$PA search --index idx --queries q.fvecs --out OUT"
    "export-rows|file|$PA export-rows --artifact a --out OUT"
    "gen-vectors|file|$PA gen-vectors --out OUT --rows 3000 --dim 16"
    "lance-gen|file|$PA lance-gen --out OUT --rows 3000 --dim 16"
    "artifact-gen|dir|$PA artifact-gen --out OUT --rows 30000 --partitions 8"
  )
}
# every path under $1 with its type, size, mode and link target, and every file's bytes
tree_sum() {
  (cd "$1" && find . -printf '%p %y %s %m %l\n' | LC_ALL=C sort && find . -type f -print0 |
   LC_ALL=C sort -z | xargs -0r sha256sum)
}
