# Reads `perf script -F ip,sym,dso` of `loadgen --in-process-passes` recorded with DWARF call
# graphs and prints where the ingest pass's wall time goes: per function (the innermost frame
# that is not inlined; a library without symbols counts as a whole), the milliseconds it takes
# per pass and its share of the pass. Only samples with `frame` (default `ingestPass`) on their
# stack count, so the gunzip baseline and the flush between passes are left out (or, with
# `frame=flushWithStats`, only the flushes count).
# Variables: hz (the sampling frequency), passes (timed + warm-up passes recorded), top (rows),
# frame (a pattern of the function whose time is split).
BEGIN { if (frame == "") frame = "ingestPass" }
function flush_sample() {
    if (inPass && self != "") { count[self]++; total++ }
    inPass = 0; self = ""
}
/^[^ \t]/ { flush_sample(); next }
/^$/ { flush_sample(); next }
{
    line = $0
    if (line ~ frame) inPass = 1
    if (self != "" || line ~ /\(inlined\)$/) next
    sub(/^[ \t]*[0-9a-f]+ /, "", line)
    dso = line; sub(/^.*\(/, "", dso); sub(/\)$/, "", dso); sub(/^.*\//, "", dso)
    name = line; sub(/ \([^(]*\)$/, "", name)
    self = (name ~ /^\[unknown\]$/ || name ~ /^0x/ || name == "") ? "[" dso "]" : name
}
END {
    flush_sample()
    if (total == 0) { print "no samples inside " frame; exit 1 }
    msPerSample = 1000 / hz
    printf "%s: %.3f ms per pass (%d samples at %d Hz over %d passes)\n", frame, total * msPerSample / passes, total, hz, passes
    printf "%9s %7s  %s\n", "ms/pass", "share", "function (self)"
    # Largest first (plain awk has no sort): pick the largest left, `top` times.
    for (r = 0; r < top; r++) {
        best = ""
        for (f in count) if (best == "" || count[f] > count[best]) best = f
        if (best == "") break
        printf "%9.3f %6.1f%%  %s\n", count[best] * msPerSample / passes, 100 * count[best] / total, best
        delete count[best]
    }
}
