#!/bin/bash
# run_fuzz.sh [SECONDS]: builds the libFuzzer targets with clang (ASan+UBSan)
# in build-fuzz/ and runs them from the seed corpus in tests/fuzz/corpus for
# 2 × SECONDS in all (default 30), shared equally between the targets (the
# budget two targets had before the layout target joined them). Any crash, leak or sanitizer report fails the run;
# the reproducer is left in build-fuzz/artifacts/. Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-30}
out=${OCIPACK_FUZZ_BUILD:-$repo/build-fuzz}
if ! command -v clang++ >/dev/null; then
    echo "run_fuzz.sh: clang++ missing (apt-get install clang libclang-rt-14-dev)" >&2
    echo "0 passed, 1 failed"; exit 1
fi
CXX=clang++ CC=clang cmake -S "$repo" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOCIPACK_FUZZ=ON -DOCIPACK_BUILD_TESTS=OFF -DOCIPACK_BUILD_BENCH=OFF >"$out.configure.log" 2>&1 ||
    { tail -5 "$out.configure.log"; echo "0 passed, 1 failed"; exit 1; }
cmake --build "$out" -j"$(nproc)" --target fuzz_tar_input fuzz_json fuzz_base_model fuzz_layout fuzz_chunked_layer fuzz_cache_entry >"$out.build.log" 2>&1 ||
    { grep -m5 error "$out.build.log"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$out/artifacts"
passed=0 failed=0
targets=(tar_input:tar json:json base_model:base_layer layout:layout chunked_layer:chunked_layer cache_entry:cache_entry)
per_target=$(( (2 * seconds + ${#targets[@]} - 1) / ${#targets[@]} ))
for target in "${targets[@]}"; do
    name=${target%%:*} corpus=${target#*:}
    work=$(mktemp -d)
    cp "$here/corpus/$corpus"/* "$work/"
    if "$out/tests/fuzz/fuzz_$name" -max_total_time="$per_target" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$out/artifacts/$name-" "$work" >"$out/fuzz_$name.log" 2>&1; then
        echo "PASS fuzz_$name: $(grep -E '^Done|#[0-9]+.*DONE' "$out/fuzz_$name.log" | tail -1)"
        passed=$((passed + 1))
    else
        echo "FAIL fuzz_$name: $(grep -m3 -E 'ERROR|SUMMARY|crash' "$out/fuzz_$name.log")"
        failed=$((failed + 1))
    fi
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
