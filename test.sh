#!/usr/bin/env bash
# Runs every test: unit tests and integration tests that start the real AppHost in local mode with several
# replicas. Prerequisites are checked and installed first. Tests that read ../shared/datasets skip, saying so,
# when it is absent; SECONDBRAIN_DATASETS points them elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
SECONDBRAIN_INFRA=local source eng/prerequisites.sh
if [ -z "${SECONDBRAIN_DATASETS:-}" ] && [ -d ../shared/datasets ]; then
  export SECONDBRAIN_DATASETS="$(cd ../shared/datasets && pwd)"
fi
dotnet build SecondBrain.sln -c Release --nologo -v quiet
dotnet test SecondBrain.sln -c Release --no-build --nologo --blame-hang-timeout 15m --logger "console;verbosity=normal" "$@"
