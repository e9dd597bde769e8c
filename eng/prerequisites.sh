#!/usr/bin/env bash
# Checks, and where it can installs, what SecondBrain's local mode needs besides the .NET SDK:
# redis-server and the PostgreSQL server (postgres, initdb, with contrib). Sourced by run.sh and test.sh.
set -euo pipefail

need_packages=()
have() { command -v "$1" >/dev/null 2>&1; }
have_pg() { have "$1" || compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null; }

if ! have dotnet; then
  echo "error: the .NET SDK (10.0) is required: https://dot.net/download" >&2
  exit 1
fi

have redis-server || need_packages+=(redis-server)
if ! have_pg postgres || ! have_pg initdb; then
  need_packages+=(postgresql postgresql-contrib)
fi

if [ "${#need_packages[@]}" -gt 0 ]; then
  if [ "${SECONDBRAIN_INFRA:-auto}" = "container" ]; then
    echo "note: ${need_packages[*]} not installed; fine in container mode."
  elif have apt-get; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      if have sudo; then sudo="sudo"; else
        echo "error: install ${need_packages[*]} (apt-get install -y ${need_packages[*]}) and run again." >&2
        exit 1
      fi
    fi
    echo "Installing ${need_packages[*]} (local mode runs them as plain processes)..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_packages[@]}" >/dev/null
    # The Debian packages start system-wide services we do not use; SecondBrain runs its own instances.
    for svc in redis-server postgresql; do
      $sudo service "$svc" stop >/dev/null 2>&1 || true
    done
  else
    echo "error: local mode needs ${need_packages[*]}; install them with your package manager, or use Docker (SECONDBRAIN_INFRA=container)." >&2
    exit 1
  fi
fi

# The AppHost runs postgres as the 'postgres' user when started as root (postgres refuses root).
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
