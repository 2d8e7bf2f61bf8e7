#!/usr/bin/env bash
# Runs every entry of the bad-input catalogue (catalogue.tsv): makes the bad inputs (make.sh)
# in SCRATCH, runs each entry's command and checks that it exits with the expected code and
# prints exactly the expected single line on stderr (and, for commands writing to $D/out/CASE,
# that no manifest.json was left there). In the catalogue, $PA stands for the
# partifact binary, $D for SCRATCH and $F for tests/bad-inputs/files.
#   run.sh PARTIFACT SCRATCH            check every entry
#   run.sh PARTIFACT SCRATCH --print    print the catalogue as the program behaves now
#   run.sh PARTIFACT SCRATCH --markdown print docs/bad-inputs.md from the catalogue
set -uo pipefail
PA=$1; D=$2; MODE=${3:-check}
HERE=$(cd "$(dirname "$0")" && pwd); F=$HERE/files; CAT=$HERE/catalogue.tsv
if [ "$MODE" = --markdown ]; then
  echo "# Bad-input catalogue"
  echo
  echo "Generated from \`tests/bad-inputs/catalogue.tsv\` by \`tests/bad-inputs/run.sh PA DIR --markdown\`;"
  echo "every row is a test (ctest \`bad_inputs\`): the command must exit 2 and print exactly this one"
  echo "line on stderr. \`\$D\` is the directory \`tests/bad-inputs/make.sh\` fills with the damaged files"
  echo "(made from good ones partifact writes), \`\$F\` is \`tests/bad-inputs/files/\` (files LanceDB wrote)."
  echo
  echo "| case | command | exit | stderr |"
  echo "|---|---|---|---|"
  while IFS=$'\t' read -r name cmd code want; do
    case $name in ''|'#'*|case) continue;; esac
    cmd=${cmd//\$PA/partifact}
    printf '| %s | `%s` | %s | `%s` |\n' "$name" "${cmd//|/\\|}" "$code" "${want//|/\\|}"
  done < "$CAT"
  exit 0
fi
"$HERE/make.sh" "$PA" "$D" >/dev/null || { echo "make.sh failed"; exit 1; }
sub() { local s=$1; s=${s//\$PA/$PA}; s=${s//\$D/$D}; s=${s//\$F/$F}; printf '%s' "$s"; }
unsub() { local s=$1; s=${s//$D/\$D}; s=${s//$F/\$F}; printf '%s' "$s"; }
pass=0; fail=0; n=0
[ "$MODE" = --print ] && printf 'case\tcommand\texit\tstderr\n'
while IFS=$'\t' read -r name cmd code want; do
  case $name in ''|'#'*|case) continue;; esac
  n=$((n+1))
  eval "$(sub "$cmd")" >"$D/.out" 2>"$D/.err"; rc=$?
  got=$(cat "$D/.err"); lines=$(wc -l <"$D/.err")
  if [ "$MODE" = --print ]; then
    printf '%s\t%s\t%s\t%s\n' "$name" "$cmd" "$rc" "$(unsub "$got")"; continue
  fi
  exp=$(sub "$want")
  # a refused command leaves nothing that looks complete where its output would have gone
  left=""; [ -e "$D/out/$name/manifest.json" ] && left="$D/out/$name/manifest.json"
  if [ "$rc" = "$code" ] && [ "$lines" -eq 1 ] && [ "$got" = "$exp" ] && [ -z "$left" ]; then
    pass=$((pass+1))
  else
    fail=$((fail+1))
    echo "FAIL $name: $(sub "$cmd")"
    echo "  expected exit $code and: $exp"
    echo "  got exit $rc, $lines lines: $got"
    [ -n "$left" ] && echo "  and it left $left behind"
  fi
done < "$CAT"
[ "$MODE" = --print ] && exit 0
# docs/bad-inputs.md is the catalogue as a table, and must match it
if ! "$0" "$PA" "$D" --markdown | cmp -s - "$HERE/../../docs/bad-inputs.md"; then
  fail=$((fail+1)); echo "FAIL: docs/bad-inputs.md does not match catalogue.tsv (regenerate with --markdown)"
fi
echo "bad inputs: $n entries, $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$n" -gt 0 ]
