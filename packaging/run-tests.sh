#!/usr/bin/env bash
# Quick start (b): set up, then run every test (unit, integration, GUI under Xvfb).
# Benchmarks are separate: ctest --test-dir build -L bench
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/packaging/setup.sh"
cd "$root"
ctest --preset default --parallel 1
