# Helpers for CLI tests: expect_exit CODE CMD... ; expect_err CODE SUBSTRING CMD...
pass=0; fail=0
expect_exit() {
  local want=$1; shift
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $* exited $rc, expected $want"; cat "$T/err"; fi
}
# The command must exit with CODE and print exactly one line on stderr containing SUBSTRING.
expect_err() {
  local want=$1 sub=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -- "$sub" "$T/err"; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL: $* -> rc=$rc lines=$lines, expected rc=$want and one line with: $sub"; cat "$T/err"; fi
}
expect_out() {
  local sub=$1; shift
  if grep -qF -- "$sub" "$T/out"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: stdout lacks: $sub"; cat "$T/out"; fi
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
# put_hex FILE OFFSET HEX: overwrites the bytes at OFFSET with HEX (damaged inputs)
put_hex() { printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
