#!/usr/bin/env bash
# Runs the whole SecondBrain stack (Aspire AppHost: Redis, Postgres, Api replicas, Worker) with a demo tenant.
# Local mode needs no Docker and no cloud keys; prerequisites are checked and installed first.
#   ./run.sh                       auto: containers if Docker/Podman answers, else local processes
#   SECONDBRAIN_INFRA=local ./run.sh
#   ./run.sh --ApiReplicas 3       extra arguments go to the AppHost
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
exec dotnet run --project SecondBrain.AppHost --launch-profile http -- --Infra "${SECONDBRAIN_INFRA:-auto}" --Demo true "$@"
