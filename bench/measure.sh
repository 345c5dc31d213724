# Sourced by the bench scripts: `measure INPUT COMMAND...` prints the wall seconds and the peak
# resident KiB of one run of COMMAND reading INPUT, its output discarded; WORK is a scratch dir.
measure() {
    local input="$1"
    shift
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" < "$input" > "$WORK/out" 2> "$WORK/stderr" \
        || { cat "$WORK/stderr" >&2; exit 1; }
    cat "$WORK/time"
}
