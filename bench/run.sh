#!/usr/bin/env bash
# Shared runner for bench/<name>: set-up, Release build of the bench program, then run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
tf_setup
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$ROOT/bench/Tuneforge.Bench/Tuneforge.Bench.csproj" -c Release -o "$ROOT/.build/bench" --nologo -v q -clp:ErrorsOnly >&2
exec dotnet "$ROOT/.build/bench/Tuneforge.Bench.dll" "$@"
