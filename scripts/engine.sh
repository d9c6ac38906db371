#!/usr/bin/env bash
# Bring up (or reuse) a Docker engine for runbench's integration tests, and stop it again.
#
#   scripts/engine.sh up     reuse the reachable engine (DOCKER_HOST honoured); else, as root, install
#                            Debian's docker.io + busybox-static when missing and start dockerd.
#   scripts/engine.sh down   stop the dockerd that `up` started (and only that one).
#
# State lives in $RUNBENCH_ENGINE_STATE (default /tmp/runbench-engine): dockerd.pid (present only when we
# started the daemon), dockerd.log, and for a non-default socket the daemon's own data/exec roots.
#
# DOCKER_HOST unset or the default socket: plain `dockerd` (default paths).
# DOCKER_HOST=unix:///some/other.sock: a second, isolated dockerd on that socket with its own --data-root,
# --exec-root, --pidfile and its OWN bridge (rbt0, 10.213.0.1/24), created here and deleted by `down`.
# Never `--bridge none` (it deletes the host's docker0). The second daemon runs with --iptables=false:
# the bridge driver of a starting dockerd removes and recreates the shared DOCKER iptables chains, which
# would wipe the port mappings of the daemon already running on this host.
set -euo pipefail

STATE=${RUNBENCH_ENGINE_STATE:-/tmp/runbench-engine}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
BRIDGE=${RUNBENCH_ENGINE_BRIDGE:-rbt0}
BRIDGE_CIDR=${RUNBENCH_ENGINE_BRIDGE_CIDR:-10.213.0.1/24}
UP_TIMEOUT=${RUNBENCH_ENGINE_UP_TIMEOUT:-60}
DOWN_TIMEOUT=${RUNBENCH_ENGINE_DOWN_TIMEOUT:-30}

say() { printf 'engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Socket path from DOCKER_HOST; empty means "the default socket".
socket_path() {
    local host=${DOCKER_HOST:-}
    case "$host" in
        "" | unix:///var/run/docker.sock | unix:///run/docker.sock) echo "" ;;
        unix://*) echo "${host#unix://}" ;;
        *) die "cannot start an engine for DOCKER_HOST=$host (only unix sockets); make it reachable or unset DOCKER_HOST" ;;
    esac
}

engine_ok() { timeout 10 docker version >/dev/null 2>&1; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

install_packages() {
    if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && [ -x /bin/busybox ]; then
        return 0
    fi
    say "installing docker.io and busybox-static (apt)"
    local guard=""
    # Keep the package scripts from starting a daemon behind our back (no init system here anyway).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    local rc=0
    {
        apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io busybox-static
    } >"$STATE/apt.log" 2>&1 || rc=$?
    [ -n "$guard" ] && rm -f "$guard"
    if [ "$rc" -ne 0 ]; then
        tail -n 30 "$STATE/apt.log" >&2 || true
        die "apt-get failed (exit $rc); full log: $STATE/apt.log"
    fi
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
}

bridge_up() {
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        say "bridge $BRIDGE already exists; reusing it"
    else
        ip link add "$BRIDGE" type bridge
        ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
        echo "$BRIDGE" >"$STATE/bridge"
    fi
    ip link set "$BRIDGE" up
}

# dockerd leaves its default network namespace mounted under its exec root when it exits; unmount
# whatever is still mounted below $STATE (a second daemon's private roots only).
unmount_state() {
    [ -f "$STATE/private" ] || return 0
    local target
    awk -v root="$STATE/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r target; do
        umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || say "could not unmount $target"
    done
    rm -f "$STATE/private"
}

bridge_down() {
    if [ -f "$STATE/bridge" ]; then
        local br
        br=$(cat "$STATE/bridge")
        ip link del "$br" 2>/dev/null || true
        rm -f "$STATE/bridge"
    fi
}

cmd_up() {
    if engine_ok; then
        echo "engine: using the reachable engine"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "no Docker engine is reachable (DOCKER_HOST=${DOCKER_HOST:-unset}) and starting one needs root.
        Start Docker yourself (or point DOCKER_HOST at a running engine), or re-run as root."
    fi
    local sock
    sock=$(socket_path)
    mkdir -p "$STATE"
    if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then
        die "a dockerd we started earlier (pid $(cat "$PIDFILE")) is running but not answering; run '$0 down' first"
    fi
    rm -f "$PIDFILE"
    install_packages

    local -a args=()
    if [ -n "$sock" ]; then
        mkdir -p "$(dirname "$sock")" "$STATE/data" "$STATE/exec"
        bridge_up
        touch "$STATE/private"
        args=(-H "unix://$sock" --data-root "$STATE/data" --exec-root "$STATE/exec"
              --pidfile "$STATE/dockerd.self.pid" --bridge "$BRIDGE" --iptables=false --ip-masq=false)
        say "starting a second dockerd on $sock (state in $STATE)"
    else
        say "starting dockerd (log: $LOG)"
    fi
    # shellcheck disable=SC2206
    local -a extra=(${RUNBENCH_DOCKERD_ARGS:-})
    : >"$LOG"
    # setsid: the daemon must not die with the shell or terminal that started it.
    setsid dockerd "${args[@]}" "${extra[@]}" </dev/null >>"$LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"

    local waited=0
    while ! engine_ok; do
        if ! pid_alive "$pid"; then
            say "dockerd (pid $pid) exited during startup; last log lines:"
            tail -n 40 "$LOG" >&2 || true
            rm -f "$PIDFILE"
            unmount_state
            bridge_down
            exit 1
        fi
        if [ "$waited" -ge "$UP_TIMEOUT" ]; then
            say "dockerd (pid $pid) did not answer within ${UP_TIMEOUT}s; last log lines:"
            tail -n 40 "$LOG" >&2 || true
            cmd_down || true
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "dockerd is up (pid $pid, ${waited}s)"
}

cmd_down() {
    if [ ! -f "$PIDFILE" ]; then
        say "no dockerd started by us (no $PIDFILE); nothing to stop"
        return 0
    fi
    local pid
    pid=$(cat "$PIDFILE")
    if pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
        say "stopping dockerd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while pid_alive "$pid" && [ "$waited" -lt "$((DOWN_TIMEOUT * 10))" ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if pid_alive "$pid"; then
            say "dockerd (pid $pid) still running after ${DOWN_TIMEOUT}s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
        fi
    else
        say "dockerd pid $pid is not running"
    fi
    rm -f "$PIDFILE"
    unmount_state
    bridge_down
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
