#!/usr/bin/env bash
# Set up everything the test suite needs on a Debian machine, then run all of it.
#   bash scripts/test.sh [pytest arguments]
# As root it installs what is missing (Docker engine, debootstrap, Chromium,
# PostgreSQL, Redis) and starts the Docker engine; as another user it says what
# to install.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { [ "$(id -u)" = 0 ]; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v chromium >/dev/null || missing+=(chromium)
# --sandbox local compiles C exercises with the machine's own gcc.
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
# The server's distributed tests start their own PostgreSQL cluster and redis-server
# on 127.0.0.1 (tests/services.py): they need the programs only.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
# Chinese text in the site and its screenshots needs a CJK font.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  if as_root && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing ${missing[*]}: install them (Debian: sudo apt-get install ${missing[*]}); their tests will skip" >&2
  fi
fi

# The sandbox needs a running engine. This machine has no bridge networking,
# and the sandbox only ever uses `none`, so the engine starts without one.
if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1 && as_root; then
  echo "starting the Docker engine" >&2
  nohup dockerd --bridge=none --iptables=false >"${TMPDIR:-/tmp}/prep-dockerd.log" 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

if docker info >/dev/null 2>&1 && .venv/bin/prep sandbox --help >/dev/null 2>&1; then
  .venv/bin/prep sandbox build
  # Sandbox containers of runs a killed session left behind: nothing grades before the tests start.
  stale=$(docker ps -aq --filter label=org.prep.sandbox)
  if [ -n "$stale" ]; then docker rm -f $stale >/dev/null; fi
fi

status=0
.venv/bin/python -m pytest "$@" || status=$?
exit "$status"
