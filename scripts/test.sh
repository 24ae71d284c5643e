#!/usr/bin/env bash
# The one command that sets up a fresh Debian machine and runs every test:
# installs dependencies, builds, then runs the unit tests and the integration
# tests against the real consumers (ctest), two at a time: the integration
# scripts one after another in one slot, the unit tests, the fuzz run and
# the sanitizer run beside them (tests/CMakeLists.txt). Exit status is ctest's.
# Usage: scripts/test.sh [ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j2 "$@"
