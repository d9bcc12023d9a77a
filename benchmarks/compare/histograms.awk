# One-pass awk baseline: the three histograms mgscan computes first (per destination, per
# destination port, per UID) over "IPTABLES TCP-OUT <port>:" entries. Usage: mawk -f histograms.awk FILE
/IPTABLES TCP-OUT [0-9]+:IN=/ {
    dst = ""; dpt = ""; uid = "-"
    if (match($0, / DST=[^ ]+/)) dst = substr($0, RSTART + 5, RLENGTH - 5)
    if (match($0, / DPT=[0-9]+/)) dpt = substr($0, RSTART + 5, RLENGTH - 5)
    if (match($0, / UID=[0-9]+/)) uid = substr($0, RSTART + 5, RLENGTH - 5)
    entries++; d[dst]++; p[dpt]++; u[uid]++
}
END {
    n = 0; for (k in d) n++
    printf "entries %d destinations %d\n", entries, n
    for (k in p) printf "port %s %d\n", k, p[k]
    for (k in u) printf "uid %s %d\n", k, u[k]
}
