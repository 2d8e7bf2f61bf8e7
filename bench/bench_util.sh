# Helpers shared by the benchmark scripts (sourced).
# peak FILE: the peak RSS in KiB from a `/usr/bin/time -v -o FILE` report.
peak() { awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$1"; }
# busy_start N: N CPU-bound busy loops (shell `while :`, nice 0) beside the process measured,
# their ids in BUSY_PIDS; busy_stop kills them (by id) and waits for them.
BUSY_PIDS=()
busy_start() {
  local i
  for ((i = 0; i < $1; i++)); do
    nice -n 0 bash -c 'while :; do :; done' &
    BUSY_PIDS+=($!)
  done
}
busy_stop() {
  local p
  for p in "${BUSY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BUSY_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  BUSY_PIDS=()
}
