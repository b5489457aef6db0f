#!/usr/bin/env bash
# Runs the whole test suite (called by `./tuneforge test` and by .ci/run). Extra arguments go to `dotnet test`,
# e.g. ./tuneforge test --filter "FullyQualifiedName~Tokenizer".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
tf_setup
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

cd "$ROOT"
# Reference implementations for the tokenizer and chat-template tests (Hugging Face's JavaScript tokenizers and Jinja,
# real tokenizer files) and the official Node SDK (npm `openai`) for the Node SDK tests, pinned in
# tests/reference-node/package-lock.json. Without them those tests fail, not skip. npm records what it installed in
# node_modules/.package-lock.json, so a lock file changed since then is installed again.
NODE_REF="$ROOT/tests/reference-node"
if [ ! -f "$NODE_REF/node_modules/.package-lock.json" ] || [ "$NODE_REF/package-lock.json" -nt "$NODE_REF/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null 2>&1 || tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null 2>&1 || true
  if command -v npm >/dev/null 2>&1; then
    (cd "$ROOT/tests/reference-node" && npm ci --silent --no-audit --no-fund) \
      || echo "warning: npm ci failed in tests/reference-node; the reference tests will fail" >&2
  else
    echo "warning: npm not found; the tokenizer reference and Node SDK tests will fail (install Node.js and npm)" >&2
  fi
fi
# Debian's Chromium renders the compare HTML report headless for the report's screenshot test.
if [ ! -x /usr/bin/chromium ]; then
  tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    || echo "warning: could not install chromium; the compare report screenshot test will fail" >&2
fi
# Debian's PostgreSQL server: the storage tests start a private cluster in a temporary directory (initdb + pg_ctl).
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  tf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
    || echo "warning: could not install postgresql; the PostgreSQL storage tests will fail" >&2
fi
dotnet build Tuneforge.slnx -c Release --nologo -v q -clp:ErrorsOnly
log="$(mktemp)"
set +e
# --blame: if a test host dies (a native crash), vstest names the test that was running when it did.
dotnet test Tuneforge.slnx -c Release --no-build --nologo --blame "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# A test host that crashed (a native fault, not a failed assertion) is reported and its project run once more on its
# own: the Engine host crashed once in CI and about once in 20 local runs, and its cause is not yet found (see the
# blame lines above for the test that was running). A project whose host crashes twice, or any failed test, still fails.
aborted=$(awk '/^(Passed|Failed)!.*\.dll/ { for (i = 1; i <= NF; i++) if ($i ~ /\.dll$/) last = $i }
                /^Test Run Aborted/ && last != "" { print last; last = "" }' "$log" | sed 's/\.dll$//' | sort -u)
if [ -n "$aborted" ]; then
  for name in $aborted; do
    echo "warning: the test host of $name crashed; running $name again on its own" >&2
    sed -i "/^\(Passed\|Failed\)!.* - $name\.dll/s/^/(crashed, run again below) /" "$log"
  done
  rc=0
  grep -q '^Failed!' "$log" && rc=1
  for name in $aborted; do
    dotnet test "tests/$name" -c Release --no-build --nologo --blame "$@" 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  done
fi
# The whole service suite again with every service on PostgreSQL (TUNEFORGE_TEST_DATABASE=postgres: each service
# on a fresh database of a private test cluster), so both stores pass the same tests. About 3.5 minutes on 2 cores.
# Not when a filter or other arguments chose the tests.
if [ $# -eq 0 ]; then
  TUNEFORGE_TEST_DATABASE=postgres dotnet test tests/Tuneforge.Server.Tests -c Release --no-build --nologo --blame \
    2>&1 | sed 's/^\(Passed\|Failed\)!/\1! (on PostgreSQL)/' | tee -a "$log"
  pg_rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] || rc=$pg_rc
fi
set -e
# One plain closing line for the whole suite, summed over the test projects.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { g = $i; gsub(/[^A-Za-z]/, "", g); v = $(i+1); gsub(/[^0-9]/, "", v);
       if (g == "Failed") f += v; else if (g == "Passed") p += v; else if (g == "Skipped") s += v } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
[ -z "$aborted" ] || echo "test hosts that crashed and were run again on their own: $(echo $aborted)"
rm -f "$log"
exit $rc
