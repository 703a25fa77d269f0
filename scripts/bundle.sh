#!/usr/bin/env bash
# Writes into DIR what a GPU host without the .NET SDK needs (well under 64 MB):
#   DIR/dotnet-runtime.tar.xz   the .NET runtime of this machine (host + Microsoft.NETCore.App), unpacked on first use
#   DIR/cli/                    framework-dependent build of the `marlin` tool
#   DIR/tests/                  framework-dependent build of the test suite (GPU tests included)
#   DIR/marlin ARGS             runs the CLI
#   DIR/run-tests [ARGS]        runs every test and ends with "N passed, N failed, N skipped"
set -euo pipefail
dir=${1:?usage: scripts/bundle.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")

rm -rf "$dir/cli" "$dir/tests"
dotnet publish "$root/src/MarlinSharp.Cli" -c Release -o "$dir/cli" -p:UseAppHost=false -p:DebugType=none >/dev/null
dotnet publish "$root/tests/MarlinSharp.Tests" -c Release -o "$dir/tests" -p:DebugType=none -p:SatelliteResourceLanguages=en >/dev/null
# The in-process xunit.v3 runner needs none of the VSTest code-coverage collector and its native helpers.
(cd "$dir/tests" && rm -rf CodeCoverage alpine macos ubuntu arm64 x86 x64 Microsoft.CodeCoverage.* Microsoft.VisualStudio.CodeCoverage.Shim.dll)
runtime_version=$(ls "$dotnet_root/shared/Microsoft.NETCore.App" | sort -V | tail -1)
if [[ ! -f "$dir/dotnet-runtime.tar.xz" || ! -f "$dir/.runtime-$runtime_version" ]]; then
  rm -f "$dir"/.runtime-*
  tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$runtime_version" | xz -T0 -6 > "$dir/dotnet-runtime.tar.xz"
  touch "$dir/.runtime-$runtime_version"
fi

cat > "$dir/env.sh" <<'ENV'
# Unpacks the bundled .NET runtime once (next to the bundle, or under /tmp if the bundle is read-only).
bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DOTNET_ROOT="$bundle/.dotnet"
if ! mkdir -p "$DOTNET_ROOT" 2>/dev/null || ! touch "$DOTNET_ROOT/.probe" 2>/dev/null; then export DOTNET_ROOT=/tmp/marlinsharp-dotnet; mkdir -p "$DOTNET_ROOT"; fi
[[ -x "$DOTNET_ROOT/dotnet" ]] || tar -C "$DOTNET_ROOT" -xJf "$bundle/dotnet-runtime.tar.xz"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ENV

cat > "$dir/marlin" <<'RUN'
#!/usr/bin/env bash
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec "$DOTNET_ROOT/dotnet" "$bundle/cli/marlin.dll" "$@"
RUN

cat > "$dir/run-tests" <<'RUN'
#!/usr/bin/env bash
# Runs the xunit.v3 test assembly in process; extra arguments are xunit filters (e.g. -class NAME, -method NAME).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
log=$(mktemp)
cd "$bundle/tests"
"$DOTNET_ROOT/dotnet" MarlinSharp.Tests.dll -noColor "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
line=$(grep -E "Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+" "$log" | tail -1)
if [[ -z "$line" ]]; then echo "0 passed, 1 failed, 0 skipped (no summary from the test runner)"; exit 1; fi
total=$(sed -E 's/.*Total: ([0-9]+).*/\1/' <<<"$line"); errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
failed=$(sed -E 's/.*Failed: ([0-9]+).*/\1/' <<<"$line"); skipped=$(sed -E 's/.*Skipped: ([0-9]+).*/\1/' <<<"$line")
notrun=$(sed -nE 's/.*Not Run: ([0-9]+).*/\1/p' <<<"$line"); notrun=${notrun:-0}
echo "$((total - failed - skipped - notrun)) passed, $((failed + errors)) failed, $skipped skipped"
rm -f "$log"
exit "$status"
RUN
chmod +x "$dir/marlin" "$dir/run-tests"
echo "bundle in $dir: $(du -sh --exclude=.dotnet "$dir" | cut -f1)"
