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
. bench/common.sh
# What `kcat -C -J -e -t connect-offsets` prints for such a topic.
replicator_records "$RECORDS" "$KEYS" | python3 -c '
import json, sys
for i, line in enumerate(sys.stdin):
    key, payload = line.rstrip("\n").split("\t")
    print(json.dumps({"topic": "connect-offsets", "partition": i % 25, "offset": i // 25, "tstype": "create",
                      "ts": 1700000000000 + i, "broker": 1, "key": key, "payload": payload}, separators=(",", ":")))
' > "$work/dump.jsonl"
floor_runs=()
translate_runs=()
for _ in $(seq "$RUNS"); do
    floor_runs+=("$(measure "$work/dump.jsonl" target/release/examples/translate_floor)")
    translate_runs+=("$(measure "$work/dump.jsonl" "$bin" translate --plugin replicator-to-mm2 \
        --set source.cluster.alias=primary --input -)")
    test "$(wc -l < "$work/out")" -eq "$KEYS"
done
python3 bench/compare.py "dump $(( $(stat -c %s "$work/dump.jsonl") / 1000000 )) MB: $RECORDS records, $KEYS live keys" \
    "$RECORDS" "native floor" "${floor_runs[*]}" "mm2-migrate translate" "${translate_runs[*]}" "translate / floor"
