# lib_machine.sh — sourced by the end-to-end benchmark scripts: how busy the
# machine is, and waiting for it to settle before a timed run.
#   busy_ticks          user+nice+system+irq+softirq+steal ticks of all CPUs
#   wait_idle SECONDS   waits (at most SECONDS; 0 = do not wait) until the
#                       CPUs are less than 10 % busy for one second; notes on
#                       stderr while it waits or when it gives up
# shellcheck shell=bash

hz=$(getconf CLK_TCK)

busy_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

wait_idle() {
    local limit=$1
    (( limit > 0 )) || return 0
    local start=$SECONDS b0 b1 busy_pct warned=0
    while :; do
        b0=$(busy_ticks); sleep 1; b1=$(busy_ticks)
        busy_pct=$(( (b1 - b0) * 100 / (hz * $(nproc)) ))
        (( busy_pct < 10 )) && return 0
        if (( SECONDS - start >= limit )); then
            echo "# machine still ${busy_pct}% busy after ${limit}s; running anyway" >&2
            return 0
        fi
        (( warned )) || echo "# machine ${busy_pct}% busy with other work; waiting for it to settle" >&2
        warned=1
    done
}
