#!/usr/bin/env bash
# `translate` against its native floor (host/examples/translate_floor.rs: serde borrowed parse,
# latest payload per key in a HashMap, live keys rewritten as MM2 records), side by side in one
# run on the same kcat -J dump of RECORDS Replicator offset records over KEYS live keys (RUNS runs
# each, median of whole-process wall times; peak resident memory of translate).
#
#   bench/translate.sh                 RECORDS=1000000 KEYS=10000 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${RECORDS:-1000000}"
KEYS="${KEYS:-10000}"
RUNS="${RUNS:-5}"

cargo build --release -q -p mm2-migrate --bin mm2-migrate --example translate_floor
bin=target/release/mm2-migrate
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# What `kcat -C -J -e -t connect-offsets` prints for such a topic.
python3 - "$RECORDS" "$KEYS" > "$work/dump.jsonl" <<'PY'
import json, sys
records, keys = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
for i in range(records):
    k = i % keys
    key = f'["replicator",{{"topic":"topic-{k % 100}","partition":{k // 100}}}]'
    out.write(json.dumps({"topic": "connect-offsets", "partition": i % 25, "offset": i // 25, "tstype": "create",
                          "ts": 1700000000000 + i, "broker": 1, "key": key, "payload": f'{{"offset":{i}}}'},
                         separators=(",", ":")) + "\n")
PY
measure() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" < "$work/dump.jsonl" > "$work/out.jsonl" 2> "$work/stderr" \
        || { cat "$work/stderr" >&2; exit 1; }
    cat "$work/time"
}
floor_runs=()
translate_runs=()
for _ in $(seq "$RUNS"); do
    floor_runs+=("$(measure target/release/examples/translate_floor)")
    translate_runs+=("$(measure "$bin" translate --plugin replicator-to-mm2 --set source.cluster.alias=primary --input -)")
    test "$(wc -l < "$work/out.jsonl")" -eq "$KEYS"
done
python3 - "$RECORDS" "$KEYS" "$(stat -c %s "$work/dump.jsonl")" "${floor_runs[*]}" "${translate_runs[*]}" <<'PY'
import statistics, sys
records, keys, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pairs = lambda s: [tuple(map(float, s.split()[i:i + 2])) for i in range(0, len(s.split()), 2)]
floor, translate = pairs(sys.argv[4]), pairs(sys.argv[5])
f = statistics.median(w for w, _ in floor)
t = statistics.median(w for w, _ in translate)
mem = max(m for _, m in translate) / 1024
print(f"dump {size / 1e6:.0f} MB: {records:,} records, {keys:,} live keys; median of {len(floor)} runs each")
print(f"native floor               {f:.2f} s  ({records / f:,.0f} records/s)")
print(f"mm2-migrate translate      {t:.2f} s  ({records / t:,.0f} records/s), peak memory {mem:.0f} MiB")
print(f"ratio translate / floor    {t / f:.2f}x")
PY
