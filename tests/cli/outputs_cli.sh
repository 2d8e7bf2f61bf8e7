#!/usr/bin/env bash
# How every command that writes creates its output (README, Reliability):
#  - an existing output is refused without --force (exit 2, one line naming it, the old output
#    byte-identical), and replaced with it by a rename (a new inode; the same bytes a fresh run
#    writes), leaving no temporary file or work directory behind;
#  - an output that is an input (the same file, a directory holding one, a path inside an input
#    directory) is refused, even with --force;
#  - symbolic links and foreign directories planted in every output path partifact uses (the
#    output itself, its temporary names, the work directories beside it, --work-dir) are
#    neither written through nor removed: a sentinel tree they point into is unchanged;
#  - the work directories and temporary files of killed runs are removed by the next run when
#    they hold partifact's unlocked marker, whatever pid their name carries (pid 1 included).
PA=$1; T=$2
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/writers.sh"
cd "$T" || exit 1
export OMP_NUM_THREADS=1
# exact one-line stderr and exit 2
expect_line() {
  local want=$1; shift
  "$@" >out 2>err; local rc=$?
  if [ "$rc" -eq 2 ] && [ "$(cat err)" = "$want" ]; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL: $* -> rc=$rc, expected 2 and: $want"; cat err; fi
}
leftovers() { ls -a | grep -e 'partifact-tmp' -e '\.partial-' -e '\.build-' | grep -v -e foreign -e fake -e link; }

writer_inputs 2000 50
set_writers .

# 1. existing outputs: refused without --force, replaced atomically with it
i=0
for c in "${WRITERS[@]}"; do
  i=$((i+1)); name=${c%%|*}; rest=${c#*|}; kind=${rest%%|*}; cmd=${rest#*|}
  o=o$i; [ "$name" = groundtruth ] || [ "$name" = search ] && o=o$i.ivecs
  expect_exit 0 ${cmd//OUT/$o}
  before=$(tree_sum . | grep " ./$o")
  ino=$(stat -c %i "$o")
  expect_line "partifact $name: $o: already exists, and replacing it was not asked for (--force replaces it)" ${cmd//OUT/$o}
  [ "$(tree_sum . | grep " ./$o")" = "$before" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name: refused run changed $o"; }
  expect_exit 0 ${cmd//OUT/$o} --force
  [ "$(tree_sum . | grep " ./$o")" = "$before" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name --force: $o differs from a fresh run's"; }
  [ "$(stat -c %i "$o")" != "$ino" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name --force: $o was written in place (same inode)"; }
  [ -z "$(leftovers)" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name left: $(leftovers)"; }
done
expect_exit 0 "$PA" verify o2
expect_exit 0 "$PA" index-info o3

# 2. an output that is an input is refused, even with --force, and the input is unchanged
mkdir -p d && cp m.lance d/m.lance
inputs_before=$(tree_sum . | grep -e ' ./v.fvecs' -e ' ./q.fvecs' -e ' ./a' -e ' ./d' -e ' ./idx')
expect_line "partifact train: v.fvecs: the output is also an input of this command (v.fvecs); an output never replaces its input" \
  "$PA" train --input v.fvecs --partitions 8 --sub-vectors 4 --out v.fvecs --force
expect_line "partifact groundtruth: q.fvecs: the output is also an input of this command (q.fvecs); an output never replaces its input" \
  "$PA" groundtruth --input v.fvecs --queries q.fvecs -k 10 --out q.fvecs --force
expect_line "partifact search: q.fvecs: the output is also an input of this command (q.fvecs); an output never replaces its input" \
  "$PA" search --index idx --queries q.fvecs --out q.fvecs --force
expect_line "partifact export-rows: a/partitions/bucket-00000.lance: the output lies inside an input of this command (a); an output never replaces its input" \
  "$PA" export-rows --artifact a --out a/partitions/bucket-00000.lance --force
expect_line "partifact finalize: a: the output is also an input of this command (a); an output never replaces its input" \
  "$PA" finalize --artifact a --out a --force
expect_line "partifact encode: d: the output directory holds an input of this command (d/m.lance); an output never replaces its input" \
  "$PA" encode --input v.fvecs --model d/m.lance --out d --force
expect_line "partifact build: idx: the output directory holds an input of this command (idx/auxiliary.idx); an output never replaces its input" \
  "$PA" build --input idx/auxiliary.idx --out idx --force
[ "$(tree_sum . | grep -e ' ./v.fvecs' -e ' ./q.fvecs' -e ' ./a' -e ' ./d' -e ' ./idx')" = "$inputs_before" ] &&
  pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: a refused output changed an input"; }

# 3. symlinks and foreign directories in every output path; a sentinel tree they point into
mkdir -p S/dir && echo keep >S/file && echo keep >S/dir/inside && cp -r idx S/idx && cp -r a S/art
touch S/dir/index.idx S/dir/manifest.json # it even looks like an index and an artifact
sentinel=$(tree_sum S)
i=0
for c in "${WRITERS[@]}"; do
  i=$((i+1)); name=${c%%|*}; rest=${c#*|}; kind=${rest%%|*}; cmd=${rest#*|}
  o=p$i; [ "$name" = groundtruth ] || [ "$name" = search ] && o=p$i.ivecs
  # the output itself a link (to a file, and to a directory of its kind)
  for target in S/file S/dir S/idx S/art; do
    ln -sfn "$PWD/$target" "$o"
    expect_line "partifact $name: $o: the output is a symbolic link; partifact neither writes through it nor replaces it" ${cmd//OUT/$o} --force
    rm -f "$o"
  done
  # a foreign directory in its place, with links where partifact's files would go
  mkdir "$o" && echo mine >"$o/notes"
  for f in partitions artifact; do ln -s "$PWD/S/dir" "$o/$f"; done
  for f in manifest.json.tmp index.idx auxiliary.idx model.lance bucket-00000.lance; do
    ln -s "$PWD/S/file" "$o/$f"; done
  mine=$(tree_sum "$o")
  if [ "$kind" = dir ]; then
    k=index.idx; [ "$name" = encode ] || [ "$name" = artifact-gen ] && k=manifest.json
    expect_line "partifact $name: $o: already exists, and replacing it was not asked for (--force replaces it)" ${cmd//OUT/$o}
    expect_line "partifact $name: $o: exists and holds no $k, so it is not an output of this kind; it is not replaced" ${cmd//OUT/$o} --force
  else
    expect_line "partifact $name: $o: exists and is not a regular file; an output file replaces only a regular file" ${cmd//OUT/$o}
    expect_line "partifact $name: $o: exists and is not a regular file; an output file replaces only a regular file" ${cmd//OUT/$o} --force
  fi
  [ "$(tree_sum "$o")" = "$mine" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name wrote into the foreign $o"; }
  rm -rf "$o"
  # links and foreign directories at the work directory names beside it, and links at its
  # temporary names (the pid is known: the command is exec'd by this subshell)
  mkdir "$o.partial-foreign" "$o.build-foreign" "$o.partial-fake"
  echo mine >"$o.partial-foreign/f"; echo mine >"$o.build-foreign/f"
  echo "not partifact's" >"$o.partial-fake/.partifact-work"
  ln -s "$PWD/S/dir" "$o.partial-link"; ln -s "$PWD/S/dir" "$o.build-link"
  ( pid=$BASHPID
    for n in 0 1 2 3; do ln -s "$PWD/S/file" ".$o.partifact-tmp-$pid-$n"; done
    exec ${cmd//OUT/$o} ) >out 2>err
  rc=$?
  [ $rc -eq 0 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name with planted links: rc=$rc"; cat err; }
  for x in "$o.partial-foreign/f" "$o.build-foreign/f"; do
    [ "$(cat "$x")" = mine ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name touched $x"; }
  done
  [ -L "$o.partial-link" ] && [ -L "$o.build-link" ] && [ -f "$o.partial-fake/.partifact-work" ] &&
    pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: $name removed a planted link or directory"; }
  rm -rf "$o" "$o".partial-* "$o".build-* ."$o".partifact-tmp-*
done
# build's --work-dir: an existing directory or a link is never used
mkdir wd && echo mine >wd/f && ln -s "$PWD/S/dir" wdl
expect_line "partifact build: wd: already exists; a work directory is always a new one, made by the run that uses it" \
  "$PA" build --input v.fvecs --partitions 8 --sub-vectors 4 --out bw --work-dir wd
expect_line "partifact build: wdl: already exists; a work directory is always a new one, made by the run that uses it" \
  "$PA" build --input v.fvecs --partitions 8 --sub-vectors 4 --out bw --work-dir wdl
[ "$(ls -A wd)" = f ] && [ ! -e bw ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: build used an existing --work-dir"; }
# finalize --rows spills into --tmp: a link there is not followed either
expect_exit 0 "$PA" finalize --rows rows.lance --model m.lance --out sp --memory 64KiB --tmp S/dir
[ "$(tree_sum S)" = "$sentinel" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: the sentinel tree changed:"; diff <(echo "$sentinel") <(tree_sum S); }

# 4. killed runs' leftovers: removed by the next run when partifact's marker is unlocked,
#    whatever pid the name carries (every container run is pid 1)
marker="partifact work directory; removed by the next run once unlocked"
for w in k.partial-1 k.partial-1abcde; do mkdir "$w" && printf '%s\n' "$marker" >"$w/.partifact-work" && echo x >"$w/aux"; done
mkdir kb.build-1 && printf '%s\n' "$marker" >kb.build-1/.partifact-work
printf 'half a model' >.km.lance.partifact-tmp-1-0
expect_exit 0 "$PA" finalize --artifact a --out k
expect_exit 0 "$PA" build --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out kb
expect_exit 0 "$PA" train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out km.lance
# a killed run whose pid the rerun has (the rerun is exec'd by a subshell whose pid is known)
( pid=$BASHPID
  for w in kp.partial-$pid kpb.build-$pid; do mkdir "$w" && printf '%s\n' "$marker" >"$w/.partifact-work"; done
  exec "$PA" finalize --artifact a --out kp ) >out 2>err
rc=$?; [ $rc -eq 0 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: a rerun with the killed run's pid: rc=$rc"; cat err; }
( pid=$BASHPID
  mkdir "kpb.build-$pid" && printf '%s\n' "$marker" >"kpb.build-$pid/.partifact-work"
  exec "$PA" build --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out kpb ) >out 2>err
rc=$?; [ $rc -eq 0 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: a build rerun with the killed run's pid: rc=$rc"; cat err; }
# a foreign directory with the name a build of this pid would once have used, with a link
# where the model would go: neither used nor removed, nothing written through the link
( pid=$BASHPID
  mkdir "kf.build-$pid" "kf.partial-$pid" && echo mine >"kf.build-$pid/notes"
  ln -s "$PWD/S/file" "kf.build-$pid/model.lance"; ln -s "$PWD/S/dir" "kf.build-$pid/artifact"
  ln -s "$PWD/S/file" "kf.partial-$pid/index.idx"
  exec "$PA" build --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out kf ) >out 2>err
rc=$?; [ $rc -eq 0 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: build beside a foreign work directory: rc=$rc"; cat err; }
[ "$(ls -A kf.build-* | sort | tr '\n' ' ')" = "artifact model.lance notes " ] && [ -L kf.partial-*/index.idx ] &&
  [ "$(tree_sum S)" = "$sentinel" ] && pass=$((pass+1)) ||
  { fail=$((fail+1)); echo "FAIL: build used or removed a foreign work directory, or wrote through its links"; ls -la kf.*; }
left=$(ls -a | grep -e '^k\.partial-' -e '^kb\.build-' -e '^\.km\.lance\.partifact-tmp' -e '^kp\.partial-' -e '^kpb\.build-')
[ -z "$left" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: leftovers of killed runs stayed: $left"; }
finish
