#!/usr/bin/env bash
# bench.sh measures logsift's throughput against grep and cat on generated
# logs and writes the results into BENCHMARKS.md.
#
# For each size it generates a log with bin/loggen (once; cached in .bench/),
# then runs every command RUNS times and reports the median wall time, CPU
# time (user+sys) and peak RSS:
#
#   grep                  LC_ALL=C grep -vF 'write() before start_response' IN > OUT
#   cat                   cat IN > OUT
#   logsift stdin         logsift < IN > OUT
#   logsift run -once     logsift run -once -config CFG   (file input -> file output)
#   corpus                the real captures a, e, f and k of testdata/corpus,
#                         each repeated 60 times in one file (1.04M lines,
#                         61 MB): grep, `logsift < FILE` and run -once over it
#   logsift -> otlp       logsift run -once -config CFG with an otlp output,
#                         sending to the test collector (internal/otelcoltest,
#                         debug exporter) on loopback; BENCH_OTLP=0 skips it
#   logsift stdin (F)     logsift < IN.F > OUT, for each record format F in
#                         FORMATS: the same log as a JSON logger or a
#                         container runtime writes it (loggen -format F)
#
# Every logsift output is compared with the generator's expected output; a
# mismatch prints the first differing lines and fails the run.
#
# Environment:
#   BENCH_SIZES  sizes to run, with k/m suffixes (default "1m 10m")
#   RUNS         runs per command; the median is reported (default 3)
#   SEED, STYLE  generator seed (default 1) and server style (default werkzeug)
#   FORMATS      record formats measured besides text (default "json docker-json cri")
#   LOGSIFT      binary to measure instead of building bin/logsift; results
#                are then printed but not written to BENCHMARKS.md
#   BENCH_WRITE  0 prints the table without updating BENCHMARKS.md; 1 updates
#                it. Default: 1 for the full run, 0 when BENCH_SIZES is given
#                (a partial run never replaces the committed table)
#   BENCH_OUTDIR where the commands write their output (default: a fresh
#                directory in /dev/shm when it exists, else .bench)
#   GO           go command (default go)
set -euo pipefail

cd "$(dirname "$0")/.."

BENCH_SIZES_GIVEN=${BENCH_SIZES:-}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
STYLE=${STYLE:-werkzeug}
FORMATS=${FORMATS-json docker-json cri}
if [[ -n $BENCH_SIZES_GIVEN ]]; then
	BENCH_WRITE=${BENCH_WRITE:-0}
else
	BENCH_WRITE=${BENCH_WRITE:-1}
fi
BENCH_SIZES=${BENCH_SIZES:-1m 10m}
GO=${GO:-go}
BENCH_OTLP=${BENCH_OTLP:-1}
DIR=.bench
PATTERN='write() before start_response'

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
if ! /usr/bin/time -v true >/dev/null 2>&1; then
	die "GNU time is missing (/usr/bin/time -v): install it with 'apt-get install -y time'"
fi
for tool in cmp grep cat awk sort; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done

mkdir -p "$DIR" bin
shm_out=0
cleanup_out() { if ((shm_out)); then rm -rf "$OUT"; fi; }
trap cleanup_out EXIT
# Outputs go to a memory file system when there is one: what is measured
# is the commands, not the disk's write-back (which, on a shared VM,
# stalls whichever command happens to run when it flushes; an fsync of
# logsift's positions file at exit would wait for everything written
# before it).
if [[ -z ${BENCH_OUTDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	OUT=$(mktemp -d /dev/shm/logsift-bench.XXXXXX)
	shm_out=1
else
	OUT=${BENCH_OUTDIR:-$PWD/$DIR}
	mkdir -p "$OUT"
fi
echo "building bin/loggen"
"$GO" build -o bin/loggen ./cmd/loggen
if [[ -n ${LOGSIFT:-} ]]; then
	standin=1
	logsift=$(command -v "$LOGSIFT") || die "LOGSIFT=$LOGSIFT is not an executable"
	echo "measuring LOGSIFT=$LOGSIFT instead of bin/logsift"
else
	standin=0
	echo "building bin/logsift"
	version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
	revision=$(git rev-parse HEAD 2>/dev/null || true)
	"$GO" build -trimpath -ldflags "-X main.version=$version -X main.revision=$revision" -o bin/logsift ./cmd/logsift
	logsift=bin/logsift
fi

# lines_of SIZE prints the line count a size names: 1m -> 1000000.
lines_of() {
	[[ $1 =~ ^([0-9]+)([kKmM]?)$ ]] || die "bad size '$1' in BENCH_SIZES (want e.g. 500k, 1m, 10m)"
	local n=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	k | K) n=$((n * 1000)) ;;
	m | M) n=$((n * 1000000)) ;;
	esac
	echo "$n"
}

# prepare SIZE generates .bench/SIZE.log and .bench/SIZE.expected.log unless
# the cached pair was made by the same generator with the same parameters.
# prepare SIZE FORMAT does the same for another record format, as
# .bench/SIZE.FORMAT.log.
prepare() {
	local size=$1 format=${2:-text} lines
	lines=$(lines_of "$size")
	local name=$size
	[[ $format == text ]] || name=$size.$format
	local log=$DIR/$name.log exp=$DIR/$name.expected.log stamp=$DIR/$name.stamp
	local want
	want="lines=$lines seed=$SEED style=$STYLE format=$format loggen=$(sha256sum bin/loggen | cut -c1-16)"
	if [[ -f $log && -f $exp && -f $stamp ]] && [[ $(head -n1 "$stamp") == "$want" ]]; then
		return
	fi
	echo "generating $log ($lines lines, seed $SEED, style $STYLE, format $format)"
	rm -f "$log" "$exp" "$stamp"
	local stats
	stats=$(bin/loggen -lines "$lines" -seed "$SEED" -style "$STYLE" -format "$format" -out "$log" -expected "$exp")
	echo "  $stats"
	printf '%s\n%s\n' "$want" "$stats" >"$stamp"
}

# stat_of SIZE KEY prints a number from the generator's stats line.
stat_of() {
	sed -n '2p' "$DIR/$1.stamp" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# median prints the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# show_mismatch OUT EXPECTED LABEL prints where OUT first differs and exits.
show_mismatch() {
	local out=$1 exp=$2 label=$3 where line
	where=$(cmp "$out" "$exp" 2>&1 || true)
	line=$(sed -n 's/.*line \([0-9][0-9]*\).*/\1/p' <<<"$where")
	line=${line:-1}
	local from=$((line > 3 ? line - 3 : 1)) to=$((line + 3))
	{
		echo
		echo "FAIL: $label: output differs from the expected output"
		echo "  $where"
		echo "  lines $from-$to of the output ($out):"
		sed -n "${from},${to}p;${to}q" "$out" | cat -A | sed 's/^/    | /' | cut -c1-200
		echo "  lines $from-$to of the expected output ($exp):"
		sed -n "${from},${to}p;${to}q" "$exp" | cat -A | sed 's/^/    | /' | cut -c1-200
		if ((standin)); then
			echo "  note: LOGSIFT=$LOGSIFT is a stand-in, not a filter, so this mismatch is"
			echo "  expected; everything before the comparison worked."
		fi
	} >&2
	exit 1
}

results=() # "size|command|wall|cpu|rss_kib" per measured command

# measure SIZE LABEL CHECK STDIN OUT CMD... plans CMD with STDIN (or
# nothing) on its standard input and stdout in OUT; CHECK=1 compares OUT
# with the expected output after every run. run_planned then runs the
# planned commands RUNS times in rounds, each command once per round, and
# records the medians: commands compared with each other run interleaved,
# so a machine that speeds up or slows down over a minute (a shared VM)
# moves them alike and their ratio stays fair.
planned=()
measure() {
	local size=$1 label=$2 check=$3 stdin=$4 out=$5
	shift 5
	local exp=${EXPECTED:-$DIR/$size.expected.log} cmd
	cmd=$(printf '%q ' "$@")
	planned+=("$size"$'\x1f'"$label"$'\x1f'"$check"$'\x1f'"$stdin"$'\x1f'"$out"$'\x1f'"$exp"$'\x1f'"$cmd")
}

run_planned() {
	local -A walls cpus rsss
	local spec size label check stdin out exp cmd r rc t0 t1 key
	local tf=$DIR/time.txt errf=$DIR/stderr.txt
	for ((r = 1; r <= RUNS; r++)); do
		for spec in "${planned[@]}"; do
			IFS=$'\x1f' read -r size label check stdin out exp cmd <<<"$spec"
			rm -f "$out" "$tf" "$errf" "$OUT/positions.json"
			t0=$EPOCHREALTIME
			set +e
			if [[ -n $stdin ]]; then
				eval "/usr/bin/time -v -o \"\$tf\" $cmd" <"$stdin" >"$out" 2>"$errf"
			else
				eval "/usr/bin/time -v -o \"\$tf\" $cmd" >"$OUT/stdout.txt" 2>"$errf"
			fi
			rc=$?
			set -e
			t1=$EPOCHREALTIME
			# grep -v exits 1 when it selects no line; that is no failure here.
			if ((rc != 0)) && ! [[ $label == grep && $rc == 1 ]]; then
				echo "FAIL: $label exited with status $rc: $cmd" >&2
				tail -n 20 "$errf" | sed 's/^/    /' >&2
				if ((standin)); then
					echo "  note: LOGSIFT=$LOGSIFT is a stand-in and may not support this mode." >&2
				fi
				exit 1
			fi
			if ((check)) && ! cmp -s "$out" "$exp"; then
				show_mismatch "$out" "$exp" "$label ($size, run $r)"
			fi
			key="$size|$label"
			walls[$key]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') "
			cpus[$key]+="$(awk -F': ' '/User time \(seconds\)/ {u = $2} /System time \(seconds\)/ {s = $2} END {printf "%.2f", u + s}' "$tf") "
			rsss[$key]+="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf") "
			printf '  %-24s run %d/%d: %6.3fs wall\n' "$label" "$r" "$RUNS" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')"
			rm -f "$out"
		done
	done
	for spec in "${planned[@]}"; do
		IFS=$'\x1f' read -r size label _ <<<"$spec"
		key="$size|$label"
		# shellcheck disable=SC2086 # the lists are space-separated numbers
		results+=("$key|$(median ${walls[$key]})|$(median ${cpus[$key]})|$(median ${rsss[$key]})")
	done
	planned=()
}

collector_pid=
if ((BENCH_OTLP)); then
	echo "building the test collector (internal/otelcoltest)"
	(cd internal/otelcoltest && "$GO" build -o "../../$DIR/otelcoltest" .)
	otlp_port=$((20000 + RANDOM % 20000))
	cat >"$DIR/collector.yaml" <<EOF
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$otlp_port"}
exporters:
  debug: {verbosity: basic}
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
EOF
	"$DIR/otelcoltest" "$DIR/collector.yaml" >"$DIR/collector.log" 2>&1 &
	collector_pid=$!
	trap 'kill "$collector_pid" 2>/dev/null || true; cleanup_out' EXIT
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$otlp_port") 2>/dev/null && break
		sleep 0.1
	done
fi

for size in $BENCH_SIZES; do
	prepare "$size"
	for format in $FORMATS; do
		prepare "$size" "$format"
	done
done

for size in $BENCH_SIZES; do
	in=$DIR/$size.log
	echo "== $size: $in ($(stat_of "$size" lines) lines, $(stat -c %s "$in") bytes)"
	wc -l <"$in" >/dev/null # read it once so every command starts from the page cache

	cfg=$DIR/$size.config.yaml
	cat >"$cfg" <<EOF
# Written by bench/bench.sh: file input from the start, file output, no HTTP.
inputs:
  - name: bench
    paths: ["$PWD/$in"]
    start_at: beginning
outputs:
  - type: file
    path: "$OUT/$size.logsift-file.out"
positions:
  path: "$OUT/positions.json"
metrics:
  listen: ""
EOF
	LC_ALL=C measure "$size" grep 0 "$in" "$OUT/$size.grep.out" grep -vF "$PATTERN"
	measure "$size" cat 0 "$in" "$OUT/$size.cat.out" cat
	measure "$size" "logsift stdin" 1 "$in" "$OUT/$size.logsift-stdin.out" "$logsift"
	measure "$size" "logsift run -once" 1 "" "$OUT/$size.logsift-file.out" "$logsift" run -once -config "$cfg"
	if [[ -n $collector_pid ]]; then
		ocfg=$DIR/$size.otlp.yaml
		cat >"$ocfg" <<EOF
# Written by bench/bench.sh: file input from the start, OTLP to the test collector.
inputs:
  - name: bench
    paths: ["$PWD/$in"]
    start_at: beginning
outputs:
  - type: otlp
    endpoint: "http://127.0.0.1:$otlp_port"
positions:
  path: "$OUT/positions.json"
metrics:
  listen: ""
EOF
		measure "$size" "logsift -> otlp" 0 "" "$OUT/$size.logsift-otlp.out" "$logsift" run -once -config "$ocfg"
	fi
	for format in $FORMATS; do
		fin=$DIR/$size.$format.log
		wc -l <"$fin" >/dev/null
		EXPECTED=$DIR/$size.$format.expected.log measure "$size" "logsift stdin ($format)" 1 "$fin" "$OUT/$size.$format.logsift-stdin.out" "$logsift"
	done
	run_planned
done

# The corpus log: four real captures, each 60 times over, one after the
# other in one file, read as one stream (stdin) by logsift and by grep.
# They share one access-line formatter, as one writer's stream does:
# capture b (basicConfig, "INFO:werkzeug:" before every record) is not in
# it, since logsift learns the start of a stream's access lines from its
# first pair partners (see README, "Glued lines").
captures="a_werkzeug_threading_plain e_eventlet_wsgi_threading f_gunicorn_gthread_threading k_py313_plain"
want="captures=$captures stamp=2"
if [[ ! -s $DIR/corpus.log || ! -s $DIR/corpus.expected.log || $(head -n1 "$DIR/corpus.stamp" 2>/dev/null) != "$want" ]]; then
	: >"$DIR/corpus.log"
	: >"$DIR/corpus.expected.log"
	for c in $captures; do
		for ((i = 0; i < 60; i++)); do
			cat "testdata/corpus/$c.log" >>"$DIR/corpus.log"
			cat "testdata/corpus/$c.expected.log" >>"$DIR/corpus.expected.log"
		done
	done
	printf '%s\nlines=%s\n' "$want" "$(wc -l <"$DIR/corpus.log")" >"$DIR/corpus.stamp"
fi
echo "== corpus: $DIR/corpus.log ($(stat_of corpus lines) lines: $captures, 60 times each)"
wc -l <"$DIR/corpus.log" >/dev/null
LC_ALL=C measure corpus grep 0 "$DIR/corpus.log" "$OUT/corpus.grep.out" grep -vF "$PATTERN"
EXPECTED=$DIR/corpus.expected.log measure corpus "logsift stdin" 1 "$DIR/corpus.log" "$OUT/corpus.logsift.out" "$logsift"
ccfg=$DIR/corpus.config.yaml
cat >"$ccfg" <<EOF
# Written by bench/bench.sh: file input from the start, file output, no HTTP.
inputs:
  - name: bench
    paths: ["$PWD/$DIR/corpus.log"]
    start_at: beginning
outputs:
  - type: file
    path: "$OUT/corpus.logsift-file.out"
positions:
  path: "$OUT/positions.json"
metrics:
  listen: ""
EOF
EXPECTED=$DIR/corpus.expected.log measure corpus "logsift run -once" 1 "" "$OUT/corpus.logsift-file.out" "$logsift" run -once -config "$ccfg"
run_planned

# The table: lines/s and MB/s from the median wall time; "vs grep" is the
# command's lines/s over grep's on the same input, "vs text" a record
# format's lines/s over logsift stdin's on the text form of the same log.
# lines/s always counts the app's lines, so every format of a size has the
# same numerator.
table=$DIR/table.md
{
	echo "| input | command | wall s | CPU s (user+sys) | peak RSS MiB | lines/s | MB/s | vs grep | vs text |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	declare -A grep_wall text_wall
	for row in "${results[@]}"; do
		IFS='|' read -r size label wall _ <<<"$row"
		case $label in
		grep) grep_wall[$size]=$wall ;;
		"logsift stdin") text_wall[$size]=$wall ;;
		esac
	done
	for row in "${results[@]}"; do
		IFS='|' read -r size label wall cpu rss <<<"$row"
		lines=$(stat_of "$size" lines)
		log=$DIR/$size.log vs_text=
		if [[ $label =~ \(([a-z-]+)\)$ ]]; then
			log=$DIR/$size.${BASH_REMATCH[1]}.log
			vs_text=${text_wall[$size]}
		fi
		bytes=$(stat -c %s "$log")
		awk -v size="$size" -v label="$label" -v wall="$wall" -v cpu="$cpu" -v rss="$rss" \
			-v lines="$lines" -v bytes="$bytes" -v gw="${grep_wall[$size]}" -v tw="$vs_text" 'BEGIN {
			vt = tw == "" ? "" : sprintf("%.2f×", tw / wall)
			printf "| %s (%.0f MB) | %s | %.3f | %.2f | %.0f | %.2f M | %.0f | %.2f× | %s |\n",
				size, bytes / 1e6, label, wall, cpu, rss / 1024, lines / wall / 1e6, bytes / 1e6 / wall, gw / wall, vt
		}'
	done
} >"$table"

echo
cat "$table"

if ((standin)) || [[ $BENCH_WRITE == 0 ]]; then
	echo
	echo "BENCHMARKS.md not updated (LOGSIFT stand-in, a partial BENCH_SIZES run, or BENCH_WRITE=0)"
	exit 0
fi

# Replace what lies between the markers in BENCHMARKS.md.
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
section=$DIR/section.md
{
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -m), $(nproc) CPUs (${cpu_model:-unknown CPU}),"
	echo "$("$GO" env GOVERSION), $("$logsift" version 2>/dev/null | head -n1 || echo "logsift (version unknown)")."
	echo "Input: \`loggen -style $STYLE -seed $SEED\`; median of $RUNS runs; files in the page cache."
	echo
	cat "$table"
} >"$section"
md=BENCHMARKS.md
grep -q '^<!-- bench:begin -->$' "$md" && grep -q '^<!-- bench:end -->$' "$md" ||
	die "$md lacks the <!-- bench:begin --> / <!-- bench:end --> markers"
awk -v section="$section" '
	/^<!-- bench:begin -->$/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
	/^<!-- bench:end -->$/   { skip = 0 }
	!skip
' "$md" >"$md.tmp"
mv "$md.tmp" "$md"
echo
echo "wrote the results into $md"
