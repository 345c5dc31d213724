#!/usr/bin/env bash
# The live read path at the size of a real offsets topic, against the floor Kafka's own tools set:
# a throwaway broker (tests/kafka/broker.sh), a 25-partition compacted `connect-offsets` loaded with
# kcat with RECORDS Replicator offset records over KEYS live keys (each key in its murmur2
# partition, as Connect writes them), then, side by side in one run (RUNS runs each, median):
#
#   kcat -C -e       reading the whole topic (the floor)
#   mm2-migrate plan reading it as a snapshot, compacting, mapping every live key in the plugin,
#                    and reading MM2's (empty) offsets topic
#   mm2-migrate run  the same, then writing the KEYS MM2 records into a fresh offsets topic
#                    (created outside the timed part), reading them back and confirming each
#
# Prints the wall times, each command's ratio to kcat, and mm2-migrate's peak resident memory.
#
#   bench/live.sh                      RECORDS=1000000 KEYS=10000 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${RECORDS:-1000000}"
KEYS="${KEYS:-10000}"
RUNS="${RUNS:-5}"

cargo build --release -q -p mm2-migrate --bin mm2-migrate
. bench/common.sh
start_loaded_broker "$RECORDS" "$KEYS"

kcat_runs=()
plan_runs=()
run_runs=()
for i in $(seq "$RUNS"); do
    kcat_runs+=("$(measure /dev/null kcat -C -b "$broker" -t connect-offsets -e -q -o beginning)")
    plan_runs+=("$(measure /dev/null "$bin" plan --plugin replicator-to-mm2 --set source.cluster.alias=src \
        --source-bootstrap "$broker" --output json)")
    topics --create --topic "mm2-offsets.src-$i.internal" --partitions 25 --config cleanup.policy=compact
    run_runs+=("$(measure /dev/null "$bin" run --plugin replicator-to-mm2 --set source.cluster.alias=src \
        --source-bootstrap "$broker" --target-topic "mm2-offsets.src-$i.internal")")
    confirmed_all "$KEYS"
done
# The plan saw every live key.
"$bin" plan --plugin replicator-to-mm2 --set source.cluster.alias=src --source-bootstrap "$broker" --output json \
    > "$work/plan.json"
python3 - "$work/plan.json" "$RECORDS" "$KEYS" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
t = doc["plan"]["translation"]
assert t["records_read"] == int(sys.argv[2]) and len(doc["plan"]["entries"]) == int(sys.argv[3]), (t, len(doc["plan"]["entries"]))
PY
python3 bench/compare.py "records $RECORDS, live keys $KEYS, 25 partitions" "$RECORDS" \
    "kcat -C -e" "${kcat_runs[*]}" "mm2-migrate plan" "${plan_runs[*]}" "plan / kcat"
python3 bench/compare.py "records $RECORDS, live keys $KEYS written" "$RECORDS" \
    "kcat -C -e" "${kcat_runs[*]}" "mm2-migrate run" "${run_runs[*]}" "run / kcat"
