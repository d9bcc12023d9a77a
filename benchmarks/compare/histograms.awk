# One-pass awk baseline: the three histograms mgscan computes first (per destination, per
# destination port, per UID) over "IPTABLES TCP-OUT <port>:" entries. Usage: mawk -f histograms.awk FILE
/IPTABLES TCP-OUT [0-9]+:IN=/ {
    dst = ""; dpt = ""; uid = "-"
    for (i = 1; i <= NF; i++) {
        if (substr($i, 1, 4) == "DST=") dst = substr($i, 5)
        else if (substr($i, 1, 4) == "DPT=") dpt = substr($i, 5)
        else if (substr($i, 1, 4) == "UID=") uid = substr($i, 5)
    }
    entries++; d[dst]++; p[dpt]++; u[uid]++
}
END {
    n = 0; for (k in d) n++
    printf "entries %d destinations %d\n", entries, n
    for (k in p) printf "port %s %d\n", k, p[k]
    for (k in u) printf "uid %s %d\n", k, u[k]
}
