"""systemd unit files and their drop-ins, read the way systemd loads them (no systemctl, no D-Bus).

`load_unit(root, "docker.service")` finds the unit file that wins (the first of UNIT_DIRS holding it: systemd's
FragmentPath), its `NAME.d/*.conf` drop-ins (a file name in a directory of higher precedence hides the same name
below it; the survivors are applied in file-name order, after the unit file), and the settings runbench reads:
ExecStart (an empty `ExecStart=` resets the list; the last command is the one that runs), Environment and
EnvironmentFile (read, values redacted), ListenStream, SocketMode, SocketUser and SocketGroup. The ExecStart
argv is expanded with the unit's environment as systemd does: `$VAR` as a word of its own splits into words,
`${VAR}` is replaced inside a word. Every file is read through runbench.hostfs (via HostRoot). Parsing is pure.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runbench.secrets import redact, redact_argv, redact_label
from runbench.snapshot import EnvAssignment, EnvironmentFileFacts, SystemdUnit, UnitCommand, UnitSetting

if TYPE_CHECKING:  # the parsing half is pure and imported by runbench.daemonconfig, which runbench.collect.host uses
    from runbench.collect.host import HostRoot

# Where systemd (system manager) looks for units, highest precedence first (systemd.unit(5), "Unit File Load
# Path"); /lib/systemd/system is /usr/lib/systemd/system on merged-/usr systems and Debian's own elsewhere.
UNIT_DIRS = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
)
UNIT_CAP = 256 * 1024
ENV_FILE_CAP = 256 * 1024
MAX_DROPINS = 256
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EXEC_PREFIX = "-@:+!"


# --- parsing (pure) -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    """One `Key=value` of a unit file: its section, key, value (continuations joined) and 1-based line."""

    section: str
    key: str
    value: str
    line: int


def parse_unit(text: str) -> list[Assignment]:
    """The assignments of a unit file or drop-in, in order. Comments start with `#` or `;`; a line ending in a
    backslash continues on the next (the backslash becomes a space; comment lines inside are skipped)."""
    out: list[Assignment] = []
    section = ""
    pending: tuple[int, str] | None = None  # (line, text so far) of a continued assignment
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending is not None:
            if line.startswith(("#", ";")):
                continue
            start, head = pending
            if line.endswith("\\"):
                pending = (start, head + " " + line[:-1])
                continue
            pending = None
            _add(out, section, head + " " + line, start)
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if line.endswith("\\"):
            pending = (number, line[:-1])
            continue
        _add(out, section, line, number)
    if pending is not None:
        _add(out, section, pending[1], pending[0])
    return out


def _add(out: list[Assignment], section: str, line: str, number: int) -> None:
    key, eq, value = line.partition("=")
    if eq and key.strip():
        out.append(Assignment(section, key.strip(), value.strip(), number))


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "s": " ", "a": "\a", "b": "\b"}


def split_words(text: str) -> list[tuple[str, bool]]:
    """systemd's word splitting of a setting value (extract_first_word with quotes and C escapes): each word
    with whether it was written bare (no quotes and no escapes: only a bare `$VAR` word splits)."""
    words: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\n":
            i += 1
        if i >= n:
            break
        word: list[str] = []
        bare = True
        quote = ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and i + 1 < n:
                    i += 1
                    word.append(_ESCAPES.get(text[i], text[i]))
                else:
                    word.append(ch)
            elif ch in "\"'":
                quote, bare = ch, False
            elif ch == "\\" and i + 1 < n:
                i += 1
                bare = False
                word.append(_ESCAPES.get(text[i], text[i]))
            elif ch in " \t\n":
                break
            else:
                word.append(ch)
            i += 1
        words.append(("".join(word), bare))
    return words


def parse_environment(value: str) -> list[tuple[str, str]]:
    """The assignments of one `Environment=` value: space-separated `NAME=value` words (quotes group words);
    words that are no valid assignment are ignored, as systemd does."""
    out = []
    for word, _ in split_words(value):
        name, eq, val = word.partition("=")
        if eq and _ENV_NAME.match(name):
            out.append((name, val))
    return out


def parse_env_file(text: str) -> list[tuple[str, str, int]]:
    """The assignments of an environment file as systemd reads it (load_env_file): `NAME=value` lines, `#`
    and `;` comments, single quotes literal, double quotes and bare values with backslash escapes, a trailing
    backslash continuing a bare value. Names that are not valid (`export X=1`) are ignored. (name, value, line)."""
    out: list[tuple[str, str, int]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line.startswith(("#", ";")):
            continue
        name, eq, rest = line.partition("=")
        name = name.strip()
        if not eq:
            continue
        rest = rest.lstrip()
        while rest.endswith("\\") and not rest.endswith("\\\\") and i < len(lines) and rest[:1] not in "\"'":
            rest = rest[:-1] + lines[i].strip()
            i += 1
        value = _env_value(rest)
        if _ENV_NAME.match(name):
            out.append((name, value, number))
    return out


def _env_value(rest: str) -> str:
    if rest[:1] == "'":
        end = rest.find("'", 1)
        return rest[1:end] if end > 0 else rest[1:]
    if rest[:1] == '"':
        out: list[str] = []
        i = 1
        while i < len(rest) and rest[i] != '"':
            if rest[i] == "\\" and i + 1 < len(rest) and rest[i + 1] in '"\\`$\n':
                i += 1
            out.append(rest[i])
            i += 1
        return "".join(out)
    out = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == "\\" and i + 1 < len(rest):
            i += 1
            ch = rest[i]
        elif ch in "#" and (i == 0 or rest[i - 1] in " \t"):
            break  # a comment after the value
        out.append(ch)
        i += 1
    return "".join(out).rstrip()


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$")
_BARE_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\Z")


def split_exec(value: str) -> tuple[str, str]:
    """An ExecStart= value as (prefixes, command line): `-`, `@`, `:`, `+`, `!` and `!!` lead the line."""
    i = 0
    while i < len(value) and value[i] in _EXEC_PREFIX:
        i += 1
    return value[:i], value[i:].lstrip()


def expand_exec(command: str, env: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The argv of an ExecStart= command line with `env` applied as systemd applies it, and the variables it
    names that `env` lacks (they expand to nothing)."""
    argv: list[str] = []
    undefined: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        if name not in env:
            undefined.append(name)
        return env.get(name, "")

    for word, bare in split_words(command):
        whole = _BARE_VAR.match(word) if bare else None
        if whole is not None:
            name = whole.group(1)
            if name not in env:
                undefined.append(name)
            argv.extend(env.get(name, "").split())
            continue
        argv.append(_VAR.sub(sub, word))
    return tuple(argv), tuple(dict.fromkeys(undefined))


# --- loading (reads through HostRoot) ---------------------------------------------------------------


@dataclass(slots=True)
class _UnitState:
    exec_lines: list[UnitSetting] = field(default_factory=list)
    environment: list[EnvAssignment] = field(default_factory=list)
    env_files: list[UnitSetting] = field(default_factory=list)
    listen: list[UnitSetting] = field(default_factory=list)
    socket: dict[str, UnitSetting | None] = field(default_factory=dict)

    def apply(self, a: Assignment, path: str) -> None:
        where = UnitSetting(value="", path=path, line=a.line)
        if a.section == "Service":
            if a.key == "ExecStart":
                if not a.value:
                    self.exec_lines.clear()
                else:
                    self.exec_lines.append(UnitSetting(redact(a.value), path, a.line))
            elif a.key == "Environment":
                if not a.value:
                    self.environment.clear()
                for name, value in parse_environment(a.value):
                    self.environment.append(EnvAssignment(name, redact_label(name, value), path, a.line))
            elif a.key == "EnvironmentFile":
                if not a.value:
                    self.env_files.clear()
                else:
                    self.env_files.append(UnitSetting(a.value, path, a.line))
        elif a.section == "Socket":
            if a.key == "ListenStream":
                if not a.value:
                    self.listen.clear()
                else:
                    self.listen.append(UnitSetting(redact(a.value), path, a.line))
            elif a.key in ("SocketMode", "SocketUser", "SocketGroup"):
                self.socket[a.key] = UnitSetting(a.value, where.path, where.line) if a.value else None


def _unit_dir_of(path: str) -> str | None:
    return next((d for d in UNIT_DIRS if path.startswith(d + "/")), None)


def _errtext(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fragment(root: HostRoot, name: str, unread: list[str]) -> tuple[str, bool]:
    """The unit file that wins (FragmentPath) and whether it is masked (a link to /dev/null)."""
    for directory in UNIT_DIRS:
        path = f"{directory}/{name}"
        try:
            st = root.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            unread.append(f"{path}: {_errtext(exc)}")
            continue
        if stat.S_ISDIR(st.st_mode):
            continue
        masked = stat.S_ISLNK(st.st_mode) and root.resolve(path) == "/dev/null"
        return path, masked
    return "", False


def _dropins(root: HostRoot, name: str, unread: list[str]) -> list[str]:
    """NAME.d/*.conf of every unit directory: a file name seen in a directory of higher precedence hides the
    same name below; the survivors in file-name order."""
    chosen: dict[str, str] = {}
    for directory in UNIT_DIRS:
        where = f"{directory}/{name}.d"
        try:
            entries = root.scandir(where)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            unread.append(f"{where}: {_errtext(exc)}")
            continue
        for entry in entries:
            if entry.name.endswith(".conf") and entry.name not in chosen:
                chosen[entry.name] = f"{where}/{entry.name}"
    return [chosen[k] for k in sorted(chosen)][:MAX_DROPINS]


def _read_unit_file(root: HostRoot, path: str) -> tuple[str | None, str]:
    """A unit file's text (a symlink is followed only into a unit directory), or why not."""
    target = root.resolve(path) or path
    within = _unit_dir_of(target) if target != path else None
    found = root.read(path, max_bytes=UNIT_CAP, within=within, errors="replace")
    return found.text, found.why


def read_env_file(root: HostRoot, path: str, *, optional: bool, named_by: UnitSetting | None) -> EnvironmentFileFacts:
    """An environment file's assignments (values redacted), or why it was not read."""
    if not path.startswith("/"):
        why = "not an absolute path: systemd refuses it"
        return EnvironmentFileFacts(path=path, optional=optional, why=why, named_by=named_by)
    found = root.read(path, max_bytes=ENV_FILE_CAP, within=os.path.dirname(path), errors="replace")
    if found.text is None:
        return EnvironmentFileFacts(
            path=path,
            optional=optional,
            missing=found.missing,
            why="" if found.missing else found.why,
            named_by=named_by,
        )
    values = tuple(EnvAssignment(n, redact_label(n, v), path, line) for n, v, line in parse_env_file(found.text))
    return EnvironmentFileFacts(path=path, optional=optional, read=True, values=values, named_by=named_by)


def load_unit(root: HostRoot, name: str) -> SystemdUnit:
    """The unit `name` as systemd would load it from the host below `root`."""
    unread: list[str] = []
    fragment, masked = _fragment(root, name, unread)
    if not fragment:
        return SystemdUnit(name=name, unread=tuple(unread))
    if masked:
        return SystemdUnit(name=name, fragment_path=fragment, masked=True, unread=tuple(unread))
    dropins = _dropins(root, name, unread)
    state = _UnitState()
    for path in (fragment, *dropins):
        text, why = _read_unit_file(root, path)
        if text is None:
            unread.append(f"{path}: {why}")
            continue
        for a in parse_unit(text):
            state.apply(a, path)
    env_files = tuple(_env_files(root, state.env_files))
    env = {a.name: a.value for a in state.environment}
    for f in env_files:
        env.update((a.name, a.value) for a in f.values)
    commands = []
    for line in state.exec_lines:
        prefixes, command = split_exec(line.value)
        argv, undefined = expand_exec(command, env)
        commands.append(UnitCommand(setting=line, argv=redact_argv(argv), prefixes=prefixes, undefined=undefined))
    return SystemdUnit(
        name=name,
        fragment_path=fragment,
        dropins=tuple(dropins),
        exec_start=tuple(commands),
        environment=tuple(state.environment),
        environment_files=env_files,
        listen_streams=tuple(state.listen),
        socket_mode=state.socket.get("SocketMode"),
        socket_user=state.socket.get("SocketUser"),
        socket_group=state.socket.get("SocketGroup"),
        unread=tuple(unread),
    )


def _env_files(root: HostRoot, named: Iterable[UnitSetting]) -> Iterator[EnvironmentFileFacts]:
    for setting in named:
        optional = setting.value.startswith("-")
        path = setting.value[1:] if optional else setting.value
        yield read_env_file(root, path.strip(), optional=optional, named_by=setting)
