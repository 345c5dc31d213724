# Sourced by the bench scripts that time one command side by side with another:
# seconds COMMAND...: the wall seconds of one run of COMMAND, its stdout kept in $work/out.json.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/out.json"
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}
