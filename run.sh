#!/usr/bin/env bash
# Runs the whole SecondBrain stack (Aspire AppHost: Redis, Postgres, Api replicas, Worker) with a demo tenant.
# Local mode needs no Docker and no cloud keys; prerequisites are checked and installed first.
#   ./run.sh                       auto: containers if Docker/Podman answers, else local processes
#   SECONDBRAIN_INFRA=local ./run.sh
#   ./run.sh --ApiReplicas 3       extra arguments go to the AppHost
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
# smtp4dev shows the mails the stack sends (password resets) in a web UI linked from the dashboard; local mode runs the tool.
if [ "${SECONDBRAIN_INFRA:-auto}" != "container" ] && ! command -v smtp4dev >/dev/null 2>&1 && [ ! -x "$HOME/.dotnet/tools/smtp4dev" ]; then
  dotnet tool install -g Rnwood.Smtp4dev --version 3.15.0 >/dev/null 2>&1 || echo "note: could not install smtp4dev; mails wait in the outbox."
fi
exec dotnet run --project SecondBrain.AppHost --launch-profile http -- --Infra "${SECONDBRAIN_INFRA:-auto}" --Demo true "$@"
