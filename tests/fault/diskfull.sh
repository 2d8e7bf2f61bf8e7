#!/usr/bin/env bash
# Disk full while replacing an output: for every command that writes, an output is made on a
# small tmpfs mounted here, the tmpfs is filled, and the command is run again with --force. It
# must fail (exit 1, an I/O failure; one line naming the error), leave the old output byte-identical, and leave
# no temporary file or work directory behind; once there is room, --force replaces it.
# Needs root (mount); skipped with a message, exit 77, where mounting is not permitted.
PA=$1; T=$2
rm -rf "$T"; mkdir -p "$T/mnt"
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../cli/writers.sh"
cd "$T" || exit 1
if ! mount -t tmpfs -o size=6m tmpfs "$T/mnt" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (mount needs root); the disk-full test did not run"
  exit 77
fi
trap 'umount "$T/mnt"' EXIT
export OMP_NUM_THREADS=1
leftovers() { ls -A mnt | grep -e 'partifact-tmp' -e '\.partial-' -e '\.build-'; }
fill() { dd if=/dev/zero of=mnt/fill bs=64k 2>/dev/null; dd if=/dev/zero of=mnt/fill2 bs=4k 2>/dev/null; }

writer_inputs 3000 200 # outside the tmpfs
set_writers "$T"
i=0
for c in "${WRITERS[@]}"; do
  i=$((i+1)); name=${c%%|*}; cmd=${c#*|}; cmd=${cmd#*|}
  o=mnt/o$i; [ "$name" = groundtruth ] || [ "$name" = search ] && o=mnt/o$i.ivecs
  expect_exit 0 ${cmd//OUT/$o}
  before=$(tree_sum mnt | grep " ./${o#mnt/}")
  fill
  ${cmd//OUT/$o} --force >out 2>err; rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "No space left on device" err; then
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
echo "disk-full replacements: ${#WRITERS[@]} commands"
finish
