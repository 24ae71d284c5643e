#!/bin/bash
# test_cli.sh OCIPACK
#
# The command line as a user meets it, run as a real process:
#   - an unknown subcommand or option is named with the nearest known name
#     (only when one is close); usage errors point to the failing
#     subcommand's help; `help CMD`, `version` and `--version` work;
#   - exit statuses, table-driven over every subcommand: 1 for a missing
#     layout (every subcommand), 2 for bad usage (an empty -o, an unknown
#     --ref, a missing argument), each with one "ocipack: error:" line;
#     verify: 1 for problems found; 130 after SIGINT and 143 after SIGTERM
#     during a build (blocked reading a tar from a pipe, so no timing);
#   - SOURCE_DATE_EPOCH set but empty, --diff-base without --base,
#     --digestfile and --iidfile; --variant, --os and --stop-signal values.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq timeout tar sha256sum; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

cd "$TEST_TMP" || exit 1
mkdir -p root/etc
printf 'hello\n' >root/etc/hello.txt
check "control: a layout builds" "$OCIPACK" build root -o L -q --created @0 || finish
mkdir -p empty-dir

# --- names, suggestions and help
exits "unknown command" 2 "unknown command 'biuld' \(did you mean 'build'\?\) \(see 'ocipack --help'\)$" biuld root -o X
exits "unknown command, nothing close" 2 "unknown command 'frobnicate' \(see 'ocipack --help'\)$" frobnicate
exits "unknown build option (before a missing -o)" 2 \
    "unknown option '--tga' \(did you mean '--tag'\?\) \(see 'ocipack build --help'\)$" build root --tga v1
exits "unknown verify option" 2 "unknown option '--rfe' \(did you mean '--ref'\?\) \(see 'ocipack verify --help'\)$" \
    verify L --rfe v1
exits "unknown option, nothing close" 2 "unknown option '--no-such-flag' \(see 'ocipack tags --help'\)$" \
    tags L --no-such-flag
exits "a usage error points to its subcommand's help" 2 "LAYOUT is required \(see 'ocipack gc --help'\)$" gc
exits "help of an unknown command" 2 "unknown command 'inspcet' \(did you mean 'inspect'\?\)" help inspcet
run help build
check_eq "help build: exit 0" 0 "$RC"
check_contains "help build: build's flags" out "--tar-output"
check_contains "help build: the exit statuses" out "143 stopped by SIGTERM"
run build --help
check_eq "help build = build --help" "$(cat out)" "$("$OCIPACK" help build)"
run help verify
check_contains "help verify: verify's statuses" out "1 problems found"
run help
check_contains "help: lists the subcommands" out "^  version "
run version
check_eq "version: exit 0" 0 "$RC"
check_contains "version: the codec libraries" out "^ocipack [0-9.]+ \(libdeflate [0-9.]+, isa-l [0-9.]+, libzstd [0-9.]+\)$"
check_eq "version = --version" "$(cat out)" "$("$OCIPACK" --version)"

# --- a missing layout: 1 for every subcommand
M=missing-layout
exits "build --base missing" 1 "'$M'" build root -o X --base "$M"
exits "tags missing" 1 "'$M'" tags "$M"
exits "inspect missing" 1 "'$M'" inspect "$M"
exits "inspect missing:tag" 1 "'$M'" inspect "$M:v1"
exits "verify missing" 1 "'$M'" verify "$M"
exits "gc missing" 1 "'$M'" gc "$M"
exits "index source missing" 1 "'$M" index -o X "$M"
exits "attach to missing" 1 "'$M'" attach "$M" root/etc/hello.txt --artifact-type text/plain
exits "add-layer to missing" 1 "'$M'" add-layer "$M:v1" root
check "no output layout was left by the failed commands" test ! -e X

# --- bad usage: 2 for every subcommand
exits "build -o ''" 2 "^ocipack: error: -o: the output layout path is empty" build root -o ''
exits "build without -o" 2 "--output is required" build root
exits "index -o ''" 2 "^ocipack: error: -o: " index -o '' L
exits "verify --ref unknown" 2 "--ref: .*no manifest tagged 'nope' \(available tags: 'latest'\)" verify L --ref nope
exits "verify ''" 2 "empty layout path" verify ''
exits "tags ''" 2 "empty layout path" tags ''
exits "gc ''" 2 "empty layout path" gc ''
exits "inspect ''" 2 "empty image reference" inspect ''
exits "attach without FILE" 2 "FILE is required" attach L
exits "add-layer without DIR" 2 "DIR is required \(see 'ocipack add-layer --help'\)" add-layer L
exits "add-layer --level 99" 2 "--level" add-layer L root --level 99
exits "no subcommand" 2 "A subcommand is required \(see 'ocipack --help'\)" 

# --- verify: problems found are 1, listed on stdout
cp -a L broken
layer=$(jq -r '.layers[0].digest' "$(blob_path broken "$(layout_manifest_digest broken latest)")")
printf 'x' >>"$(blob_path broken "$layer")"
run verify broken
check_eq "verify: problems found: exit 1" 1 "$RC"
check_contains "verify: the summary says so" out "PROBLEMS FOUND"

# --- SOURCE_DATE_EPOCH set but empty: unset, one warning; garbage still fails
SOURCE_DATE_EPOCH= timeout 60 "$OCIPACK" build root -o SDE -q 2>err
check_eq "SOURCE_DATE_EPOCH= builds" 0 $?
check_eq "SOURCE_DATE_EPOCH=: one warning line" \
    "ocipack: warning: SOURCE_DATE_EPOCH is set but empty: ignored (the image is dated now)" "$(cat err)"
SOURCE_DATE_EPOCH=soon timeout 60 "$OCIPACK" build root -o SDE2 -q 2>err
check_eq "SOURCE_DATE_EPOCH=soon: exit 2" 2 $?
one_error_line "SOURCE_DATE_EPOCH=soon" err "SOURCE_DATE_EPOCH 'soon'"

# --- --diff-base without --base: one warning, the build goes on
mkdir -p newroot/etc
cp root/etc/hello.txt newroot/etc/
printf 'new\n' >newroot/etc/new.txt
run build newroot -o D --diff-base root -q
check_eq "--diff-base alone builds" 0 "$RC"
check_eq "--diff-base alone: one warning line" \
    "ocipack: warning: --diff-base without --base: the image holds only the changes from 'root', not the files they apply to" \
    "$(cat err)"
run build newroot -o D2 --diff-base root --base L -q
check_eq "--diff-base with --base: no warning" "" "$(cat err)"

# --- --digestfile / --iidfile: sha256:<hex>, no newline, after the commit
run build root -o DF -q --digestfile DF.digest --iidfile DF.iid
check_eq "--digestfile/--iidfile build" 0 "$RC"
manifest=$(layout_manifest_digest DF latest)
check_eq "--digestfile holds the manifest digest, no newline" "$manifest" "$(cat DF.digest)"
check_eq "--digestfile: no trailing newline" "$(printf '%s' "$manifest" | wc -c)" "$(wc -c <DF.digest)"
check_eq "--iidfile holds the config digest" "$(jq -r .config.digest "$(blob_path DF "$manifest")")" "$(cat DF.iid)"
mkdir -p a-dir
ln -s DF.digest a-link
cp -a DF DF.before
exits "--digestfile a directory" 1 "--digestfile 'a-dir' is a directory" build root -o DF --tag t2 --digestfile a-dir
exits "--iidfile a symlink" 1 "--iidfile 'a-link' is a symbolic link" build root -o DF --tag t2 --iidfile a-link
exits "--digestfile inside the layout" 1 "--digestfile 'DF/d' lies inside the output layout" \
    build root -o DF --tag t2 --digestfile DF/d
exits "--iidfile ''" 2 "--iidfile: the file name is empty" build root -o DF --tag t2 --iidfile ''
check "refused --digestfile/--iidfile left the layout as it was" diff -r DF DF.before
check "the symlink's target was not written" test "$(readlink a-link)" = DF.digest

# --- platform and stop signal values
exits "--variant on amd64" 2 "--variant: variant 'v7': architecture 'amd64' has no variants" build root -o P --arch amd64 --variant v7
exits "--os not a GOOS" 2 "--os: unknown operating system 'linx'" build root -o P --os linx
exits "--stop-signal unknown" 2 "--stop-signal 'SIGFOO'" build root -o P --stop-signal SIGFOO
run build root -o P -q --arch arm --variant v6 --os linux --stop-signal SIGRTMIN+3
check_eq "arm/v6, linux, SIGRTMIN+3 build" 0 "$RC"
check_eq "the config has them" "arm v6 linux SIGRTMIN+3" \
    "$(jq -r '[.architecture, .variant, .os, .config.StopSignal] | join(" ")' "$(blob_path P "$(jq -r .config.digest "$(blob_path P "$(layout_manifest_digest P latest)")")")")"

# --- signals during a build: 128 + the signal
big=$TEST_TMP/big.tar
mkdir -p bigroot
for i in $(seq 1 64); do head -c 65536 /dev/urandom >"bigroot/f$i"; done
tar -C bigroot -cf "$big" .
for sig in INT TERM; do
    rm -rf "S$sig"
    # The build reads a tar from a pipe that stalls after 1 MiB: it is
    # blocked in read() when the signal comes, whatever the machine's speed.
    (head -c 1048576 "$big"; sleep 30) 2>/dev/null | timeout 60 "$OCIPACK" build - -o "S$sig" -q 2>"err$sig" &
    pid=$!
    for _ in $(seq 1 200); do [ -d "S$sig/blobs" ] && break; sleep 0.1; done
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    want=130
    [ "$sig" = TERM ] && want=143
    check_eq "SIG$sig during a build: exit $want" "$want" "$rc"
    one_error_line "SIG$sig during a build" "err$sig" "interrupted"
done

finish
