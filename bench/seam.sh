#!/usr/bin/env bash
# The seam check at scale: two throwaway brokers (tests/kafka/broker.sh), PARTITIONS partitions
# of `events` on each (the replicated data and its copies), an old MM2's offsets lagging the copies
# by OVERLAP records, and `mm2-migrate plan` timed with and without the seam check, side by side in
# one run (RUNS runs each, median). Prints the seam check's own cost per 1,000 partitions.
#
#   bench/seam.sh                      PARTITIONS=10000 RECORDS=20 OVERLAP=3 RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
PARTITIONS="${PARTITIONS:-10000}"
RECORDS="${RECORDS:-20}"
OVERLAP="${OVERLAP:-3}"
RUNS="${RUNS:-3}"

cargo build --release -q -p mm2-migrate --bin mm2-migrate --example seam_load
bin=target/release/mm2-migrate
work="$(mktemp -d)"
trap 'tests/kafka/broker.sh stop "$work/src" >/dev/null 2>&1 || true; tests/kafka/broker.sh stop "$work/tgt" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
src="$(KAFKA_HEAP=1g tests/kafka/broker.sh start "$work/src")"
tgt="$(KAFKA_HEAP=1g tests/kafka/broker.sh start "$work/tgt")"
# KRaft takes at most 10,000 records per request: the partitions are added 5,000 at a time.
create_events() {
    local step=5000 n
    n=$(( PARTITIONS < step ? PARTITIONS : step ))
    tests/kafka/broker.sh topics --bootstrap-server "$1" --create --topic events --partitions "$n" >/dev/null
    while [ "$n" -lt "$PARTITIONS" ]; do
        n=$(( n + step < PARTITIONS ? n + step : PARTITIONS ))
        tests/kafka/broker.sh topics --bootstrap-server "$1" --alter --topic events --partitions "$n" >/dev/null
    done
}
create_events "$src"
create_events "$tgt"
tests/kafka/broker.sh topics --bootstrap-server "$tgt" --create --topic mm2-offsets.old.internal --partitions 25 \
    --config cleanup.policy=compact >/dev/null
target/release/examples/seam_load "$src" "$tgt" "$PARTITIONS" "$RECORDS" "$OVERLAP"

plan=("$bin" plan --plugin mm2-to-mm2 --set source.cluster.alias=old --set target.cluster.alias=new
      --source-bootstrap "$tgt" --source-topic mm2-offsets.old.internal --output json)
source bench/timing.sh
without=()
with=()
for _ in $(seq "$RUNS"); do
    without+=("$(seconds "${plan[@]}")")
    with+=("$(seconds "${plan[@]}" --replicated-bootstrap "$src")")
    python3 - "$work/out.json" "$PARTITIONS" "$OVERLAP" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
counts = doc["plan"]["seam_check"]["counts"]
want = int(sys.argv[2])
assert counts["overlap"] == want and counts["records_twice"] == want * int(sys.argv[3]), (len(doc["plan"]["entries"]), counts)
PY
done
python3 - "$PARTITIONS" "${without[*]}" "${with[*]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
without = statistics.median(map(float, sys.argv[2].split()))
with_seam = statistics.median(map(float, sys.argv[3].split()))
seam = with_seam - without
print(f"partitions                    {n}")
print(f"plan without the seam check   {without:.2f} s (median)")
print(f"plan with the seam check      {with_seam:.2f} s (median; every partition proven overlap)")
print(f"seam check                    {seam:.2f} s = {seam / n * 1000:.3f} s per 1,000 partitions")
print(f"ratio with/without            {with_seam / without:.2f}x")
PY
