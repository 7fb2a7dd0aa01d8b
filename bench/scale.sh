#!/usr/bin/env bash
# scale.sh measures what logsift costs while its files are idle, and how
# that grows with the number of files: CPU (share of one core), RSS and
# open descriptors after a warm-up, for 1, 100 and 1,000 followed files,
# beside `tail -F` following the same files (GNU tail, inotify) as the
# reference measured in the same run. Then 50 MiB written as one line to a
# followed file: logsift's peak RSS and whether the bytes came out exact.
#
# Environment:
#   SCALE_FILES  file counts (default "1 100 1000")
#   IDLE         seconds measured per count (default 60)
#   LOGSIFT      binary (default: builds bin/logsift)
#   SCALE_WRITE  1 writes the table into BENCHMARKS.md (default 1 unless
#                SCALE_FILES or LOGSIFT is given)
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE_FILES_GIVEN=${SCALE_FILES:-}
SCALE_FILES=${SCALE_FILES:-1 100 1000}
IDLE=${IDLE:-60}
GO=${GO:-go}
if [[ -n $SCALE_FILES_GIVEN || -n ${LOGSIFT:-} ]]; then
	SCALE_WRITE=${SCALE_WRITE:-0}
else
	SCALE_WRITE=${SCALE_WRITE:-1}
fi
if [[ -n ${LOGSIFT:-} ]]; then
	logsift=$LOGSIFT
else
	echo "building bin/logsift"
	"$GO" build -o bin/logsift ./cmd/logsift
	logsift=bin/logsift
fi
command -v tail >/dev/null || { echo "scale: tail missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
ticks=$(getconf CLK_TCK)

# cpu_ticks PID prints utime+stime of PID in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

# idle LABEL PID: measures PID for IDLE seconds after a 5 s warm-up and
# appends a row.
rows=()
idle() {
	local label=$1 pid=$2 n=$3
	sleep 5
	local c0 c1
	c0=$(cpu_ticks "$pid")
	sleep "$IDLE"
	c1=$(cpu_ticks "$pid")
	local cpu
	cpu=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" -v s="$IDLE" 'BEGIN {printf "%.2f", (b - a) / t / s * 100}')
	rows+=("| $n | $label | $cpu % | $(( $(rss_kib "$pid") / 1024 )) | $(fds "$pid") |")
	echo "  $n files, $label: $cpu % of a core, $(( $(rss_kib "$pid") / 1024 )) MiB RSS, $(fds "$pid") descriptors"
}

for n in $SCALE_FILES; do
	dir=$work/logs-$n
	mkdir -p "$dir"
	for ((i = 0; i < n; i++)); do
		printf 'INFO:werkzeug:127.0.0.1 - - [25/Nov/2026 21:44:28] "GET / HTTP/1.1" 200 -\n' >"$dir/app$i.log"
	done
	cat >"$work/$n.yaml" <<YAML
inputs: [{name: idle, paths: ["$dir/*.log"], start_at: end}]
outputs: [{type: file, path: "$work/$n.out"}]
positions: {path: "$work/$n.positions.json"}
metrics: {listen: ""}
YAML
	"$logsift" run -config "$work/$n.yaml" 2>"$work/$n.err" &
	pids+=($!)
	idle logsift $! "$n"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
	tail -q -F "$dir"/*.log >/dev/null 2>&1 &
	pids+=($!)
	idle "tail -F" $! "$n"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done

# Load: LOAD_FILES files each written LOAD_RATE lines a second for
# LOAD_FOR seconds; logsift's CPU per line against one file at the same
# rate, and how far behind it is when the writer stops (the lag).
"$GO" build -o "$work/writer" ./bench/writer
load_rows=()
load() {
	local n=$1 rate=$2 dir=$work/load-$1
	mkdir -p "$dir"
	for ((i = 0; i < n; i++)); do : >"$dir/app$i.log"; done
	cat >"$work/load$n.yaml" <<YAML
inputs: [{name: load, paths: ["$dir/*.log"], start_at: beginning}]
outputs: [{type: file, path: "$work/load$n.out"}]
positions: {path: "$work/load$n.positions.json"}
metrics: {listen: ""}
YAML
	"$logsift" run -config "$work/load$n.yaml" 2>"$work/load$n.err" &
	local lp=$!
	pids+=($lp)
	sleep 2
	local c0 c1 lines t_end lag
	c0=$(cpu_ticks "$lp")
	lines=$("$work/writer" -dir "$dir" -files "$n" -rate "$rate" -for "${LOAD_FOR}s")
	t_end=$EPOCHREALTIME
	for _ in $(seq 6000); do
		(( $(wc -l <"$work/load$n.out") >= lines )) && break
		sleep 0.01
	done
	lag=$(awk -v a="$t_end" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
	c1=$(cpu_ticks "$lp")
	local cpl
	cpl=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" -v l="$lines" 'BEGIN {printf "%.2f", (b - a) / t / l * 1e6}')
	kill "$lp"; wait "$lp" 2>/dev/null || true
	load_rows+=("| $n × $rate lines/s | $lines | $cpl µs | $lag s |")
	echo "  load: $n files × $rate lines/s: $lines lines, $cpl µs CPU per line, behind by $lag s when the writer stopped"
	last_cpl=$cpl
}
LOAD_FOR=${LOAD_FOR:-20}
LOAD_RATE=${LOAD_RATE:-10000}
last_cpl=
load 1 "$LOAD_RATE"
one=$last_cpl
load "${LOAD_FILES:-100}" "$LOAD_RATE"
many=$last_cpl

# One 50 MiB line appended to a followed file.
long=$work/long
mkdir -p "$long"
: >"$long/app.log"
cat >"$work/long.yaml" <<YAML
inputs: [{name: long, paths: ["$long/app.log"], start_at: end}]
outputs: [{type: file, path: "$work/long.out"}]
metrics: {listen: ""}
YAML
"$logsift" run -config "$work/long.yaml" 2>"$work/long.err" &
lp=$!
pids+=($lp)
sleep 2
head -c $((50 << 20)) /dev/zero | tr '\0' 'x' >"$work/line"
echo >>"$work/line"
cat "$work/line" >>"$long/app.log"
for _ in $(seq 600); do
	[[ -f $work/long.out ]] && (( $(stat -c %s "$work/long.out") >= $(stat -c %s "$work/line") )) && break
	sleep 0.1
done
peak=$(( $(hwm_kib "$lp") / 1024 ))
exact=no
cmp -s "$work/line" "$work/long.out" && exact=yes
echo "  50 MiB line in a followed file: peak RSS $peak MiB, byte-exact: $exact"

table=$(
	echo "| files | process | CPU (idle, ${IDLE} s) | RSS MiB | descriptors |"
	echo "|---:|---|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "| load | lines | logsift CPU per line | behind when the writer stopped |"
	echo "|---|---:|---:|---:|"
	printf '%s\n' "${load_rows[@]}"
	echo
	echo "CPU per line with ${LOAD_FILES:-100} files over one file: $(awk -v a="$one" -v b="$many" 'BEGIN {printf "%.2f×", b / a}')."
	echo
	echo "A 50 MiB line appended to a followed file: peak RSS $peak MiB, output byte-exact: $exact."
)
echo
echo "$table"
if [[ $SCALE_WRITE == 1 ]]; then
	awk -v table="$table" '
		/<!-- scale:begin -->/ {print; print table; skip = 1; next}
		/<!-- scale:end -->/ {skip = 0}
		!skip {print}' BENCHMARKS.md >BENCHMARKS.md.tmp
	grep -q '<!-- scale:begin -->' BENCHMARKS.md.tmp || printf '\n## Idle cost and scale (make bench-scale)\n\n<!-- scale:begin -->\n%s\n<!-- scale:end -->\n' "$table" >>BENCHMARKS.md.tmp
	mv BENCHMARKS.md.tmp BENCHMARKS.md
	echo "BENCHMARKS.md updated"
fi
