#!/usr/bin/env bash
# Run a command with a Docker engine available: scripts/with-engine.sh CMD [ARGS...]
# Reuses a reachable engine; otherwise starts one (scripts/engine.sh up) and always stops it afterwards.
# Exits with CMD's exit code.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
