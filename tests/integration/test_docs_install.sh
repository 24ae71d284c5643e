#!/bin/bash
# test_docs_install.sh OCIPACK
#
# The generated documentation, as `cmake --install` puts it in place (the
# build directory is the one holding OCIPACK):
#   - a man page per subcommand and ocipack(1) in share/man/man1, readable
#     by man(1); the bash completion in share/bash-completion/completions and
#     the zsh one in share/zsh/site-functions;
#   - every option `ocipack help CMD` lists appears in CMD's man page and in
#     the bash completion, for every subcommand (so a flag added without
#     docs fails here), and each subcommand's man page carries its exit
#     statuses;
#   - `ocipack completion bash|zsh` prints the installed files;
#   - the bash completion run in a non-interactive bash: subcommands, the
#     flags of a subcommand, `cache` subcommands, file names after a flag
#     that takes a value, directories for a layout argument.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool cmake man; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi
build_dir=$(dirname "$OCIPACK")
if [ ! -f "$build_dir/cmake_install.cmake" ]; then
    skip "all" "$OCIPACK is not in a CMake build directory"
    finish
fi
cd "$TEST_TMP" || exit 1
prefix=$TEST_TMP/prefix
check "cmake --install into a temporary prefix" cmake --install "$build_dir" --prefix "$prefix" || finish
man1=$prefix/share/man/man1
bash_file=$prefix/share/bash-completion/completions/ocipack
zsh_file=$prefix/share/zsh/site-functions/_ocipack

# The subcommands `ocipack --help` lists (help and version have no page).
commands=$("$OCIPACK" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
check_contains "the subcommands include ls and diff" <(echo "$commands") '^diff$'
check "ocipack(1) is installed" test -s "$man1/ocipack.1"
man -l "$man1/ocipack.1" >page 2>/dev/null
check_contains "ocipack(1) lists the subcommands" page '^ +ls +List +the +files'
for cmd in $commands; do
    [ "$cmd" = help ] || [ "$cmd" = version ] && continue
    page_file=$man1/ocipack-$cmd.1
    if [ ! -s "$page_file" ]; then
        fail "man page of $cmd" "missing: $page_file"
        continue
    fi
    man -l "$page_file" >page 2>/dev/null
    check_contains "man ocipack-$cmd: its name line" page "^ +ocipack-$cmd +- "
    check_contains "man ocipack-$cmd: the exit statuses" page "Exit +status: +0"
    # Every flag of `help CMD` (for cache: of its subcommands) in the page and the bash completion.
    helps=$("$OCIPACK" help "$cmd"; for sub in stats prune; do [ "$cmd" = cache ] && "$OCIPACK" cache "$sub" --help; done)
    missing_man='' missing_bash=''
    for opt in $(echo "$helps" | grep -oE '^  (-[a-zA-Z],)?--[a-z][a-z0-9._-]*' | sed 's/^ *-[a-zA-Z],//' | sort -u); do
        grep -Eq -- "^ +(-[a-zA-Z], )?$opt( |$)" page || missing_man+=" $opt"
        grep -Eq -- "(['= ])$opt( |')" "$bash_file" || missing_bash+=" $opt"
    done
    check_eq "man ocipack-$cmd: every option of 'help $cmd'" "" "$missing_man"
    check_eq "bash completion: every option of 'help $cmd'" "" "$missing_bash"
done
man -l "$man1/ocipack-build.1" >page 2>/dev/null
check_contains "man ocipack-build: --tar-output with its help" page '^ +--tar-output TEXT$'
check_contains "man ocipack-build: -o, --output" page '^ +-o, --output TEXT$'
check_contains "man ocipack-build: a default shown" page '\(default: gzip\)'
# The NOTES are filled and justified: compare their words, not their spacing.
man -l "$man1/ocipack-diff.1" 2>/dev/null | tr '\n' ' ' | tr -s ' ' >page
check_contains "man ocipack-diff: its own exit statuses" page 'diff: 0 the images hold the same files; 1 they differ; 2'
check_contains "man ocipack-diff: the layout tarball note" page 'A layout tarball \(what build --tar-output writes'

# --- completion scripts: installed = printed
"$OCIPACK" completion bash >printed.bash
check "ocipack completion bash = the installed file" cmp printed.bash "$bash_file"
"$OCIPACK" completion zsh >printed.zsh
check "ocipack completion zsh = the installed file" cmp printed.zsh "$zsh_file"
check_contains "zsh completion: #compdef" "$zsh_file" '^#compdef ocipack$'
check_contains "zsh completion: build's --tar-output" "$zsh_file" "'--tar-output\[Also write the layout as a tarball"
"$OCIPACK" completion fish >out 2>err
check_eq "completion fish: exit 2" 2 "$?"
one_error_line "completion fish" err "completion 'fish': expected bash or zsh"

# --- bash completion, exercised: complete WORDS... prints COMPREPLY sorted, one per line.
mkdir -p layouts/img layouts/other
touch layouts/file.txt
cat >complete.sh <<'SCRIPT'
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_ocipack
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
SCRIPT
complete_words() { bash --norc --noprofile complete.sh "$bash_file" "$@"; }
check_eq "bash: a subcommand from its start" "build" "$(complete_words ocipack bu)"
check_eq "bash: subcommands starting with 'i'" "index
inspect" "$(complete_words ocipack i)"
check_eq "bash: build's flags from --ta" "--tag
--tar-output
--tar-output-dir" "$(complete_words ocipack build rootfs --ta)"
check_eq "bash: ls's flags" "--largest
--layer" "$(complete_words ocipack ls L --la)"
check_eq "bash: cache's subcommands" "prune
stats" "$(complete_words ocipack cache '')"
check_eq "bash: cache prune's flags" "--max-size" "$(complete_words ocipack cache prune D --max)"
check_eq "bash: a file after a flag that takes a value" "layouts/file.txt" "$(complete_words ocipack build r --sbom layouts/f)"
check_eq "bash: layout directories for a positional" "layouts/img" "$(complete_words ocipack verify layouts/i)"
check_eq "bash: completion's shells" "bash" "$(complete_words ocipack completion b)"

# --- zsh completion: its syntax, and what it hands zsh's completion functions
# (_describe, _arguments and _values stubbed to print their arguments).
if require_tool zsh; then
    check "zsh -n: the zsh completion parses" zsh -n "$zsh_file"
    cat >complete.zsh <<'SCRIPT'
_describe() { print -l -- "${(@P)2}"; }
_arguments() { print -l -- "$@"; }
_values() { shift; print -l -- "$@"; }
source "$1" 2>/dev/null
shift
words=("$@")
CURRENT=$#
_ocipack
SCRIPT
    zsh_complete() { zsh -f complete.zsh "$zsh_file" "$@"; }
    zsh_complete ocipack b >out
    check_contains "zsh: subcommands with their descriptions" out '^diff:Paths added'
    zsh_complete ocipack ls L --l >out
    check_contains "zsh: ls's --layer with its help and a value" out '^--layer\[Only layer N .*\]:UINT:_files$'
    zsh_complete ocipack build r --t >out
    check_contains "zsh: build's --tar-output" out '^--tar-output\[Also write the layout as a tarball'
    zsh_complete ocipack cache x >out
    check_eq "zsh: cache's subcommands" "stats
prune" "$(cat out)"
else
    skip "zsh completion run" "missing tools: $MISSING_TOOLS"
fi
finish
