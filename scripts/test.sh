#!/usr/bin/env bash
# The one command that sets up a fresh Debian machine and runs every test:
# installs dependencies, builds, then runs the unit tests and the integration
# tests against the real consumers (ctest). Exit status is ctest's.
# Usage: scripts/test.sh [ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j1 "$@"
