#!/usr/bin/env bash
# Runs BatchCohort's whole test suite. On a machine where we are root (CI, a fresh dev box) it first installs the
# independent oracles and real images the tests compare against (Debian packages, npm packages). Without root or
# without the registries, those tests are skipped with a message naming what is missing; under CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-scipy python3-skimage python3-nibabel python3-pydicom python3-gdcm python3-statsmodels
  mricron-data insighttoolkit5-examples
  dcmtk libgdcm-tools dcm2niix plastimatch elastix dicom3tools
  chromium
  redis-server docker-compose
)

if [ "${BATCHCOHORT_SKIP_INSTALL:-0}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "test.sh: installing ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  else
    echo "test.sh: not root or no apt-get: tests needing ${APT_PACKAGES[*]} are skipped if those are missing"
  fi
  if command -v npm >/dev/null; then
    if [ ! -d tests/oracles/node/node_modules/hyparquet ] || [ ! -d tests/oracles/node/node_modules/daikon ] || [ ! -d tests/oracles/node/node_modules/@duckdb/node-api ] || [ ! -d tests/oracles/node/node_modules/hyparquet-writer ] || [ ! -d tests/oracles/node/node_modules/hyparquet-compressors ] || [ ! -d tests/oracles/node/node_modules/parquet-wasm ] || [ ! -d tests/oracles/node/node_modules/apache-arrow ] || [ ! -d tests/oracles/node/node_modules/azurite ]; then
      # azurite (the Azure Storage emulator) is started by the blob tests themselves, each class on its own free
      # port with its own data folder (--skipApiVersionCheck --silent --disableTelemetry), and stopped by its PID
      echo "test.sh: npm install (tests/oracles/node)"
      (cd tests/oracles/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  fi
fi

# The deployment files must stay valid (there is no Docker engine here: the same topology runs as processes in the tests).
if command -v docker-compose >/dev/null; then
  docker-compose -f docker-compose.yml config -q
  echo "test.sh: docker-compose.yml is valid"
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: docker-compose is missing (apt-get install -y docker-compose)" >&2; exit 1
fi

dotnet build BatchCohort.sln -c Release -nologo -v q
log=$(mktemp)
set +e
dotnet test BatchCohort.sln -c Release --no-build -nologo -v q --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$( (grep -E '^\s+Passed:\s+[0-9]+' "$log" || true) | awk '{s+=$2} END {print s+0}' || true)
failed=$( (grep -E '^\s+Failed:\s+[0-9]+' "$log" || true) | awk '{s+=$2} END {print s+0}' || true)
skipped=$( (grep -E '^\s+Skipped:\s+[0-9]+' "$log" || true) | awk '{s+=$2} END {print s+0}' || true)
if [ "$failed" != "0" ] || [ "$rc" != "0" ]; then
  # CI keeps only the end of the output: name every failed test again here, with the first lines of its message
  echo "test.sh: failed tests:"
  (grep -E -A6 '^\s+Failed [A-Za-z]' "$log" || true) | cut -c1-400 | head -80
fi
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$rc"
