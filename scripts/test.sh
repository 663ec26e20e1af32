#!/usr/bin/env bash
# Sets everything up and runs every test tier: installs the Debian packages,
# checks the C++ style (scripts/check-format.sh), builds one tree (warnings
# as errors) and runs all CTest tests (unit, functional, gui), then builds the unit and functional tiers with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs them.
#   FIDES_SKIP_SANITIZERS=1  skip the sanitizer build (local iteration)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc)

bash scripts/setup.sh

echo "== style (.clang-format)"
bash scripts/check-format.sh

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIDES_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"

if [ "${FIDES_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== build (ASan + UBSan: unit and functional tiers)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFIDES_SANITIZE=ON \
    -DFIDES_BUILD_GUI=OFF -DFIDES_BUILD_BENCH=OFF -DFIDES_WERROR=ON >/dev/null
  cmake --build build-asan -j"$JOBS"
  echo "== tests under ASan + UBSan"
  # The consensus simulation runs 200 seeds per size here (memory errors are
  # the point of this pass); the release run below does the full 2,000.
  (cd build-asan && FIDES_SIM_SEEDS=200 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     LSAN_OPTIONS=suppressions="$ROOT/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1 \
     ctest -L 'unit|functional' --output-on-failure -j"$JOBS")
fi

echo "== tests (all tiers)"
cd build
ctest --output-on-failure -j"$JOBS"
