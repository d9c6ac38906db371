"""The daemon's effective configuration, built in one place.

`build` turns what the collector read — dockerd's command line, daemon.json and `docker info` — into one
DaemonConfig: every key with each value given, where it was given (argv, daemon.json:LINE, info) and how it was
written, the keys set both as a flag and in the file, and the keys dockerd does not know. `lookup` answers one
key: its effective value, or why that value cannot be told. Both are pure; secrets are redacted on the way in.

Rules followed (moby v20.10-v28): flags are parsed the way spf13/pflag parses them; a key given both as a flag
and in daemon.json makes dockerd refuse to start or reload (daemon/config findConfigurationConflicts), so when
both appear the flag is what the running daemon uses; `docker info` reports some settings live and wins.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from runbench import secrets
from runbench.collect.systemd import split_exec, split_words
from runbench.secrets import looks_secret_name, redact_argv, stub
from runbench.semantics import (
    DAEMON_OPTIONS,
    DEFAULT_DAEMON_JSON,
    ULIMIT_NAMES,
    ArgForm,
    DaemonOption,
    OptionKind,
    daemon_json_option,
    daemon_option,
    parse_bool,
    parse_go_int,
)
from runbench.snapshot.daemon import ConfigValue, DaemonConfig, Origin, Setting
from runbench.snapshot.host import EnvAssignment, SystemdUnit, UnitCommand

__all__ = ["build", "config_file", "lookup", "mask_userinfo", "redact"]


@dataclass(frozen=True, slots=True)
class _Entry:
    """One value read from one source, filed under its setting's name."""

    key: str  # the option's name, or the unknown key / flag as written
    known: bool  # False: no dockerd option by that name
    value: ConfigValue


# --- redaction ------------------------------------------------------------------------------------


def mask_userinfo(text: str) -> str:
    """URLs keep their user name and lose their password: `https://bob:pw@mirror` -> `https://bob:***@mirror`."""
    return secrets.mask_userinfo(text)


def _redact_text(text: str, secret: bool) -> str:
    """A string as it may enter the snapshot: a stub when its name says secret, else through the redaction rules
    for every free-text field (runbench.secrets.redact: URL passwords, `token=...` parts, `--password v` ...)."""
    return stub(text) if secret else secrets.redact(text)


def redact(value: Any, secret: bool = False) -> Any:
    """A JSON value with its secrets redacted: strings under a secret-looking name (at any depth) become stubs,
    other strings go through the text rules (URL passwords, `token=...` parts)."""
    if isinstance(value, str):
        return _redact_text(value, secret)
    if isinstance(value, Mapping):
        return {k: redact(v, secret or looks_secret_name(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    if secret and isinstance(value, int | float) and not isinstance(value, bool):
        return stub(str(value))
    return value


# --- argv -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Arg:
    """One flag occurrence on the command line."""

    name: str  # the flag as named, without dashes
    option: DaemonOption | None
    text: str | None  # the value as written; None for a bare switch
    prefix: str  # how it was written up to the value: "--log-opt=", "--log-opt ", "-H", "-Dl"
    at: int = 0  # the index in argv of the word holding the value (of the flag, for a switch)


def _long_flag(token: str, rest: Sequence[str]) -> tuple[list[_Arg], int]:
    """`--name=value`, `--name value`, `--switch`: the flag and how many following arguments it took."""
    body = token[2:]
    if not body or body[0] in "-=":
        return [], 0  # pflag: bad flag syntax
    name, eq, value = body.partition("=")
    option = daemon_option("--" + name)
    if eq:
        return [_Arg(name, option, value, f"--{name}=")], 0
    if option is not None and option.kind is OptionKind.BOOL:
        return [_Arg(name, option, None, f"--{name}")], 0
    if option is None and (not rest or rest[0].startswith("-")):
        return [_Arg(name, None, None, f"--{name}")], 0
    if not rest:
        return [], 0  # pflag: flag needs an argument
    return [_Arg(name, option, rest[0], f"--{name} ")], 1


def _short_flags(token: str, rest: Sequence[str]) -> tuple[list[_Arg], int]:
    """`-H value`, `-Hvalue`, `-H=value` and clusters of switches (`-Dl debug`), as pflag's parseShortArg reads
    them; an unknown letter takes the next word as value only when it ends the cluster (pflag's rule for
    flags it ignores)."""
    out: list[_Arg] = []
    pos = 1
    while pos < len(token):
        letter, after = token[pos], token[pos + 1 :]
        option = daemon_option("-" + letter)
        if len(after) >= 2 and after[0] == "=":
            return [*out, _Arg(letter, option, after[1:], token[: pos + 2])], 0
        if option is None and not after and rest and not rest[0].startswith("-"):
            return [*out, _Arg(letter, None, rest[0], f"-{letter} ")], 1
        if option is None or option.kind is OptionKind.BOOL:
            out.append(_Arg(letter, option, None, f"-{letter}"))
            pos += 1
            continue
        if after:
            return [*out, _Arg(letter, option, after, token[: pos + 1])], 0
        if rest:
            return [*out, _Arg(letter, option, rest[0], f"{token} ")], 1
        return out, 0  # pflag: flag needs an argument
    return out, 0


def _scan_argv(argv: Sequence[str]) -> Iterator[_Arg]:
    """Every flag on a dockerd command line, in order: argv[0] (the program) skipped, `--` ends the flags, and
    positional words (dockerd takes none) are passed over."""
    args = list(argv[1:])
    i = 0
    while i < len(args):
        token, rest = args[i], args[i + 1 :]
        i += 1
        if token == "--":
            return
        if token.startswith("--"):
            found, used = _long_flag(token, rest)
        elif token.startswith("-") and token != "-":
            found, used = _short_flags(token, rest)
        else:
            continue
        for arg in found:
            yield replace(arg, at=i + used if arg.text is not None else i)
        i += used


def _fields(text: str) -> list[str] | None:
    """The comma-separated fields of one flag value, read as CSV the way dockerd reads them."""
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return None


def _decimal(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64) (and Atoi): decimal digits with an optional sign, in int64 range."""
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def _ulimit(text: str) -> Any:
    name, eq, limits = text.partition("=")
    numbers = [_decimal(n) for n in limits.split(":")]
    if not eq or name not in ULIMIT_NAMES or len(numbers) > 2 or None in numbers:
        return None
    soft, hard = numbers[0], numbers[-1]
    if soft is None or hard is None or (hard != -1 and (soft == -1 or soft > hard)):
        return None
    return {name: {"Name": name, "Hard": hard, "Soft": soft}}


def _runtime(text: str) -> Any:
    name, _, path = text.partition("=")
    name, path = name.strip().lower(), path.strip()
    return {name: {"path": path}} if name and path else None


def _pool(text: str) -> Any:
    fields = _fields(text)
    if not fields:
        return None
    pool: dict[str, Any] = {}
    for field in fields:
        key, eq, value = field.lower().partition("=")
        if not eq or key not in ("base", "size"):
            return None
        pool[key] = value if key == "base" else _decimal(value)
    return None if pool.get("size", 0) is None else [pool]


def _nri(text: str) -> Any:
    fields = _fields(text)
    if not fields:
        return None
    opts: dict[str, Any] = {}
    for field in fields:
        key, _, value = field.partition("=")
        if key == "enable":
            opts[key] = parse_bool(value or "true")
            if opts[key] is None:
                return None
        elif key in ("plugin-path", "plugin-config-path", "socket-path"):
            opts[key] = value
        else:
            return None
    return opts


def _key_bool(text: str) -> Any:
    name, eq, value = text.partition("=")
    enabled = parse_bool(value) if eq else True
    return {name: enabled} if name and enabled is not None else None


def _driver_key_value(text: str) -> Any:
    driver, eq, rest = text.partition("=")
    key, eq2, value = rest.partition("=")
    return {driver: {key: value}} if eq and eq2 else None


def _key_value(text: str) -> Any:
    key, _, value = text.partition("=")
    return {key: value}


def _csv_list(text: str) -> Any:
    return [part.strip() for part in re.sub("[\"'`]", "", text).split(",")]


# How one command-line value becomes its daemon.json shape (moby opts: MapOpts, SetOpts, MapMapOpts, UlimitOpt,
# RuntimeOpt, PoolsOpt, NRIOpts; pflag's ipSlice for --dns); None where dockerd would reject the value.
_ARG_FORMS: Mapping[ArgForm, Callable[[str], Any]] = {
    ArgForm.VALUE: lambda text: [text],
    ArgForm.CSV: _csv_list,
    ArgForm.KEY_VALUE: _key_value,
    ArgForm.KEY_BOOL: _key_bool,
    ArgForm.DRIVER_KEY_VALUE: _driver_key_value,
    ArgForm.ULIMIT: _ulimit,
    ArgForm.RUNTIME: _runtime,
    ArgForm.POOL: _pool,
    ArgForm.NRI: _nri,
}


def _arg_value(option: DaemonOption, text: str) -> Any:
    """One flag value in daemon.json's shape (bool, int, str, a list fragment, an object fragment); the text
    itself where dockerd would reject it, so that `lookup` can say why."""
    parsed: Any
    if option.kind is OptionKind.BOOL:
        parsed = parse_bool(text)
    elif option.kind is OptionKind.INT:
        parsed = parse_go_int(text)
    elif option.kind is OptionKind.STRING:
        parsed = text
    else:
        parsed = _ARG_FORMS[option.form](text)
    return text if parsed is None else parsed


def _argv_entry(arg: _Arg, written: Mapping[int, _Written] | None = None) -> _Entry:
    """One flag as a setting's value: from argv, or from the unit line (or environment file line) that wrote
    it when `written` says where each word of argv came from."""
    shown = None if arg.text is None else _redact_text(arg.text, looks_secret_name(arg.name))
    if shown is None:
        value: Any = True
    elif arg.option is None:
        value = shown
    else:
        value = _arg_value(arg.option, shown)
    given_as = arg.prefix + (shown or "")
    key = arg.option.name if arg.option else arg.name
    where = (written or {}).get(arg.at)
    if where is not None:
        cv = ConfigValue(value, where.origin, location=where.path, line=where.line, given_as=given_as)
        return _Entry(key, arg.option is not None, cv)
    return _Entry(key, arg.option is not None, ConfigValue(value, Origin.ARGV, given_as=given_as))


def config_file(argv: Sequence[str]) -> str:
    """The daemon.json a dockerd command line reads: its last --config-file, else the default path."""
    files = [a.text for a in _scan_argv(argv) if a.option is not None and a.option.flag == "config-file" and a.text]
    return files[-1] if files else DEFAULT_DAEMON_JSON


# --- daemon.json ----------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _GoRejects(ValueError):
    """A constant Python's json reads and Go's does not (NaN, Infinity)."""


def _reject_constant(name: str) -> Any:
    raise _GoRejects(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


@dataclass(frozen=True, slots=True)
class _Member:
    """One `"key": value` of a JSON object, with where its key starts."""

    key: str
    pos: int
    value: Any
    value_pos: int


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    """The JSON value at text[pos] and the position after it; every failure is a JSONDecodeError."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except _GoRejects as exc:
        raise json.JSONDecodeError(f"{exc} is not valid JSON", text, pos) from None
    except ValueError:  # an integer with more digits than Python converts
        raise json.JSONDecodeError("Number too long", text, pos) from None


def _members(text: str, pos: int) -> tuple[list[_Member], int]:
    """The members of the JSON object at text[pos] in order (duplicates kept), and the position after it.
    Keys and values are decoded by the json module; this walker only keeps where each key starts."""
    members: list[_Member] = []
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return members, pos + 1
    while True:
        if not text.startswith('"', pos):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, end = _decode_at(text, pos)
        colon = _skip(text, end)
        if not text.startswith(":", colon):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, colon)
        value_pos = _skip(text, colon + 1)
        value, end = _decode_at(text, value_pos)
        members.append(_Member(key, pos, value, value_pos))
        pos = _skip(text, end)
        if text.startswith("}", pos):
            return members, pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _skip(text, pos + 1)


def _top_level(text: str) -> list[_Member]:
    """daemon.json's top-level members; [] for an empty file (dockerd reads it as no settings). Raises
    JSONDecodeError for malformed JSON or a top level that is not an object."""
    start = _skip(text, 1 if text.startswith("\ufeff") else 0)  # dockerd drops a byte-order mark
    if start == len(text):
        return []
    if not text.startswith("{", start):
        raise json.JSONDecodeError("Expecting a JSON object at the top level", text, start)
    members, end = _members(text, start)
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return members


# Objects whose members are options of their own ("proxies": {"http-proxy": ...}); dockerd flattens them.
_NESTED = frozenset(opt.key.split(".", 1)[0] for opt in DAEMON_OPTIONS if "." in opt.key)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _file_members(text: str) -> Iterator[tuple[str, int, Any]]:
    """(key as written, 1-based line, value) for each setting in daemon.json, nested ones as `parent.key`."""
    for member in _top_level(text):
        if member.key in _NESTED and isinstance(member.value, dict):
            for child in _members(text, member.value_pos)[0]:
                yield f"{member.key}.{child.key}", _line(text, child.pos), child.value
        else:
            yield member.key, _line(text, member.pos), member.value


def _daemon_json_entries(text: str, path: str) -> list[_Entry]:
    entries = []
    for written, line, raw in _file_members(text):
        option = daemon_json_option(written)
        value = redact(raw, looks_secret_name(written.rsplit(".", 1)[-1]))
        cv = ConfigValue(value, Origin.DAEMON_JSON, location=path, line=line, given_as=written)
        entries.append(_Entry(option.name if option else written, option is not None, cv))
    return entries


# --- docker info ----------------------------------------------------------------------------------

# /info fields that report a setting's live value (moby daemon/info.go SystemInfo, info_unix.go).
_INFO_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("Driver", "storage-driver", str),
    ("LoggingDriver", "log-driver", str),
    ("LiveRestoreEnabled", "live-restore", bool),
    ("ExperimentalBuild", "experimental", bool),
    ("Debug", "debug", bool),
    ("DefaultRuntime", "default-runtime", str),
    ("HttpProxy", "proxies.http-proxy", str),
    ("HttpsProxy", "proxies.https-proxy", str),
    ("NoProxy", "proxies.no-proxy", str),
)
# Insecure registries every daemon adds to the configured ones (moby registry loadInsecureRegistries).
_BUILTIN_INSECURE = frozenset({"127.0.0.0/8", "::1/128"})
# The first release whose /info lists `name=no-new-privileges` when the option is on.
_NNP_IN_INFO_SINCE = 24
_REMAPPED_ROOT = re.compile(r"(?P<root>.+)/\d+\.\d+")


def _strings(obj: Mapping[str, Any], field: str) -> list[str] | None:
    """A field holding a list of strings (Go writes an empty one as null); None when absent or of another type."""
    value = obj.get(field, ())
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _security_options(info: Mapping[str, Any]) -> dict[str, str] | None:
    """SecurityOptions by name (`name=seccomp,profile=builtin` -> {"seccomp": that text}); None when absent."""
    raw = _strings(info, "SecurityOptions")
    if raw is None:
        return None
    by_name = {}
    for text in raw:
        fields = dict(p.split("=", 1) for p in text.split(",") if "=" in p)
        by_name[fields.get("name", "")] = text
    return by_name


def _major(version: Any) -> int:
    match = re.match(r"\d+", version) if isinstance(version, str) else None
    return int(match.group(0)) if match else 0


def _security_values(info: Mapping[str, Any], opts: Mapping[str, str]) -> Iterator[tuple[str, Any, str]]:
    """What SecurityOptions tells of the configuration (moby daemon/info.go fillSecurityOptions)."""

    def given(name: str) -> str:
        return f"SecurityOptions: {opts[name]}" if name in opts else f"SecurityOptions: no name={name}"

    yield "rootless", "rootless" in opts, given("rootless")
    # Shown only when the option is on and the host has SELinux: absent means SELinux is not in use.
    yield "selinux-enabled", "selinux" in opts, given("selinux")
    # Remapping on or off is reported, the remap user is not.
    yield "userns-remap", True if "userns" in opts else "", given("userns")
    if "seccomp" in opts:
        fields = dict(p.split("=", 1) for p in opts["seccomp"].split(",") if "=" in p)
        profile = fields.get("profile", "default")
        yield "seccomp-profile", "builtin" if profile in ("default", "builtin") else profile, given("seccomp")
    if "cgroupns" in opts:
        yield "default-cgroupns-mode", "private", given("cgroupns")
    if "no-new-privileges" in opts or _major(info.get("ServerVersion")) >= _NNP_IN_INFO_SINCE:
        yield "no-new-privileges", "no-new-privileges" in opts, given("no-new-privileges")


def _registry_values(info: Mapping[str, Any]) -> Iterator[tuple[str, Any, str]]:
    registry = info.get("RegistryConfig")
    if not isinstance(registry, Mapping):
        return
    cidrs = _strings(registry, "InsecureRegistryCIDRs")
    indexes = registry.get("IndexConfigs") or {}
    if cidrs is not None and isinstance(indexes, Mapping):
        insecure = [c for c in cidrs if c not in _BUILTIN_INSECURE]
        insecure += [
            name for name, index in indexes.items() if isinstance(index, Mapping) and index.get("Secure") is False
        ]
        yield "insecure-registries", insecure, "RegistryConfig.InsecureRegistryCIDRs + IndexConfigs[Secure=false]"
    mirrors = _strings(registry, "Mirrors")
    if mirrors is not None:
        yield "registry-mirrors", mirrors, "RegistryConfig.Mirrors"


def _info_values(info: Mapping[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(key, live value, info field) for each setting /info reports; fields of the wrong type are passed over."""
    for field, key, kind in _INFO_FIELDS:
        value = info.get(field)
        if type(value) is kind:
            yield key, value, field
    opts = _security_options(info)
    root = info.get("DockerRootDir")
    if isinstance(root, str):
        remapped = _REMAPPED_ROOT.fullmatch(root) if opts and "userns" in opts else None
        yield "data-root", remapped["root"] if remapped else root, "DockerRootDir"
    labels = _strings(info, "Labels")
    if labels is not None:
        yield "labels", labels, "Labels"
    yield from _registry_values(info)
    plugins = info.get("Plugins")
    authz = _strings(plugins, "Authorization") if isinstance(plugins, Mapping) else None
    if authz is not None:  # the authorization plugins in use (null when none)
        yield "authorization-plugins", authz, "Plugins.Authorization"
    if opts is not None:
        yield from _security_values(info, opts)


def _info_entries(info: Mapping[str, Any]) -> list[_Entry]:
    return [
        _Entry(key, True, ConfigValue(redact(value), Origin.INFO, given_as=field))
        for key, value, field in _info_values(info)
    ]


# --- systemd: the unit that started dockerd --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Written:
    """Where one word of dockerd's command line was written: the unit's ExecStart= line, or the
    Environment= / EnvironmentFile line of a `$VAR` it expanded."""

    origin: Origin
    path: str
    line: int


_UNIT_VAR = re.compile(r"^\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)$|^\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}$")


def _env_origin(assignment: EnvAssignment, unit: SystemdUnit) -> _Written:
    in_file = any(assignment in f.values for f in unit.environment_files)
    origin = Origin.ENVIRONMENT_FILE if in_file else Origin.SYSTEMD
    return _Written(origin, assignment.path, assignment.line)


def _unit_written(unit: SystemdUnit, command: UnitCommand) -> list[_Written]:
    """Where each word of the ExecStart command (after expansion) was written: a `$VAR` word's words at the
    line setting VAR, every other word at the ExecStart= line. Falls back to the ExecStart= line for every
    word when the words as written do not expand to the command the collector recorded."""
    line = _Written(Origin.SYSTEMD, command.setting.path, command.setting.line)
    env = unit.env()
    written: list[_Written] = []
    for word, bare in split_words(split_exec(command.setting.value)[1]):
        m = _UNIT_VAR.match(word)
        splits = m is not None and bare and m["plain"] is not None  # a bare `$VAR` word: split at whitespace
        name = m["plain"] if splits and m else (m["braced"] if m else None)  # `${VAR}` alone: one word
        if name is None:
            written.append(line)
            continue
        assignment = env.get(name)
        where = _env_origin(assignment, unit) if assignment is not None else line
        count = (len(assignment.value.split()) if assignment is not None else 0) if splits else 1
        written.extend([where] * count)
    if len(written) != len(command.argv):
        return [line] * len(command.argv)
    return written


def _started_by(unit: SystemdUnit | None, argv: Sequence[str]) -> tuple[dict[int, _Written] | None, str]:
    """Where each word of the running dockerd's argv was written in `unit`, when that unit's ExecStart= (as
    expanded) is this command line; else None and why the unit is not taken as its source."""
    if unit is None or not unit.exists:
        return None, ""
    command = unit.command
    if command is None:
        return None, f"{unit.name} has no ExecStart="
    ours = list(argv[1:])
    theirs = list(command.argv[1:])
    if theirs not in (ours, list(redact_argv(argv))[1:]):
        return None, (
            f"{unit.name} ExecStart= ({command.setting.source}) is not the running dockerd's command line "
            "(edited since the daemon started, or another daemon): not taken as its source"
        )
    written = _unit_written(unit, command)
    return {i: w for i, w in enumerate(written) if i > 0}, ""


# Environment variables dockerd reads as defaults of its flags (moby cmd/dockerd/options.go).
_TLS_FILES = (("tlscacert", "ca.pem"), ("tlscert", "cert.pem"), ("tlskey", "key.pem"))


def _unit_environment(unit: SystemdUnit) -> list[_Entry]:
    """The defaults the unit's environment gives dockerd: DOCKER_TLS_VERIFY (non-empty) turns --tlsverify on,
    DOCKER_CERT_PATH moves the default TLS files; a flag or a daemon.json key still overrides them."""
    env = unit.env()
    entries: list[_Entry] = []
    verify = env.get("DOCKER_TLS_VERIFY")
    if verify is not None and verify.value:
        where = _env_origin(verify, unit)
        cv = ConfigValue(True, where.origin, where.path, where.line, f"DOCKER_TLS_VERIFY={verify.value}")
        entries.append(_Entry("tlsverify", True, cv))
    cert_path = env.get("DOCKER_CERT_PATH")
    if cert_path is not None and cert_path.value:
        where = _env_origin(cert_path, unit)
        for key, name in _TLS_FILES:
            path = cert_path.value.rstrip("/") + "/" + name
            cv = ConfigValue(path, where.origin, where.path, where.line, f"DOCKER_CERT_PATH={cert_path.value}")
            entries.append(_Entry(key, True, cv))
    return entries


def _is_flag(cv: ConfigValue) -> bool:
    """A value given on dockerd's command line: read from argv, or attributed to the unit line that wrote it."""
    return cv.origin is Origin.ARGV or (
        cv.origin in (Origin.SYSTEMD, Origin.ENVIRONMENT_FILE) and cv.given_as.startswith("-")
    )


# --- build ----------------------------------------------------------------------------------------


def _conflicts(argv: Sequence[_Entry], file: Sequence[_Entry]) -> tuple[str, ...]:
    """Keys given both as a flag and in daemon.json, which dockerd refuses (except those it merges)."""
    in_file = {e.key for e in file if e.known}
    keys = dict.fromkeys(e.key for e in argv if e.known and e.key in in_file)
    return tuple(k for k in keys if (opt := daemon_option(k)) is not None and opt.conflicts)


def build(
    argv: Sequence[str] | None,
    argv_why: str,
    daemon_json: str | None,
    daemon_json_path: str,
    daemon_json_why: str,
    info: Mapping[str, Any] | None,
    info_why: str = "",
    service: SystemdUnit | None = None,
) -> DaemonConfig:
    """The daemon's configuration from its sources, each possibly missing: `argv` None when dockerd's command
    line could not be read (`argv_why` says why); `daemon_json` None when the file is absent (`daemon_json_why`
    "") or unreadable (it says why); `info` the decoded answer of GET /info, None when there is none.

    `service` is docker.service as collected (its ExecStart= expanded, Environment=, EnvironmentFile=). When its
    ExecStart= is the running dockerd's command line, each flag is attributed to the line that wrote it (the
    unit's ExecStart=, or the EnvironmentFile / Environment= line of the `$VAR` it came from), and the unit's
    DOCKER_TLS_VERIFY / DOCKER_CERT_PATH become defaults; otherwise the unit is not this daemon's source."""
    read: list[str] = []
    unread: dict[str, str] = {}
    argv_entries: list[_Entry] = []
    file_entries: list[_Entry] = []
    info_entries: list[_Entry] = []
    env_entries: list[_Entry] = []
    if argv is None:
        unread[Origin.ARGV.value] = argv_why or "dockerd's command line was not read"
    else:
        read.append(Origin.ARGV.value)
        written, why = _started_by(service, argv)
        if written is not None and service is not None:
            read.append(service.name)
            env_entries = _unit_environment(service)
        elif why:
            unread[Origin.SYSTEMD.value] = why
        argv_entries = [_argv_entry(arg, written) for arg in _scan_argv(argv)]
    if daemon_json is not None:
        try:
            file_entries = _daemon_json_entries(daemon_json, daemon_json_path)
        except json.JSONDecodeError as exc:
            unread[Origin.DAEMON_JSON.value] = f"{daemon_json_path}: line {exc.lineno} column {exc.colno}: {exc.msg}"
        except RecursionError:
            unread[Origin.DAEMON_JSON.value] = f"{daemon_json_path}: nested too deeply to read"
        else:
            read.append(daemon_json_path)
    elif daemon_json_why:
        unread[Origin.DAEMON_JSON.value] = daemon_json_why
    if info is None:
        unread[Origin.INFO.value] = info_why or "docker info was not read"
    else:
        read.append(Origin.INFO.value)
        info_entries = _info_entries(info)
    values: dict[str, list[ConfigValue]] = {}
    for entry in (*argv_entries, *env_entries, *file_entries, *info_entries):
        values.setdefault(entry.key, []).append(entry.value)
    unknown = dict.fromkeys(e.key for e in (*argv_entries, *file_entries) if not e.known)
    return DaemonConfig(
        values={k: tuple(v) for k, v in values.items()},
        conflicts=_conflicts(argv_entries, file_entries),
        unknown_keys=tuple(unknown),
        read=tuple(read),
        unread=unread,
    )


# --- lookup ---------------------------------------------------------------------------------------


class _Unknowable(Exception):
    """A value given in a form dockerd would not accept, so what it runs with cannot be told."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# What each kind of option accepts once read (argv values were converted by `build`; a string left where a bool
# or int belongs is one dockerd rejects). Strings also take plain numbers (default-shm-size: 67108864).
_ACCEPTS: Mapping[OptionKind, Callable[[Any], bool]] = {
    OptionKind.BOOL: lambda v: isinstance(v, bool),
    OptionKind.INT: _is_int,
    OptionKind.STRING: lambda v: isinstance(v, str) or _is_int(v),
    OptionKind.LIST: lambda v: isinstance(v, list),
    OptionKind.MAP: lambda v: isinstance(v, dict),
}


def _checked(option: DaemonOption, cv: ConfigValue) -> Any:
    """A configured value in its option's type; raises _Unknowable when it has another."""
    if option.kind is OptionKind.LIST and isinstance(cv.value, str) and cv.origin is Origin.DAEMON_JSON:
        return [cv.value]  # a legacy single-value key read into a list (host-gateway-ip)
    if not _ACCEPTS[option.kind](cv.value):
        shown = cv.given_as or option.name
        raise _Unknowable(f"{cv.source}: {shown} = {cv.value!r} is not a {option.kind} dockerd accepts")
    return cv.value


def _merge_maps(values: Sequence[Any], nested: bool) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fragment in values:
        for k, v in fragment.items():
            merged[k] = {**merged[k], **v} if nested and isinstance(merged.get(k), dict) and isinstance(v, dict) else v
    return merged


def _combined(option: DaemonOption, given: Sequence[ConfigValue]) -> Any:
    """The value several entries of one source give: lists concatenated, objects merged, scalars the last."""
    values = [_checked(option, cv) for cv in given]
    if option.kind is OptionKind.LIST:
        return [item for value in values for item in value]
    if option.kind is OptionKind.MAP:
        return _merge_maps(values, nested=option.form is ArgForm.DRIVER_KEY_VALUE)
    return values[-1]


def _configured(option: DaemonOption, flags: list[ConfigValue], file: list[ConfigValue]) -> Any:
    """The effective value of what argv and daemon.json give: the flags' when both do (dockerd refuses both,
    so the file changed after start) unless dockerd merges the two (runtimes). A key repeated in the file: the
    last value, except objects, which Go's decoder merges into the one it already holds."""
    if option.kind is OptionKind.MAP:
        return _combined(option, (file + flags) if not option.conflicts else (flags or file))
    if flags:
        return _combined(option, flags)
    return _combined(option, file[-1:])


def _default(option: DaemonOption) -> Any:
    if option.default is None:
        return None
    if option.kind is OptionKind.LIST:
        return list(option.default)
    if option.kind is OptionKind.MAP:
        return dict(option.default)
    return option.default


def _unread_why(config: DaemonConfig, option: DaemonOption) -> str:
    """Why an option with no value given cannot be told: a source that could set it was not read."""
    sources = ((Origin.ARGV, bool(option.flag)), (Origin.DAEMON_JSON, bool(option.key)))
    reasons = [f"{o.value}: {config.unread[o.value]}" for o, can_set in sources if can_set and o.value in config.unread]
    return "; ".join(reasons)


def lookup(config: DaemonConfig, key: str) -> Setting:
    """The effective value of one setting, named by its daemon.json key or a flag (`--icc`, `-H`).

    A value /info reports wins (it is live); else the command line's (repeated flags add up for lists and
    objects; a flag the systemd unit wrote counts as one); else daemon.json's; else a default the unit's
    environment sets; else Docker's default. The value is unknown (`known` False, `why` set) when
    nothing gives it and a source that could have was not read, or when what is given is not of the option's
    type. Raises KeyError for a name that is neither a dockerd option nor a key found in `config`."""
    option = daemon_option(key)
    name = option.name if option else key
    given = tuple(config.values.get(name, ()))
    if option is None and not given:
        raise KeyError(f"{key!r} names no dockerd option")
    conflict = name in config.conflicts
    live = [cv for cv in given if cv.origin is Origin.INFO]
    flags = [cv for cv in given if _is_flag(cv)]
    file = [cv for cv in given if cv.origin is Origin.DAEMON_JSON]
    environment = [cv for cv in given if cv.origin in (Origin.SYSTEMD, Origin.ENVIRONMENT_FILE) and not _is_flag(cv)]
    if live:
        return Setting(name, True, live[-1].value, given, conflict=conflict)
    if option is None:
        chosen = flags or file or list(given)
        return Setting(name, True, chosen[-1].value, given, conflict=conflict)
    if flags or file:
        try:
            value = _configured(option, flags, file)
        except _Unknowable as exc:
            return Setting(name, False, None, given, why=str(exc), conflict=conflict)
        return Setting(name, True, value, given, conflict=conflict)
    if environment:  # a default the unit's environment moved (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)
        return Setting(name, True, environment[-1].value, given, conflict=conflict)
    why = _unread_why(config, option)
    if why:
        return Setting(name, False, None, given, why=why, conflict=conflict)
    return Setting(name, True, _default(option), given, conflict=conflict)
