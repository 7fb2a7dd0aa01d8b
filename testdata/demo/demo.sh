#!/bin/sh
# Filters a real Flask-SocketIO/Werkzeug capture with logsift's built-in
# rules and shows what was removed. Usage: demo.sh path/to/logsift
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
log=$root/testdata/corpus/a_werkzeug_threading_plain.log
out=$root/.demo
rm -rf "$out" && mkdir -p "$out"
cat > "$out/demo.yaml" <<YAML
inputs:
  - name: demo
    paths: ["$log"]
    start_at: beginning
outputs:
  - {type: file, path: "$out/forwarded.log", events: forwarded}
  - {type: file, path: "$out/suppressed.log", events: suppressed}
metrics: {listen: ""}
YAML
"$bin" run -once -config "$out/demo.yaml" 2> "$out/logsift.log"

echo "== input: $log ($(wc -l < "$log") lines)"
echo "== the first two suppressed events (access line + traceback, removed together):"
head -n 22 "$out/suppressed.log"
echo
echo "== suppressed per rule:"
grep 'msg=rule' "$out/logsift.log" | sed 's/.*rule=\([^ ]*\) events_suppressed=\([0-9]*\) lines_suppressed=\([0-9]*\).*/  \1: \2 events, \3 lines/'
echo "== forwarded: $(wc -l < "$out/forwarded.log") lines -> $out/forwarded.log"
echo "== suppressed: $(wc -l < "$out/suppressed.log") lines -> $out/suppressed.log"
if cmp -s "$out/forwarded.log" "$root/testdata/corpus/a_werkzeug_threading_plain.expected.log"; then
	echo "== forwarded output is byte-identical to the corpus's ideal output"
else
	echo "== forwarded output DIFFERS from the corpus's ideal output" >&2
	exit 1
fi
