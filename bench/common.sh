# Sourced by the bench scripts, from the repository root: a scratch directory ($work, removed
# on exit with any broker started in it), the tool ($bin), Replicator offset records, a
# throwaway broker loaded with them, and the measurement of one run.
work="$(mktemp -d)"
trap 'tests/kafka/broker.sh stop "$work/broker" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bin=target/release/mm2-migrate

# replicator_records RECORDS KEYS: `key<TAB>value` lines of RECORDS Replicator offset records
# over KEYS source partitions (100 topics), record i updating partition i % KEYS to offset i.
replicator_records() {
    python3 - "$1" "$2" <<'PY'
import sys
records, keys = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
for i in range(records):
    k = i % keys
    out.write(f'["replicator",{{"topic":"topic-{k % 100}","partition":{k // 100}}}]\t{{"offset":{i}}}\n')
PY
}

topics() { tests/kafka/broker.sh topics --bootstrap-server "$broker" "$@" >/dev/null; }

# start_loaded_broker RECORDS KEYS: a throwaway broker ($broker) whose 25-partition compacted
# connect-offsets holds replicator_records RECORDS KEYS, each in its murmur2 partition.
start_loaded_broker() {
    broker="$(tests/kafka/broker.sh start "$work/broker")"
    topics --create --topic connect-offsets --partitions 25 --config cleanup.policy=compact
    replicator_records "$1" "$2" \
        | kcat -P -b "$broker" -t connect-offsets -K '\t' -X partitioner=murmur2_random -X linger.ms=50
}

# measure INPUT COMMAND...: the wall seconds and peak resident KiB of one run of COMMAND
# reading INPUT; its output is kept in $work/out.
measure() {
    local input="$1"
    shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" < "$input" > "$work/out" 2> "$work/stderr" \
        || { cat "$work/stderr" >&2; exit 1; }
    cat "$work/time"
}

# confirmed_all KEYS: the `run` just measured read back and confirmed all KEYS records.
confirmed_all() {
    grep -q "confirmed *all $1 read back" "$work/out" || { cat "$work/out" >&2; exit 1; }
}
