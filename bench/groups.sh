#!/usr/bin/env bash
# Consumer groups at scale: two throwaway brokers (tests/kafka/broker.sh), PARTITIONS partitions of
# `events` on each (the replicated records and their copies, seam_load), CONSUMER_GROUPS groups committed on
# every partition of the replicated cluster (groups_load), and `mm2-migrate groups plan` timed for
# one group and for all of them, side by side in one run (RUNS runs each, median). The goal: all
# the groups cost at most twice what one costs, since the copies are read once per partition.
#
#   bench/groups.sh                    CONSUMER_GROUPS=1000 PARTITIONS=100 RECORDS=20 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
CONSUMER_GROUPS="${CONSUMER_GROUPS:-1000}"
PARTITIONS="${PARTITIONS:-100}"
RECORDS="${RECORDS:-20}"
RUNS="${RUNS:-5}"

cargo build --release -q -p mm2-migrate --bin mm2-migrate --example seam_load --example groups_load
bin=target/release/mm2-migrate
work="$(mktemp -d)"
trap 'tests/kafka/broker.sh stop "$work/src" >/dev/null 2>&1 || true; tests/kafka/broker.sh stop "$work/tgt" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
src="$(tests/kafka/broker.sh start "$work/src")"
tgt="$(tests/kafka/broker.sh start "$work/tgt")"
for cluster in "$src" "$tgt"; do
    tests/kafka/broker.sh topics --bootstrap-server "$cluster" --create --topic events --partitions "$PARTITIONS" >/dev/null
done
tests/kafka/broker.sh topics --bootstrap-server "$tgt" --create --topic mm2-offsets.old.internal --partitions 25 \
    --config cleanup.policy=compact >/dev/null
target/release/examples/seam_load "$src" "$tgt" "$PARTITIONS" "$RECORDS" 1
load_start=$(date +%s.%N)
target/release/examples/groups_load "$src" "$CONSUMER_GROUPS" "$PARTITIONS" "$RECORDS"
load_end=$(date +%s.%N)

plan=("$bin" groups plan --replicated-bootstrap "$src" --data-bootstrap "$tgt" --replication-policy identity --output json)
source bench/timing.sh
# check GROUPS: every group translated exactly on every partition.
check() {
    python3 - "$work/out.json" "$1" "$PARTITIONS" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))["plan"]
groups, partitions = int(sys.argv[2]), int(sys.argv[3])
assert len(doc["selection"]["groups"]) == groups, doc["selection"]
assert doc["statuses"] == {"exact": groups * partitions}, doc["statuses"]
PY
}
one=()
all=()
for _ in $(seq "$RUNS"); do
    one+=("$(seconds "${plan[@]}" --group g-0)")
    check 1
    all+=("$(seconds "${plan[@]}" --group 'g-.*')")
    check "$CONSUMER_GROUPS"
done
python3 - "$CONSUMER_GROUPS" "$PARTITIONS" "${one[*]}" "${all[*]}" "$(python3 -c "print($load_end - $load_start)")" <<'PY'
import statistics, sys
groups, partitions = int(sys.argv[1]), int(sys.argv[2])
one = statistics.median(map(float, sys.argv[3].split()))
every = statistics.median(map(float, sys.argv[4].split()))
print(f"groups x partitions           {groups} x {partitions} = {groups * partitions} commits")
print(f"committing them (groups_load) {float(sys.argv[5]):.2f} s, one client per group, 16 at a time (for scale)")
runs = lambda xs: ", ".join(f"{float(x):.2f}" for x in xs.split())
print(f"groups plan, 1 group          {one:.2f} s (median of {runs(sys.argv[3])})")
print(f"groups plan, {groups} groups{' ' * max(0, 11 - len(str(groups)))}{every:.2f} s (median of {runs(sys.argv[4])}; every commit exact)")
print(f"ratio all/one                 {every / one:.2f}x (goal: at most 2x)")
PY
