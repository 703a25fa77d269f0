#!/usr/bin/env bash
# Runs every test of the solution (GPU tests skip with a reason when no GPU is present) and ends with
# the line "N passed, N failed, N skipped". Extra arguments go to `dotnet test` (e.g. --filter ...).
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet test MarlinSharp.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+" "$log" | tail -1)
rm -f "$log"
if [[ -z "$summary" ]]; then
  echo "0 passed, 1 failed, 0 skipped (no test summary: the build or the test host failed)"
  exit $(( status == 0 ? 1 : status ))
fi
failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
