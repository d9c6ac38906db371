#!/usr/bin/env bash
# Run a command with a Docker engine available: scripts/with-engine.sh CMD [ARGS...]
# Reuses a reachable engine; otherwise starts one (scripts/engine.sh up) and stops it afterwards (unless
# another run is still using it). Exits with CMD's exit code.
#
# RUNBENCH_ENGINE selects the engine (see scripts/engine.sh):
#   default  (or unset) Debian bookworm's docker.io 20.10 on DOCKER_HOST (unset = the default socket);
#   current  Debian's docker.io 28.x from unstable, fetched once into $RUNBENCH_ENGINES_DIR and run as a
#            second, isolated daemon; CMD gets DOCKER_HOST pointing at its socket.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: [RUNBENCH_ENGINE=default|current] $0 CMD [ARGS...]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The engine's environment (DOCKER_HOST, state dir, bridge, dockerd binary) for engine.sh and for CMD.
# For `current` this downloads the engine on first use.
env_lines=$("$here/engine.sh" env)
eval "$env_lines"
export RUNBENCH_ENGINE_USER=$$
trap '"$here/engine.sh" down' EXIT
# CMD runs in the foreground so it keeps the terminal and its own Ctrl-C handling (pytest tears down its
# containers on KeyboardInterrupt). A signal sent to this wrapper alone takes effect when CMD ends; the
# EXIT trap then still stops the engine.
trap 'exit 130' INT
trap 'exit 143' TERM
"$here/engine.sh" up
rc=0
"$@" || rc=$?
exit "$rc"
