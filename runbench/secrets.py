"""Secret detection and redaction.

The collector calls `scan_env` so that only a variable's name, length, a redacted stub and the names of
the detect-secrets plugins that matched its value enter the snapshot; the checks decide from those facts
(plus key-name rules in `looks_secret_name`). Every other free-text field from the host (healthcheck tests,
commands, history steps, labels, daemon settings) goes through `redact` (or `redact_argv` / `redact_label`,
built on it) before it is stored: a secret value is never stored, logged or printed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

from runbench.snapshot import EnvVar

# Key names that carry credentials; matched against the upper-cased name split on non-alphanumerics.
_SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|SECRET|SECRETS|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|"
    r"CREDENTIALS?|AUTH|AUTH_TOKEN|CLIENT_SECRET|SECRET_KEY|CONNECTION_STRING|DSN|SESSION_KEY|"
    r"ENCRYPTION_KEY|SIGNING_KEY|MASTER_KEY|WEBHOOK_SECRET)(_|$)"
    # glued to a prefix (PGPASSWORD, APITOKEN), and the glued option names of keytool and redis
    r"|[A-Z0-9](PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|APIKEY)$"
    r"|^(STORE|KEY|SRCSTORE|DESTSTORE|SRCKEY|DESTKEY|REQUIRE|MASTER)PASS$|^MASTERAUTH$"
)
# Names whose values point at a secret instead of holding it (Docker secrets, files, vault paths, a command
# that prints it, a file descriptor or stdin to read it from).
_REFERENCE_SUFFIX = re.compile(r"_(FILE|PATH|DIR|LOCATION|ENDPOINT|URL_FILE|REF|ID|FD|STDIN|CMD|COMMAND)$")
# Names that describe a secret's properties, not the secret: TOKEN_TTL, PASSWORD_MIN_LENGTH, AUTH_TYPE.
_QUALIFIER_SUFFIX = re.compile(
    r"_(TTL|TIMEOUT|EXPIRY|EXPIRES|EXPIRES_IN|EXPIRATION|LIFETIME|MAX_AGE|AGE|LENGTH|LEN|SIZE|BITS|COUNT|"
    r"ENABLED|DISABLED|REQUIRED|ENFORCED|TYPE|MODE|METHOD|ALGORITHM|ALG|HEADER|FORMAT|POLICY|ROTATION|"
    r"INTERVAL|NAME|USER|USERNAME|URL|URI|HOST|PORT|ISSUER|AUDIENCE|SCOPE|SCOPES|REALM|PROVIDER|BACKEND)$"
)
_BENIGN_NAME = re.compile(r"(^|_)(GPG_KEYS?|SHA\d*|SHA256|SHA512|MD5|CHECKSUM|HASH|FINGERPRINT|VERSION|KEYID)(_|$)")
# Plugin names whose match alone is weak evidence (entropy or keyword heuristics).
WEAK_DETECTORS = frozenset({"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"})
# Plugins that find no secret (an IP address) or only weak evidence: never used to redact free text.
_NOT_REDACTING = WEAK_DETECTORS | {"Public IP (ipv4)"}


def _upper_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


@lru_cache(maxsize=8192)
def looks_secret_name(name: str) -> bool:
    """`DB_PASSWORD`, `api-key`, `PGPASSWORD`, `--client-secret`; not `DB_PASSWORD_FILE`, `TOKEN_TTL`."""
    upper = _upper_name(name)
    if _REFERENCE_SUFFIX.search(upper) or _QUALIFIER_SUFFIX.search(upper):
        return False
    return bool(_SECRET_NAME.search(upper))


def benign_name(name: str) -> bool:
    return bool(_BENIGN_NAME.search(_upper_name(name)))


def stub(value: str) -> str:
    """A redacted preview: two leading characters for values long enough that this reveals little."""
    n = len(value)
    if n >= 12:
        return f"{value[:2]}…({n} chars)"
    return f"…({n} chars)"


class SecretScanner:
    """detect-secrets' line plugins with their own filters, applied to `KEY="value"` lines.

    Loaded lazily (importing detect-secrets costs ~0.1 s); results are cached per (name, value) because
    containers of one image repeat the image's environment.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}
        self._settings: AbstractContextManager[Any] | None = None
        self._plugins: list[Any] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> SecretScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Restore detect-secrets' global settings."""
        if self._settings is not None:
            self._settings.__exit__(None, None, None)
            self._settings = None

    def _load(self) -> list[Any]:
        with self._lock:
            if self._plugins is None:
                from detect_secrets.settings import default_settings, get_plugins

                self._settings = default_settings()
                self._settings.__enter__()
                self._plugins = list(get_plugins())
            return self._plugins

    def detectors(self, name: str, value: str) -> tuple[str, ...]:
        key = (name, value)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._scan(name, value) if value else ()
            self._cache[key] = hit
        return hit

    def _scan(self, name: str, value: str) -> tuple[str, ...]:
        from detect_secrets.core.scan import _is_filtered_out, _scan_line
        from detect_secrets.util.code_snippet import get_code_snippet

        plugins = self._load()
        line = f"{name}={json.dumps(value)}"
        context = get_code_snippet(lines=[line], line_number=1)
        found: set[str] = set()
        for plugin in plugins:
            for secret in _scan_line(
                plugin=plugin,
                filename="environment",
                line=line,
                line_number=1,
                context=context,
                enable_eager_search=False,
            ):
                if not _is_filtered_out(
                    required_filter_parameters=["context"],
                    filename="environment",
                    secret=secret.secret_value,
                    plugin=plugin,
                    line=line,
                    context=context,
                ):
                    found.add(str(secret.type))
        return tuple(sorted(found))

    def scan_env(self, entries: Iterable[str]) -> tuple[EnvVar, ...]:
        out = []
        for entry in entries:
            name, _, value = entry.partition("=")
            out.append(EnvVar(name=name, length=len(value), stub=stub(value), detectors=self.detectors(name, value)))
        return tuple(out)

    def redact_text(self, text: str) -> str:
        """Redact assignments of secret-looking names and detector hits in free text (history commands)."""

        def _assign(m: re.Match[str]) -> str:
            name, raw = m.group(1), m.group(3)
            quote = raw[0] if raw[:1] in ("'", '"') and len(raw) >= 2 and raw[-1] == raw[0] else ""
            value = raw[1:-1] if quote else raw
            if looks_secret_name(name) or self.detectors(name, value):
                return f"{name}{m.group(2)}{quote}{stub(value)}{quote}"
            return m.group(0)

        return _ASSIGNMENT.sub(_assign, text)


_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(=)(\"[^\"]*\"|'[^']*'|[^\s;&|]+)")


def is_secret(var: EnvVar) -> tuple[bool, str]:
    """Whether a collected variable holds a secret, and why. Pure: decides from the collected facts."""
    if var.length == 0:
        return False, ""
    strong = [d for d in var.detectors if d not in WEAK_DETECTORS]
    if strong:
        return True, ", ".join(strong)
    if looks_secret_name(var.name):
        return True, "secret-like name"
    if var.detectors and not benign_name(var.name) and "Secret Keyword" in var.detectors:
        return True, "Secret Keyword"
    return False, ""
