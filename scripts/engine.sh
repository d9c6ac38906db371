#!/usr/bin/env bash
# Bring up (or reuse) a Docker engine for runbench's integration tests, and stop it again.
#
#   scripts/engine.sh up             reuse the reachable engine (DOCKER_HOST honoured); else, as root, install
#                                    Debian's docker.io + busybox-static when missing and start dockerd.
#   scripts/engine.sh down           stop the dockerd that `up` started (and only that one).
#   scripts/engine.sh fetch-current  download the current engine (Debian's docker.io 28.x from unstable)
#                                    into $RUNBENCH_ENGINES_DIR once, and print the path of its dockerd.
#   scripts/engine.sh env            print the `export` lines of the engine RUNBENCH_ENGINE selects, for
#                                    eval "$(RUNBENCH_ENGINE=current scripts/engine.sh env)": DOCKER_HOST,
#                                    RUNBENCH_DOCKERD, RUNBENCH_EXPECT_ENGINE and the state dir and bridge
#                                    (fetches the current engine if needed); `up`/`down` then need nothing else.
#
# Two engines (RUNBENCH_ENGINE):
#   default  Debian bookworm's docker.io 20.10 (API 1.41): DOCKER_HOST as given (unset = the default socket).
#   current  Debian's docker.io 28.x from the unstable suite (API 1.51), run as a second, isolated daemon on
#            unix://$RUNBENCH_CURRENT_STATE/docker.sock with its own bridge rbt1 (10.214.0.1/24). Its dockerd
#            runs on bookworm with bookworm's containerd and runc; nothing is installed into the system
#            (apt-get download from a private sources list and state dir, dpkg-deb -x into a private dir).
#
# State lives in $RUNBENCH_ENGINE_STATE (default /tmp/runbench-engine; for `current`, $RUNBENCH_CURRENT_STATE,
# default /tmp/runbench-engine-28): dockerd.pid (present only when we started the daemon), dockerd.log,
# users/ (the runs using the engine), and for a non-default socket the daemon's own data and exec roots
# (data/ and exec/; data-<major>/ and exec-<major>/ for a RUNBENCH_DOCKERD binary, so that engines of two
# generations never share a data root).
#
# DOCKER_HOST unset or the default socket: plain `dockerd` (default paths).
# DOCKER_HOST=unix:///some/other.sock: a second, isolated dockerd on that socket with its own --data-root,
# --exec-root, --pidfile and its OWN bridge ($RUNBENCH_ENGINE_BRIDGE, default rbt0, 10.213.0.1/24), created
# here and deleted by `down`. Never `--bridge none` (it deletes the host's docker0). The second daemon runs
# with --iptables=false: the bridge driver of a starting dockerd removes and recreates the shared DOCKER
# iptables chains, which would wipe the port mappings of the daemon already running on this host.
# RUNBENCH_DOCKERD=/path/to/dockerd runs that binary instead of the one on PATH (second daemons only); its
# directory goes first on the daemon's PATH so that it uses its own docker-proxy and docker-init.
#
# Sharing: with RUNBENCH_ENGINE_USER set (scripts/with-engine.sh sets it to its pid), `up` registers that
# user and `down` stops the daemon only when no other registered run is still alive (nor a hand-started
# `up`); both hold a lock on the state dir. A plain `scripts/engine.sh down` stops the daemon we started,
# whoever uses it.
set -euo pipefail

PROFILE=${RUNBENCH_ENGINE:-default}

CURRENT_MAJOR=${RUNBENCH_CURRENT_MAJOR:-28}
CURRENT_SUITE=${RUNBENCH_CURRENT_SUITE:-unstable}
ENGINES_DIR=${RUNBENCH_ENGINES_DIR:-/opt/runbench-engines}

case "$PROFILE" in
    default) ;;
    current)
        # The current engine: its own state dir, socket and bridge, whatever the caller had for the default.
        RUNBENCH_ENGINE_STATE=${RUNBENCH_CURRENT_STATE:-/tmp/runbench-engine-$CURRENT_MAJOR}
        DOCKER_HOST=unix://$RUNBENCH_ENGINE_STATE/docker.sock
        RUNBENCH_ENGINE_BRIDGE=${RUNBENCH_CURRENT_BRIDGE:-rbt1}
        RUNBENCH_ENGINE_BRIDGE_CIDR=${RUNBENCH_CURRENT_BRIDGE_CIDR:-10.214.0.1/24}
        RUNBENCH_EXPECT_ENGINE=${RUNBENCH_EXPECT_ENGINE:-$CURRENT_MAJOR.*}
        export DOCKER_HOST
        ;;
    *) echo "engine: RUNBENCH_ENGINE must be 'default' or 'current', not '$PROFILE'" >&2; exit 2 ;;
esac

STATE=${RUNBENCH_ENGINE_STATE:-/tmp/runbench-engine}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
BRIDGE=${RUNBENCH_ENGINE_BRIDGE:-rbt0}
BRIDGE_CIDR=${RUNBENCH_ENGINE_BRIDGE_CIDR:-10.213.0.1/24}
UP_TIMEOUT=${RUNBENCH_ENGINE_UP_TIMEOUT:-60}
DOWN_TIMEOUT=${RUNBENCH_ENGINE_DOWN_TIMEOUT:-30}
EXPECT=${RUNBENCH_EXPECT_ENGINE:-}
ENGINE_USER=${RUNBENCH_ENGINE_USER:-}

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

server_version() { timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null || true; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# The reachable engine must be the one asked for (RUNBENCH_EXPECT_ENGINE, a glob over its version).
check_expected() {
    [ -n "$EXPECT" ] || return 0
    local version
    version=$(server_version)
    # shellcheck disable=SC2053
    if [[ "$version" != $EXPECT ]]; then
        die "the engine on ${DOCKER_HOST:-the default socket} is version '${version:-?}', expected $EXPECT"
    fi
}

# -- sharing -----------------------------------------------------------------------------------------------

lock_state() {
    mkdir -p "$STATE"
    exec 9>"$STATE/lock"
    flock 9
}

# A run (with-engine.sh) registers its pid; a daemon started by hand (`up` without RUNBENCH_ENGINE_USER)
# is marked "manual", so that runs reusing it leave it running until a plain `down`.
register_user() {
    mkdir -p "$STATE/users"
    : >"$STATE/users/${ENGINE_USER:-manual}"
}

# Unregister ENGINE_USER and print the registered users still alive (dead ones are dropped).
other_users() {
    [ -d "$STATE/users" ] || return 0
    [ -n "$ENGINE_USER" ] && rm -f "$STATE/users/$ENGINE_USER"
    local f pid
    for f in "$STATE/users"/*; do
        [ -e "$f" ] || continue
        pid=${f##*/}
        case "$pid" in
            *[!0-9]*) echo "$pid" ;;
            *) if pid_alive "$pid"; then echo "$pid"; else rm -f "$f"; fi ;;
        esac
    done
}

# -- install and fetch -------------------------------------------------------------------------------------

install_packages() {
    if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && [ -x /bin/busybox ]; then
        return 0
    fi
    mkdir -p "$STATE"
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

# The Debian mirror this system's apt already uses for its own release (main): the current engine comes
# from the same place, only from another suite. RUNBENCH_DEBIAN_MIRROR overrides it.
debian_mirror() {
    if [ -n "${RUNBENCH_DEBIAN_MIRROR:-}" ]; then
        echo "$RUNBENCH_DEBIAN_MIRROR"
        return 0
    fi
    local codename uri
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "cannot tell this system's Debian release from /etc/os-release; set RUNBENCH_DEBIAN_MIRROR"
    # shellcheck disable=SC2016  # apt's own $(FIELD) format, not the shell's
    uri=$(apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(COMPONENT) $(REPO_URI)' 2>/dev/null |
        awk -v c="$codename" '$1 == "deb" && $2 == c && $3 == "main" { print $4; exit }')
    if [ -z "$uri" ]; then
        # No package lists yet: read the sources themselves (one-line and deb822 formats).
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk -v c="$codename" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                                  if ($(i + 1) == c) { print $i; exit } }')
    fi
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v c="$codename" '
            function flush() { if (deb && ok && u != "") { print u; exit } deb = ok = 0; u = "" }
            /^[ \t]*$/ { flush(); next }
            tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            tolower($1) == "uris:" { u = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == c) ok = 1 }
            END { flush() }')
    fi
    [ -n "$uri" ] || die "found no Debian mirror for '$codename' in this system's apt sources; set RUNBENCH_DEBIAN_MIRROR"
    echo "${uri%/}"
}

# Print the dockerd of the current engine, downloading and unpacking it the first time.
# Layout: $ENGINES_DIR/docker.io_<version>/ (the unpacked docker.io and tini-static packages, plus bin/ with
# dockerd, docker-proxy and docker-init), $ENGINES_DIR/docker-<major> -> docker.io_<version>, and
# $ENGINES_DIR/apt (the private apt state).
cmd_fetch_current() {
    local link=$ENGINES_DIR/docker-$CURRENT_MAJOR
    if [ -z "${RUNBENCH_CURRENT_REFRESH:-}" ] && "$link/bin/dockerd" --version >/dev/null 2>&1 &&
        [ -x "$link/usr/bin/tini-static" ]; then
        echo "$link/bin/dockerd"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "fetching the current engine needs root (apt-get download into $ENGINES_DIR)"
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
        die "fetching the current engine needs apt-get and dpkg-deb (a Debian system)"
    fi
    mkdir -p "$ENGINES_DIR"
    exec 8>"$ENGINES_DIR/.lock"
    flock 8
    if [ -z "${RUNBENCH_CURRENT_REFRESH:-}" ] && "$link/bin/dockerd" --version >/dev/null 2>&1 &&
        [ -x "$link/usr/bin/tini-static" ]; then
        echo "$link/bin/dockerd"   # another run fetched it while we waited for the lock
        return 0
    fi

    # A private apt: only the $CURRENT_SUITE suite, its own lists and cache. The system's sources, lists,
    # cache and installed packages are left alone; nothing is installed (apt-get download + dpkg-deb -x).
    local apt=$ENGINES_DIR/apt mirror keyring
    mirror=$(debian_mirror)
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || die "missing $keyring (package debian-archive-keyring)"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/debs"
    echo "deb [signed-by=$keyring] $mirror $CURRENT_SUITE main" >"$apt/sources.list"
    local -a aptopts=(
        -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o "APT::Sandbox::User=root"
    )
    say "fetching docker.io $CURRENT_MAJOR.x from Debian $CURRENT_SUITE ($mirror) into $ENGINES_DIR"
    apt-get "${aptopts[@]}" -qq update >"$apt/update.log" 2>&1 ||
        { tail -n 20 "$apt/update.log" >&2; die "apt-get update of the private $CURRENT_SUITE list failed; log: $apt/update.log"; }
    local version
    version=$(apt-cache "${aptopts[@]}" madison docker.io |
        awk -F'|' -v m="$CURRENT_MAJOR" '{ gsub(/ /, "", $2) } index($2, m ".") == 1 && $3 ~ /Packages/ { print $2; exit }')
    [ -n "$version" ] || die "Debian $CURRENT_SUITE has no docker.io $CURRENT_MAJOR.x (apt-cache madison docker.io: $(apt-cache "${aptopts[@]}" madison docker.io | tr '\n' ';'))"
    # docker-init is tini-static, a package of its own that docker.io depends on: fetched with it.
    local tini_version
    tini_version=$(apt-cache "${aptopts[@]}" madison tini-static |
        awk -F'|' '$3 ~ /Packages/ { gsub(/ /, "", $2); print $2; exit }')
    [ -n "$tini_version" ] || die "Debian $CURRENT_SUITE has no tini-static (docker.io's docker-init)"
    local dir=$ENGINES_DIR/docker.io_$version
    if ! "$dir/bin/dockerd" --version >/dev/null 2>&1 || [ ! -x "$dir/usr/bin/tini-static" ]; then
        rm -f "$apt/debs"/*.deb
        (cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "docker.io=$version" "tini-static=$tini_version") \
            >"$apt/download.log" 2>&1 ||
            { tail -n 20 "$apt/download.log" >&2; die "apt-get download docker.io=$version tini-static=$tini_version failed; log: $apt/download.log"; }
        local tmp=$dir.tmp.$$ deb
        rm -rf "$tmp"
        mkdir -p "$tmp/bin"
        for deb in "$apt/debs"/*.deb; do
            dpkg-deb -x "$deb" "$tmp"
        done
        # What dockerd looks up on PATH: its own docker-proxy, and docker-init (tini-static).
        ln -s ../usr/sbin/dockerd "$tmp/bin/dockerd"
        ln -s ../usr/sbin/docker-proxy "$tmp/bin/docker-proxy"
        ln -s ../usr/bin/tini-static "$tmp/bin/docker-init"
        local f
        for f in dockerd docker-proxy docker-init; do
            [ -x "$tmp/bin/$f" ] || die "the unpacked packages hold no $f"
        done
        "$tmp/bin/dockerd" --version >/dev/null || die "the unpacked dockerd $version does not run on this system"
        rm -rf "$dir"
        mv "$tmp" "$dir"
        rm -f "$apt/debs"/*.deb
    fi
    ln -sfn "docker.io_$version" "$link.tmp"
    mv -T "$link.tmp" "$link"
    say "current engine: $("$link/bin/dockerd" --version) in $dir"
    echo "$link/bin/dockerd"
}

cmd_env() {
    if [ "$PROFILE" = current ]; then
        local dockerd=${RUNBENCH_DOCKERD:-}
        [ -n "$dockerd" ] || dockerd=$(cmd_fetch_current)
        # Everything `up` and `down` need, without RUNBENCH_ENGINE itself: a shell (or a test) that starts
        # a daemon of its own with other DOCKER_HOST / state / bridge values gets exactly those.
        printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
        printf 'export RUNBENCH_DOCKERD=%q\n' "$dockerd"
        printf 'export RUNBENCH_EXPECT_ENGINE=%q\n' "$EXPECT"
        printf 'export RUNBENCH_ENGINE_STATE=%q\n' "$STATE"
        printf 'export RUNBENCH_ENGINE_BRIDGE=%q\n' "$BRIDGE"
        printf 'export RUNBENCH_ENGINE_BRIDGE_CIDR=%q\n' "$BRIDGE_CIDR"
    else
        printf '# the default engine: DOCKER_HOST as it is (%s)\n' "${DOCKER_HOST:-unset}"
    fi
}

# -- up and down -------------------------------------------------------------------------------------------

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
    if [ "$PROFILE" = current ] && [ -z "${RUNBENCH_DOCKERD:-}" ]; then
        RUNBENCH_DOCKERD=$(cmd_fetch_current)
    fi
    local sock
    sock=$(socket_path)
    if [ -n "${RUNBENCH_DOCKERD:-}" ] && [ -z "$sock" ]; then
        die "RUNBENCH_DOCKERD=$RUNBENCH_DOCKERD runs only as a second, isolated daemon: set DOCKER_HOST=unix:///some/other.sock
        (it must never take over the default socket and /var/lib/docker)"
    fi
    if [ "$(id -u)" -eq 0 ]; then
        lock_state
    fi
    if engine_ok; then
        check_expected
        [ "$(id -u)" -eq 0 ] && [ -n "$ENGINE_USER" ] && register_user
        echo "engine: using the reachable engine ($(server_version) on ${DOCKER_HOST:-the default socket})"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "no Docker engine is reachable (DOCKER_HOST=${DOCKER_HOST:-unset}) and starting one needs root.
        Start Docker yourself (or point DOCKER_HOST at a running engine), or re-run as root."
    fi
    if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then
        die "a dockerd we started earlier (pid $(cat "$PIDFILE")) is running but not answering; run '$0 down' first"
    fi
    rm -f "$PIDFILE"
    rm -rf "$STATE/users"   # whoever was registered used an engine that is gone
    install_packages

    local daemon_path=$PATH
    if [ -n "${RUNBENCH_DOCKERD:-}" ]; then
        [ -x "$RUNBENCH_DOCKERD" ] || die "RUNBENCH_DOCKERD=$RUNBENCH_DOCKERD is not an executable file"
        [ "$(basename "$RUNBENCH_DOCKERD")" = dockerd ] || die "RUNBENCH_DOCKERD must name a file called dockerd"
        # Its own directory first: dockerd finds docker-proxy and docker-init on PATH.
        daemon_path=$(dirname "$RUNBENCH_DOCKERD"):$PATH
    fi
    local resolved
    resolved=$(PATH=$daemon_path command -v dockerd) || die "no dockerd on PATH"

    local -a args=()
    if [ -n "$sock" ]; then
        # One data root per dockerd binary's major version: engines do not support downgrading a data root,
        # and the same state dir may be used by the system's dockerd and by RUNBENCH_DOCKERD in turn.
        local data=$STATE/data exec_root=$STATE/exec
        if [ -n "${RUNBENCH_DOCKERD:-}" ]; then
            local major
            major=$("$RUNBENCH_DOCKERD" --version | sed -n 's/^Docker version \([0-9][0-9]*\)\..*/\1/p')
            [ -n "$major" ] || die "cannot tell the version of $RUNBENCH_DOCKERD"
            data=$STATE/data-$major
            exec_root=$STATE/exec-$major
        fi
        mkdir -p "$(dirname "$sock")" "$data" "$exec_root"
        bridge_up
        touch "$STATE/private"
        args=(-H "unix://$sock" --data-root "$data" --exec-root "$exec_root"
              --pidfile "$STATE/dockerd.self.pid" --bridge "$BRIDGE" --iptables=false --ip-masq=false)
        say "starting a second dockerd on $sock ($resolved; state in $STATE)"
    else
        say "starting dockerd ($resolved; log: $LOG)"
    fi
    # shellcheck disable=SC2206
    local -a extra=(${RUNBENCH_DOCKERD_ARGS:-})
    : >"$LOG"
    # setsid: the daemon must not die with the shell or terminal that started it. Started by name (argv[0]
    # "dockerd", as a service would be) from $daemon_path.
    # fd 9 (the state lock) is not inherited.
    PATH=$daemon_path setsid dockerd "${args[@]}" "${extra[@]}" </dev/null >>"$LOG" 2>&1 9>&- &
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
            stop_daemon || true
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    register_user
    say "dockerd $(server_version) is up (pid $pid, ${waited}s)"
    if ! ( check_expected ); then
        stop_daemon || true
        exit 1
    fi
}

stop_daemon() {
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

cmd_down() {
    if [ "$(id -u)" -eq 0 ] && [ -d "$STATE" ]; then
        lock_state
    fi
    if [ -n "$ENGINE_USER" ]; then
        local others
        others=$(other_users | tr '\n' ' ')
        if [ -n "$others" ] && [ -f "$PIDFILE" ]; then
            say "dockerd (pid $(cat "$PIDFILE")) is still used by run(s) ${others% }; leaving it to the last one"
            return 0
        fi
    else
        rm -rf "$STATE/users"
    fi
    stop_daemon
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    fetch-current) cmd_fetch_current ;;
    env) cmd_env ;;
    *) echo "usage: $0 up|down|fetch-current|env" >&2; exit 2 ;;
esac
