#!/usr/bin/env bash
# Run a command with a Docker engine available: scripts/with-engine.sh CMD [ARGS...]
# Reuses a reachable engine; otherwise starts one (scripts/engine.sh up) and stops it afterwards (unless
# another run is still using it). Exits with CMD's exit code.
#
# RUNBENCH_ENGINE selects the engine (see scripts/engine.sh):
#   default  (or unset) Debian bookworm's docker.io 20.10 on DOCKER_HOST (unset = the default socket);
#   current  Debian's docker.io 28.x from unstable, fetched once into $RUNBENCH_ENGINES_DIR and run as a
#            second, isolated daemon. CMD gets DOCKER_HOST (its socket), RUNBENCH_DOCKERD (its dockerd, so a
#            test that starts a daemon of its own starts the same generation), RUNBENCH_EXPECT_ENGINE (28.*)
#            and the engine's state dir and bridge (RUNBENCH_ENGINE_STATE, RUNBENCH_ENGINE_BRIDGE[_CIDR]).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: [RUNBENCH_ENGINE=default|current] $0 CMD [ARGS...]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The engine's environment, for engine.sh and for CMD; for `current` this downloads it on first use.
env_lines=$("$here/engine.sh" env)
eval "$env_lines"

# One test run per engine at a time: two integration sessions on one engine would remove each other's
# rbt-* containers. A second run (another `make test` on this machine) waits for the first to finish.
# Keyed by the engine's address, whatever state directory each run uses. fd 7 is not passed to the
# engine or to CMD, so nothing they leave running can hold the lock.
host_key=${DOCKER_HOST:-unix:///var/run/docker.sock}
[ "$host_key" = unix:///run/docker.sock ] && host_key=unix:///var/run/docker.sock
lock=/tmp/runbench-engine-run.$(printf '%s' "$host_key" | md5sum | cut -c1-16).lock
exec 7>>"$lock"
if ! flock -n 7; then
    echo "engine: another test run is using $host_key; waiting for it to finish" >&2
    flock -w "${RUNBENCH_ENGINE_WAIT:-1800}" 7 || { echo "engine: gave up waiting for $lock" >&2; exit 1; }
fi

# This run's registration: the engine is stopped by the last run using it.
engine() { RUNBENCH_ENGINE_USER=$$ "$here/engine.sh" "$@" 7>&-; }
trap 'engine down' EXIT
# CMD runs in the foreground so it keeps the terminal and its own Ctrl-C handling (pytest tears down its
# containers on KeyboardInterrupt). A signal sent to this wrapper alone takes effect when CMD ends; the
# EXIT trap then still stops the engine.
trap 'exit 130' INT
trap 'exit 143' TERM
engine up
rc=0
# Without RUNBENCH_ENGINE: a daemon CMD starts itself with scripts/engine.sh (its own DOCKER_HOST, state dir
# and bridge) must not be taken for this one.
env -u RUNBENCH_ENGINE "$@" 7>&- || rc=$?
exit "$rc"
