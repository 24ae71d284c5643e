#!/bin/bash
# test_terminal.sh OCIPACK
#
# What a build shows on a terminal and what Ctrl-C does, in a real terminal
# (tmux, a private server `-L`, killed at the end) and from scripts:
#   - at 80, 40 and 20 columns the pane shows exactly one progress line while
#     a tar input is spooled, never longer than the width, and none once the
#     build is done; after a resize (SIGWINCH) the line fits the new width;
#   - TERM=dumb: plain lines ("ocipack: spooling ...", the phases of a
#     --diff-against-base build), no \r redraw and no escape code (raw
#     bytes recorded by script(1));
#   - stderr not a terminal: nothing drawn; with --progress one note saying
#     why it is ignored;
#   - Ctrl-C during the spool of a big tar.gz, during the hashing of a
#     --diff-base tree and while stdin stalls: exit 130 within a generous
#     bound (5 s after the key, on a loaded machine), one error line, the
#     output layout as it was; two Ctrl-C exit too, leaving no temp file in
#     the layout nor beside the --tar-output tarball (also while a layer
#     blob is being written; the second-signal path itself: test_crash.sh);
#   - `build -` with a terminal on stdin: refused at once with the hint, 2.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
init_test "${1:-}"

if ! require_tool tmux script python3 timeout tar sha256sum; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

cd "$TEST_TMP" || exit 1
SERVER="ocipack-terminal-$$"
trap 'tmux -L "$SERVER" kill-server >/dev/null 2>&1; cleanup_tmp' EXIT
tm() { tmux -L "$SERVER" "$@"; }

mkdir -p root/etc
printf 'hello\n' >root/etc/hello.txt
check "a 512 MiB tar.gz of zeros is made" python3 "$HERE/make_zero_tar_gz.py" z.tar.gz 512 || finish
check "control: a small layout builds" "$OCIPACK" build root -o L -q --created @0 || finish

# start NAME COLUMNS COMMAND: COMMAND in a new tmux session NAME, COLUMNS
# wide; its exit status goes to NAME.rc; the pane stays open after it
# (remain-on-exit: a late Ctrl-C may end the shell).
start() {
    local name=$1 columns=$2 command=$3
    rm -f "$name.rc"
    tm new-session -d -s "$name" -x "$columns" -y 30 \
        "cd '$TEST_TMP'; $command; echo \$? >'$name.rc'; sleep 600" \; set-window-option -t "$name" remain-on-exit on
}
pane() { tm capture-pane -p -t "$1" | grep -v '^Pane is dead'; }
# The same with wrapped lines joined (a summary line wraps at 20 columns).
pane_joined() { tm capture-pane -p -J -t "$1" | grep -v '^Pane is dead'; }
# wait_for_text NAME REGEX: until the pane shows REGEX (60 s at most).
wait_for_text() {
    local _
    for _ in $(seq 1 600); do
        pane "$1" | grep -Eq -- "$2" && return 0
        [ -e "$1.rc" ] && break
        sleep 0.1
    done
    pane "$1" | grep -Eq -- "$2"
}
# wait_for_exit NAME SECONDS: until NAME.rc exists; 1 when it does not in time.
wait_for_exit() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ -e "$1.rc" ] && return 0
        sleep 0.1
    done
    return 1
}
PROGRESS_RE='spooling|MiB|MB/s|%|\[[#.]'

# --- the line fits the width; one line; cleared at the end
for columns in 80 40 20; do
    name=w$columns
    start "$name" "$columns" "'$OCIPACK' build z.tar.gz -o L$columns --created @0"
    if wait_for_text "$name" spooling; then
        pane "$name" >"$name.during"
        check_eq "$columns columns: one progress line while spooling" 1 "$(grep -Ec -- "$PROGRESS_RE" "$name.during")"
        longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$name.during")
        check "$columns columns: no line longer than $((columns - 1)) ($longest)" test "$longest" -le $((columns - 1))
    else
        fail "$columns columns: a spooling line appears" "$(pane "$name" | head -5)"
    fi
    wait_for_exit "$name" 120
    check_eq "$columns columns: the build succeeds" 0 "$(cat "$name.rc" 2>/dev/null)"
    pane "$name" >"$name.after"
    pane_joined "$name" >"$name.joined"
    check "$columns columns: no progress left once done" \
        bash -c "! grep -Eq 'spooling|ratio|ETA|\\[[#.]' '$name.after'"
    check_contains "$columns columns: the summary follows" "$name.joined" "^built .*L$columns:latest manifest sha256:"
done

# --- a resize (SIGWINCH) applies at the next draw
start resize 80 "'$OCIPACK' build z.tar.gz -o Lresize --created @0"
if wait_for_text resize spooling; then
    tm resize-window -t resize -x 30 -y 30
    sleep 1
    last=$(pane resize | grep -E -- "$PROGRESS_RE" | tail -n 1)
    if [ -e resize.rc ]; then
        skip "resize: the line after SIGWINCH" "the build ended before the resize applied"
    else
        check "resize to 30: the newest progress line fits (${#last}: $last)" test "${#last}" -le 29 -a "${#last}" -gt 0
    fi
else
    fail "resize: a spooling line appears" "$(pane resize | head -5)"
fi
wait_for_exit resize 120

# --- TERM=dumb: plain lines only, raw bytes recorded by script(1)
TERM=dumb script -qfec "'$OCIPACK' build z.tar.gz -o Ldumb --created @0" dumb.typescript >/dev/null 2>&1
check_contains "TERM=dumb: a plain line per phase" dumb.typescript "ocipack: spooling z.tar.gz"
check "TERM=dumb: no escape code and no bare \\r" python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
body = data.split(b"\n", 1)[1] if data.startswith(b"Script started") else data
sys.exit(1 if b"\x1b" in body or b"\r" in body.replace(b"\r\n", b"") else 0)' dumb.typescript

# The phases of a delta against a base, each announced once (TERM=dumb).
mkdir -p root2/etc
printf 'hello\n' >root2/etc/hello.txt
printf 'more\n' >root2/etc/more.txt
TERM=dumb script -qfec "'$OCIPACK' build root2 -o Ldelta --created @0 --base L --diff-against-base" delta.typescript \
    >/dev/null 2>&1
tr -d '\r' <delta.typescript | grep '^ocipack: ' >delta.phases
check_eq "TERM=dumb: the phases of --diff-against-base" \
    "$(printf 'ocipack: reading base L\nocipack: walking root2\nocipack: comparing root2\nocipack: writing layers')" \
    "$(cat delta.phases)"

# --- stderr not a terminal
"$OCIPACK" build root -o Lfile --created @0 --progress >/dev/null 2>progress.err
check_eq "--progress into a file: exit 0" 0 $?
check_eq "--progress into a file: one note" "ocipack: warning: --progress ignored: stderr is not a terminal" \
    "$(cat progress.err)"
"$OCIPACK" build root -o Lfile2 --created @0 >/dev/null 2>plain.err
check_eq "no --progress into a file: stderr empty" 0 "$(stat -c %s plain.err)"
"$OCIPACK" build z.tar.gz -o Lfile3 --created @0 --progress >/dev/null 2>spool.err
check "a tar input into a file with --progress: no \\r or escape code" \
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(1 if b"\r" in d or b"\x1b" in d else 0)' spool.err

# --- Ctrl-C: exit 130 soon, one line, the layout untouched
# state_of LAYOUT [KEEP]: every file and its hash; with KEEP "committed",
# the temp files a killed build may leave (".blob.tmp-…", removed by the next
# build or gc) are left out.
state_of() {
    local skip=()
    [ "${2:-}" = committed ] && skip=(! -name '.*.tmp-*')
    (cd "$1" && find . -type f "${skip[@]}" | sort | xargs -r sha256sum)
}
# interrupt_on_pane NAME PATTERN COMMAND [twice [TEMPDIR]]: COMMAND in tmux
# (its output layout is L), Ctrl-C once PATTERN shows on the pane (twice in
# one go when asked; with TEMPDIR, only once a temp file ".*.tmp-*" exists
# under it); then the exit status, the one line left on the pane (the
# progress line cleared) and L unchanged, temp files included (a second
# signal removes them before it exits).
interrupt_on_pane() {
    local title=$1 pattern=$2 command=$3 twice=${4:-} tempdir=${5:-} name _
    name=$(printf '%s' "$1" | tr -c 'A-Za-z0-9' _)  # tmux names have no '.' or ':'
    state_of L >"$name.before"
    start "$name" 100 "$command"
    if ! wait_for_text "$name" "$pattern"; then
        fail "$title: the phase line appears" "$(pane "$name" | head -5)"
        return
    fi
    if [ -n "$tempdir" ]; then
        for _ in $(seq 1 1200); do
            [ -n "$(find "$tempdir" -name '.*.tmp-*' 2>/dev/null)" ] && break
            [ -e "$name.rc" ] && break
            sleep 0.05
        done
        if [ -z "$(find "$tempdir" -name '.*.tmp-*' 2>/dev/null)" ]; then
            fail "$title: a temp file appears under $tempdir" "$(pane "$name" | head -5)"
            wait_for_exit "$name" 120
            return
        fi
    fi
    if [ -n "$twice" ]; then
        tm send-keys -t "$name" C-c C-c
    else
        tm send-keys -t "$name" C-c
    fi
    if wait_for_exit "$name" 5; then
        pass "$title: exits within 5 s of Ctrl-C"
    else
        fail "$title: exits within 5 s of Ctrl-C" "still running"
        wait_for_exit "$name" 120
    fi
    check_eq "$title: exit 130" 130 "$(cat "$name.rc" 2>/dev/null)"
    pane "$name" | grep -v '^$' >"$name.pane"
    check_eq "$title: one line left on the pane" "ocipack: error: interrupted" "$(cat "$name.pane")"
    state_of L >"$name.after"
    check "$title: the layout is as it was (no temp file left)" cmp -s "$name.before" "$name.after"
}
# 8 GiB of zeros (37 MB compressed): spooled whole, it takes several times
# the 5 s bound; interrupted, a fraction of a second of it is written.
check "an 8 GiB tar.gz of zeros is made" python3 "$HERE/make_zero_tar_gz.py" z8.tar.gz 8192
interrupt_on_pane "Ctrl-C while spooling a tar.gz" "spooling z8.tar.gz" \
    "'$OCIPACK' build z8.tar.gz -o L --created @0"
interrupt_on_pane "two Ctrl-C while spooling" "spooling z8.tar.gz" \
    "'$OCIPACK' build z8.tar.gz -o L --created @0" twice

# Two Ctrl-C while a layer blob is being written (its temp file in L, a
# --tar-output tarball to come in tarout/): exit 130, one line, nothing left
# in L or beside the tarball. 384 MiB of random data: writing the layer takes
# seconds. Two keys in one go often reach the process as ONE SIGINT (a
# pending signal is not queued twice), so this checks what the user sees,
# not the second-signal path itself: test_crash.sh sends SIGINT and SIGTERM
# at once, which are never merged, and checks that path (main before the
# temp-file registry failed it, leaving a .blob.tmp- file).
mkdir -p big tarout
head -c $((384 << 20)) /dev/urandom >big/noise
interrupt_on_pane "two Ctrl-C while writing a layer" "big|MiB|%" \
    "'$OCIPACK' build big -o L --created @0 --tar-output tarout/img.tar" twice L
check_eq "two Ctrl-C while writing a layer: nothing left beside the tarball" "" "$(ls -A tarout)"
rm -rf big

mkdir -p diffbase diffnew
truncate -s 4G diffbase/zero diffnew/zero
touch -d @0 diffbase/zero diffnew/zero diffbase diffnew
interrupt_on_pane "Ctrl-C while hashing a --diff-base tree" "hashing diffbase" \
    "'$OCIPACK' build diffnew -o L --created @0 --diff-base diffbase"

tar -C root -cf small.tar .
head -c 600000 /dev/urandom >root/noise
tar -C root -cf noisy.tar .
# The stalling writer runs outside the pane, feeding a FIFO: Ctrl-C goes to
# the pane's whole process group, and a writer there that dies of SIGINT
# after ocipack has exited 130 makes bash kill itself with SIGINT as well
# (wait-and-cooperative-exit: the last child reaped decides), so the exit
# status would never be recorded — a race on a loaded machine, not a hang.
mkfifo stall.fifo
{ head -c 300000 noisy.tar; exec sleep 60; } >stall.fifo &
feeder=$!
interrupt_on_pane "Ctrl-C while stdin stalls" "spooling stdin" \
    "'$OCIPACK' build - -o L --created @0 <stall.fifo"
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null

# --- a terminal on stdin
start stdin 100 "'$OCIPACK' build - -o Lstdin"
wait_for_exit stdin 10
check_eq "build - from a terminal: exit 2 at once" 2 "$(cat stdin.rc 2>/dev/null)"
pane stdin | grep -v '^$' >stdin.pane
check_eq "build - from a terminal: one line with the hint" \
    "ocipack: error: stdin is a terminal; pipe a tar into it, e.g. tar -C DIR -c . | ocipack build - -o x" \
    "$(cat stdin.pane)"
check "build - from a terminal: no layout made" test ! -e Lstdin
tar -C root -c . | "$OCIPACK" build - -o Lpiped -q --created @0
check_eq "build - from a pipe still builds" 0 $?

finish
