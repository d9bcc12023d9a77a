# Helpers shared by the capture scripts (sourced; bash).

# wait_for SECONDS TEST-ARGS...: poll `test TEST-ARGS` every 0.1 s; false (and a message) after SECONDS
wait_for() {
    local n=$(( $1 * 10 )); shift
    local i
    for ((i = 0; i < n; i++)); do
        if test "$@"; then return 0; fi
        sleep 0.1
    done
    echo "${0##*/}: timed out waiting for: $*" >&2
    return 1
}

# drop_work DIR: remove the work folder, or keep it (and say where) when KEEP_WORK=1
drop_work() {
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "${0##*/}: work folder kept: $1" >&2
    else
        rm -rf "$1"
    fi
}

# need_root: stop unless run as root
need_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "${0##*/}: must run as root" >&2
        exit 1
    fi
}

# no_namespaces NS...: stop when one of these network namespaces exists already
no_namespaces() {
    local ns
    for ns in "$@"; do
        if ip netns list | grep -qw "$ns"; then
            echo "${0##*/}: namespace $ns already exists (previous run?); delete it first" >&2
            exit 1
        fi
    done
}

# kill_pidfiles DIR [SIGNAL]: signal the process of each pid file in DIR that the caller's ours()
# still recognises as its own
kill_pidfiles() {
    local f p
    for f in "$1"/*; do
        [[ -e $f ]] || continue
        p=$(cat "$f")
        ours "$p" && kill "-${2:-TERM}" "$p" 2>/dev/null
    done
    return 0
}
