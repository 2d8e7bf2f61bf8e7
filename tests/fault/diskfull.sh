#!/usr/bin/env bash
# Disk full while replacing an output: for every command that writes, an output is made on a
# small tmpfs mounted here, the tmpfs is filled, and the command is run again with --force. It
# must fail (exit 2, one line naming the error), leave the old output byte-identical, and leave
# no temporary file or work directory behind; once there is room, --force replaces it.
# Needs root (mount); skipped with a message, exit 77, where mounting is not permitted.
PA=$1; T=$2
rm -rf "$T"; mkdir -p "$T/mnt"
. "$(dirname "$0")/../cli/lib.sh"
cd "$T" || exit 1
if ! mount -t tmpfs -o size=6m tmpfs "$T/mnt" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (mount needs root); the disk-full test did not run"
  exit 77
fi
trap 'umount "$T/mnt"' EXIT
export OMP_NUM_THREADS=1
tree_sum() { (cd "$1" && find . -printf '%p %y %s %m %l\n' | LC_ALL=C sort && find . -type f -print0 |
              LC_ALL=C sort -z | xargs -0r sha256sum); }
leftovers() { ls -A mnt | grep -e 'partifact-tmp' -e '\.partial-' -e '\.build-'; }
fill() { dd if=/dev/zero of=mnt/fill bs=64k 2>/dev/null; dd if=/dev/zero of=mnt/fill2 bs=4k 2>/dev/null; }

# inputs, outside the tmpfs
"$PA" gen-vectors --out v.fvecs --rows 3000 --dim 16 --clusters 8 >/dev/null
"$PA" gen-vectors --out q.fvecs --rows 200 --dim 16 --clusters 8 --first-row 100000 >/dev/null
"$PA" train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out m.lance >/dev/null
"$PA" encode --input v.fvecs --model m.lance --out a >/dev/null
"$PA" finalize --artifact a --out idx >/dev/null
"$PA" export-rows --artifact a --out rows.lance >/dev/null

cmds=(
  "train|$PA train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out OUT"
  "encode|$PA encode --input v.fvecs --model m.lance --out OUT"
  "finalize|$PA finalize --artifact a --out OUT"
  "finalize|$PA finalize --rows rows.lance --model m.lance --out OUT --memory 64KiB --tmp $T"
  "build|$PA build --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out OUT"
  "groundtruth|$PA groundtruth --input v.fvecs --queries q.fvecs -k 10 --out OUT"
  "search|$PA search --index idx --queries q.fvecs --out OUT"
  "export-rows|$PA export-rows --artifact a --out OUT"
  "gen-vectors|$PA gen-vectors --out OUT --rows 3000 --dim 16"
  "lance-gen|$PA lance-gen --out OUT --rows 3000 --dim 16"
  "artifact-gen|$PA artifact-gen --out OUT --rows 30000 --partitions 8"
)
i=0
for c in "${cmds[@]}"; do
  i=$((i+1)); name=${c%%|*}; cmd=${c#*|}
  o=mnt/o$i; [ "$name" = groundtruth ] || [ "$name" = search ] && o=mnt/o$i.ivecs
  expect_exit 0 ${cmd//OUT/$o}
  before=$(tree_sum mnt | grep " ./${o#mnt/}")
  fill
  ${cmd//OUT/$o} --force >out 2>err; rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "No space left on device" err; then
    pass=$((pass+1))
  else
    fail=$((fail+1)); echo "FAIL: $name --force on a full disk: rc=$rc, expected 2 and one line with ENOSPC"; cat err
  fi
  [ "$(tree_sum mnt | grep " ./${o#mnt/}")" = "$before" ] && pass=$((pass+1)) ||
    { fail=$((fail+1)); echo "FAIL: $name: the old $o did not survive the full disk byte-identical"; }
  [ -z "$(leftovers)" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name left on the full disk: $(leftovers)"; }
  rm -f mnt/fill mnt/fill2
  expect_exit 0 ${cmd//OUT/$o} --force # with room again, it is replaced (here: renameat2 on tmpfs)
  [ -z "$(leftovers)" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name --force left: $(leftovers)"; }
  rm -rf "$o"
done
echo "disk-full replacements: ${#cmds[@]} commands"
finish
