#!/usr/bin/env bash
# The write path: `mm2-migrate run` writing KEYS MM2 offset records into a fresh offsets topic,
# reading them back and confirming each, against what kcat needs for the same bytes: reading the
# source topic (`kcat -C -e`), writing the MM2 records (`kcat -P`) and reading them back
# (`kcat -C -e`). Side by side in one run (RUNS runs each, median), on a throwaway broker
# (tests/kafka/broker.sh) with one Replicator record per key.
#
#   bench/write.sh                     KEYS=100000 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS="${KEYS:-100000}"
RUNS="${RUNS:-5}"

cargo build --release -q -p mm2-migrate --bin mm2-migrate
. bench/common.sh
start_loaded_broker "$KEYS" "$KEYS"
# The very records run writes, for kcat to write.
"$bin" translate --plugin replicator-to-mm2 --set source.cluster.alias=src --input <(
    kcat -C -b "$broker" -t connect-offsets -e -q -J) 2>/dev/null \
    | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(r["key"] + "\t" + r["payload"])' > "$work/mm2.txt"
test "$(wc -l < "$work/mm2.txt")" -eq "$KEYS"

kcat_path() {
    local topic="$1"
    kcat -C -b "$broker" -t connect-offsets -e -q -o beginning > /dev/null
    kcat -P -b "$broker" -t "$topic" -K '\t' -X partitioner=murmur2_random -X acks=all -X enable.idempotence=true \
        < "$work/mm2.txt"
    kcat -C -b "$broker" -t "$topic" -e -q -o beginning > /dev/null
}
kcat_runs=()
run_runs=()
for i in $(seq "$RUNS"); do
    # Fresh compacted topics of MM2's shape, created outside the timed part for both.
    topics --create --topic "kcat-$i" --partitions 25 --config cleanup.policy=compact
    topics --create --topic "mm2-offsets.src-$i.internal" --partitions 25 --config cleanup.policy=compact
    kcat_runs+=("$(measure /dev/null bash -c "$(declare -f kcat_path); broker=$broker work=$work kcat_path kcat-$i")")
    run_runs+=("$(measure /dev/null "$bin" run --plugin replicator-to-mm2 --set source.cluster.alias=src \
        --source-bootstrap "$broker" --target-topic "mm2-offsets.src-$i.internal")")
    confirmed_all "$KEYS"
done
python3 bench/compare.py "$KEYS MM2 records written, read back and confirmed" "$KEYS" \
    "kcat -C, -P, -C" "${kcat_runs[*]}" "mm2-migrate run" "${run_runs[*]}" "run / kcat"
