"""Secret detection and redaction: one detector for the whole product.

The collector calls `scan_env` (or `SecretScanner.var`) so that only a variable's name, length, a redacted
stub, the names of the detect-secrets plugins that matched its value and what the value looks like
(`value_kind`: a boolean, a number, a path, a URL with or without a password, a reference such as ${VAR}, a
well-known default password ...) enter the snapshot; `is_secret` decides from those facts and the key-name
rules of `looks_secret_name`. Environment variables (containers, images, services) and labels go through
it; free text (history commands) through `SecretScanner.find`, which reports what the redaction rules below
stub, each value judged by `is_secret` when a key name alone flagged it. Every free-text field from the host
(healthcheck tests, commands, history steps, labels, daemon settings) goes through `redact` (or `redact_argv`
/ `redact_label`, built on it) before it is stored: a secret value is never stored, logged or printed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType, SimpleNamespace
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from runbench.snapshot import EnvVar, ValueKind

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
# The entropy heuristics flag digests, ids and checksums as readily as secrets: no verdict rests on them, so
# they are not run (a snapshot of an older runbench may still list them among a variable's detectors).
ENTROPY_DETECTORS = frozenset({"Base64 High Entropy String", "Hex High Entropy String"})
# Plugins that find no secret (an IP address) or only weak evidence: never used to redact free text.
_NOT_REDACTING = WEAK_DETECTORS | {"Public IP (ipv4)"}


def _upper_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


@lru_cache(maxsize=8192)
def looks_secret_name(name: str) -> bool:
    """`DB_PASSWORD`, `api-key`, `PGPASSWORD`, `--client-secret`; not `DB_PASSWORD_FILE`, `TOKEN_TTL`."""
    if _qualified_name(name):
        return False
    return bool(_SECRET_NAME.search(_upper_name(name)))


def benign_name(name: str) -> bool:
    return bool(_BENIGN_NAME.search(_upper_name(name)))


# --- what a value looks like ---------------------------------------------------------------------------


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Default passwords shipped in documentation and quick starts: a secret wherever a secret-like name holds one.
DEFAULT_PASSWORDS = _word_set(
    "changeme change_me change-me changeit password passw0rd p@ssw0rd p@ssword secret s3cret admin "
    "admin123 administrator root toor guest example test testing letmein default qwerty 123456 12345678 "
    "1234 12345 pass minioadmin postgres mysql demo welcome master mypassword mysecretpassword "
    "secretpassword supersecret my-secret-pw rabbitmq redis elastic kibana sonar keycloak"
)
# Names of authentication mechanisms: what `REGISTRY_AUTH`, `SMTP_AUTH` or `MONGO_AUTH` usually hold.
AUTH_SCHEMES = _word_set(
    "none basic bearer token htpasswd silly ldap ldaps oauth oauth2 oidc saml jwt plain login cram-md5 "
    "digest-md5 md5 scram-sha-1 scram-sha-256 trust peer ident kerberos krb5 gssapi digest ntlm negotiate "
    "apikey api-key api_key cert certificate tls mtls x509 anonymous internal external local sasl header "
    "cookie session form pam radius sspi native mysql_native_password caching_sha2_password"
)
_NUMBER = re.compile(
    r"[+-]?\d{1,9}(?:\.\d+)?"  # a short number (a long run of digits may be a key)
    r"|\d+(?:\.\d+)?\s?(?:[kmgtpe]i?b?|b|bytes?)"  # a size: 512m, 1.5GiB
    r"|v?\d+(?:\.\d+){1,3}(?:[-+~][\w.~+-]{0,40})?",  # a version: 1.2.3, 20.11.0-bookworm
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(
    r"P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
)
_PATH_VALUE = re.compile(r"(?:~|\.{1,2})?/[\w.@%+~,\-/]*(?::(?:~|\.{1,2})?/[\w.@%+~,\-/]*)*")
_MIXED_SEGMENT = re.compile(r"(?=[^/]*[a-z])(?=[^/]*[A-Z])(?=[^/]*\d)[^/]{20,}")
_STORE_REFERENCE = re.compile(
    r"arn:aws[\w-]*:(?:secretsmanager|ssm|kms):\S+"  # AWS Secrets Manager / Parameter Store / KMS
    r"|(?:vault|op|awssm|gcpsm|azkv|sops|doppler|infisical|bw)://\S+"  # secret-store URIs
    r"|vault:[\w./#:@-]+"
    r"|projects/[\w-]+/secrets/[\w-]+(?:/versions/\w+)?",  # GCP Secret Manager
)
_MASK = re.compile(r"\*{3,}|x{4,}|X{4,}|•{3,}|(?:\S{0,2}…\(\d+ chars\))")
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://")
# Query parameters that carry a credential in a URL (besides secret-like names): signatures and keys.
_SECRET_QUERY = frozenset({"sig", "signature", "x-amz-signature", "x-goog-signature", "key", "code", "auth"})


def value_kind(value: str) -> ValueKind:
    """What `value` looks like, for `is_secret` to decide with the name but without the value. Pure."""
    v = value.strip()
    if not v:
        return ValueKind.EMPTY
    if _MASK.fullmatch(v):
        return ValueKind.MASKED
    if _REFERENCE.fullmatch(v) or _STORE_REFERENCE.fullmatch(v):
        return ValueKind.REFERENCE
    lower = v.lower()
    if lower in _BOOLEANS:
        return ValueKind.BOOLEAN
    if lower in DEFAULT_PASSWORDS:
        return ValueKind.DEFAULT_PASSWORD
    if _NUMBER.fullmatch(v) or _is_address(v):
        return ValueKind.NUMBER
    if _DURATION.fullmatch(v) or _ISO_DURATION.fullmatch(v):
        return ValueKind.DURATION
    if _URL_START.match(v) and not any(c.isspace() for c in v):
        return _url_kind(v)
    if _PATH_VALUE.fullmatch(v) and not _MIXED_SEGMENT.search(v):
        return ValueKind.PATH
    if _apply_rules(v, _tools_in(v.split()), None) != v:
        return ValueKind.EMBEDDED
    if lower in AUTH_SCHEMES:
        return ValueKind.AUTH_SCHEME
    return ValueKind.TEXT


_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF.:")


def _is_address(v: str) -> bool:
    host = (v.rsplit(":", 1)[0] if v.count(":") == 1 else v).strip("[]")
    bare = host.partition("%")[0]  # an IPv6 zone (fe80::1%eth0) may hold any character
    if not bare or not _ADDRESS_CHARS.issuperset(bare):  # no IPv4 or IPv6 address: skip the parser's exception
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _url_kind(v: str) -> ValueKind:
    try:
        parts = urlsplit(v)
        password, user = parts.password, parts.username
    except ValueError:
        return ValueKind.TEXT
    if password and not _plain_value(password) and password != URL_PASSWORD_MASK:
        return ValueKind.URL_CREDENTIALS
    for key, val in parse_qsl(parts.query, keep_blank_values=False):
        if (looks_secret_name(key) or key.lower() in _SECRET_QUERY) and not _plain_value(val):
            return ValueKind.URL_CREDENTIALS
    if user and not _plain_value(user):
        return ValueKind.URL_USER
    return ValueKind.URL


def stub(value: str) -> str:
    """A redacted preview: two leading characters for values long enough that this reveals little."""
    n = len(value)
    if n >= 12:
        return f"{value[:2]}…({n} chars)"
    return f"…({n} chars)"


@dataclass(frozen=True, slots=True)
class Found:
    """A value the redaction rules (or a detect-secrets plugin) picked out of free text: its key (a variable,
    flag, header, "URL"; "" for a bare token), the raw value (never stored: turned into a stub), the rule, and
    whether the key's name alone decided (then `is_secret` judges the value too)."""

    key: str
    value: str
    why: str
    by_name: bool


Sink = list[Found]


def _record(sink: Sink | None, key: str, value: str, why: str, *, by_name: bool) -> None:
    if sink is not None and value:
        sink.append(Found(key, value, why, by_name))


def _unquoted(raw: str) -> str:
    return raw[1:-1] if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0] else raw


class NetworkRefused(RuntimeError):
    """What a detect-secrets plugin gets if it ever tries to verify a secret against a live service."""


def _offline_requests() -> ModuleType:
    """A stand-in for the `requests` package as detect-secrets uses it: its plugins can verify a found secret
    by sending it to the service that issued it (requests.get/post). runbench never does that (a read-only
    checker does not hand the secrets it finds to the network, and the verification filter is not enabled),
    so its plugins get this module: every call refuses, and the real package (a quarter of a second of
    imports) is not loaded."""
    module = ModuleType("requests")

    class RequestException(OSError):
        pass

    class Response:
        status_code = 0

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise NetworkRefused("runbench never sends a secret it found to the network")

    module.exceptions = SimpleNamespace(RequestException=RequestException)  # type: ignore[attr-defined]
    module.RequestException = RequestException  # type: ignore[attr-defined]
    module.Response = Response  # type: ignore[attr-defined]
    module.get = module.post = module.request = refuse  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def _detect_secrets_offline() -> Iterator[None]:
    """While detect-secrets is imported: `import requests` gives `_offline_requests()`, unless the real
    package is loaded already (then detect-secrets uses it, verification still off). The stand-in is no
    longer importable afterwards: only the modules imported meanwhile hold it."""
    if "requests" in sys.modules:
        yield
        return
    sys.modules["requests"] = _offline_requests()
    try:
        yield
    finally:
        sys.modules.pop("requests", None)


def _screen(plugin: Any) -> tuple[re.Pattern[str], ...] | None:
    """Patterns one of which must occur in a line for `plugin` to find anything in it; None: no screen.

    A regex plugin whose analyze_string is detect-secrets' own (a findall of each of its `denylist`
    patterns): those patterns. The keyword plugin: its keyword words (`_keyword_screen`)."""
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.keyword import KeywordDetector

    if isinstance(plugin, RegexBasedDetector) and type(plugin).analyze_string is RegexBasedDetector.analyze_string:
        return tuple(plugin.denylist)
    if type(plugin) is KeywordDetector:
        return _keyword_screen()
    return None


@lru_cache(maxsize=1)
def _keyword_screen() -> tuple[re.Pattern[str], ...] | None:
    """A screen for detect-secrets' keyword plugin: every pattern it searches contains its DENYLIST_REGEX
    (the keyword words, then word characters), so a line where none of the words occurs, in any case, gives
    it nothing. Checked here against the installed detect-secrets: None (no screen) if that ever stops
    being true."""
    from detect_secrets.plugins import keyword as module

    tables = [module.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP, *module.REGEX_BY_FILETYPE.values()]
    patterns = {r for table in tables for r in table}
    if not patterns or not all(module.DENYLIST_REGEX in r.pattern for r in patterns):
        return None
    return (re.compile("|".join(module.DENYLIST), re.IGNORECASE),)


class SecretScanner:
    """detect-secrets' line plugins with their own filters, applied to `KEY="value"` lines (`detectors`) and to
    the tokens of free text that could be secrets (`redact`).

    Loaded lazily (importing detect-secrets costs ~0.1 s); results are cached per (name, value), per text and
    per token, because containers of one image repeat the image's environment, command, labels and healthcheck.
    """

    def __init__(self) -> None:
        self._vars: dict[tuple[str, str], EnvVar] = {}  # a variable repeated across containers is judged once
        self._texts: dict[tuple[str, frozenset[str]], str] = {}
        self._tokens: dict[str, tuple[tuple[str, str], ...]] = {}
        self._settings: AbstractContextManager[Any] | None = None
        self._plugins: list[Any] | None = None
        self._strong: list[Any] = []
        self._deciding: list[Any] = []
        self._loader: threading.Thread | None = None
        self._screens: dict[int, tuple[Any, ...] | None] = {}
        self._analyze: dict[int, frozenset[str]] = {}
        self._filters: dict[str, tuple[tuple[Any, frozenset[str]], ...]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> SecretScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Restore detect-secrets' global settings (after a `preload` still under way has finished)."""
        with self._lock:
            if self._settings is not None:
                self._settings.__exit__(None, None, None)
                self._settings = None

    def _load(self) -> list[Any]:
        with self._lock:
            if self._plugins is None:
                with _detect_secrets_offline():
                    from detect_secrets.core.scan import get_filters_with_parameter
                    from detect_secrets.settings import default_settings, get_plugins
                    from detect_secrets.util.inject import get_injectable_variables

                    self._settings = default_settings()
                    self._settings.__enter__()
                    plugins = list(get_plugins())  # imports every plugin module
                self._screens = {id(p): _screen(p) for p in plugins}
                self._analyze = {id(p): frozenset(get_injectable_variables(p.analyze_line)) for p in plugins}
                self._filters = {
                    stage: tuple((f, frozenset(f.injectable_variables)) for f in get_filters_with_parameter(stage))
                    for stage in ("secret", "context")
                }
                self._strong = [p for p in plugins if str(p.secret_type) not in _NOT_REDACTING]
                self._deciding = [p for p in plugins if str(p.secret_type) not in ENTROPY_DETECTORS]
                self._plugins = plugins
            return self._plugins

    def preload(self) -> None:
        """Import detect-secrets and build its plugins in a thread of their own (an import holds the import
        lock: the collector's workers would otherwise queue behind the first one that needs a plugin)."""
        self._loader = threading.Thread(target=self._load, name="runbench-secrets-load", daemon=True)
        self._loader.start()

    def loaded(self) -> None:
        """Wait for a `preload` under way to end (before a fork: the child then inherits the plugins)."""
        if self._loader is not None:
            self._loader.join()
            self._loader = None

    def detectors(self, name: str, value: str) -> tuple[str, ...]:
        return self.var(name, value).detectors

    def _scan(self, name: str, value: str) -> tuple[str, ...]:
        line = f"{name}={json.dumps(value)}"
        self._load()
        return tuple(sorted({kind for _, kind in self._run(self._deciding, "environment", line)}))

    def _run(self, plugins: list[Any], filename: str, line: str) -> list[tuple[str, str]]:
        """(value, plugin name) of every plugin's hit in `line` that detect-secrets' filters keep.

        What detect-secrets' `_scan_line` and `_is_filtered_out` do, with the argument injection of
        `call_function_with_arguments` worked out once per plugin and filter (`_load`) instead of on every
        call, and skipping a regex plugin none of whose patterns occurs in the line (its analyze_string is a
        findall of each of them: it would find nothing)."""
        from detect_secrets.util.code_snippet import get_code_snippet

        context = None
        given: dict[str, Any] = {}
        found: list[tuple[str, str]] = []
        for plugin in plugins:
            screen = self._screens.get(id(plugin))
            if screen is not None and not any(r.search(line) for r in screen):
                continue
            if context is None:  # the first plugin that may find something: the arguments, once per line
                context = get_code_snippet(lines=[line], line_number=1)
                given = {"filename": filename, "line": line, "line_number": 1, "context": context}
                given["enable_eager_search"] = False
            secrets = plugin.analyze_line(**{k: v for k, v in given.items() if k in self._analyze[id(plugin)]})
            for secret in secrets or ():
                value = secret.secret_value
                if self._filtered("secret", filename=secret.filename, secret=value, plugin=plugin, line=line):
                    continue
                if self._filtered(
                    "context", filename=filename, secret=value, plugin=plugin, line=line, context=context
                ):
                    continue
                found.append((str(value or ""), str(secret.type)))
        return found

    def _filtered(self, stage: str, **given: Any) -> bool:
        """detect-secrets' `_is_filtered_out` for the filters that take `stage`: a filter that cannot take the
        arguments (TypeError) is skipped, as there."""
        for function, names in self._filters[stage]:
            try:
                if function(**{k: v for k, v in given.items() if k in names}):
                    return True
            except TypeError:
                continue
        return False

    def scan_env(self, entries: Iterable[str]) -> tuple[EnvVar, ...]:
        out = []
        for entry in entries:
            name, _, value = entry.partition("=")
            out.append(self.var(name, value))
        return tuple(out)

    def var(self, name: str, value: str) -> EnvVar:
        """A key and its value as the snapshot keeps them: name, length, stub, plugins, what the value looks like.
        Immutable, so one instance serves every container that sets the same variable to the same value."""
        key = (name, value)
        found = self._vars.get(key)
        if found is None:
            found = self._vars[key] = EnvVar(
                name=name,
                length=len(value),
                stub=stub(value),
                detectors=self._scan(name, value) if value else (),
                kind=value_kind(value),
            )
        return found

    def labels(self, labels: Mapping[str, str]) -> list[tuple[str, EnvVar, str]]:
        """The labels that hold a secret: (key, the label as a variable, why)."""
        out = []
        for key, value in labels.items():
            var = self.var(key, value)
            secret, why = is_secret(var)
            if secret:
                out.append((key, var, why))
        return out

    def pairs(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, EnvVar, str]]:
        """Of `KEY=value` pairs (an ENV, ARG or LABEL instruction, build arguments), those that hold a secret."""
        return self.labels(dict(pairs))

    def find(self, text: str) -> list[tuple[str, EnvVar, str]]:
        """The secrets in free text (a RUN command): what the redaction rules stub, each value that only a
        secret-like key name flagged judged again by `is_secret` (`TOKEN_TTL=3600` is not one), then the
        tokens a detect-secrets plugin recognises (AWS keys, GitHub, Slack, Stripe ... tokens).
        Returns (key, the value as a variable, why)."""
        sink: Sink = []
        rest = _apply_rules(text, frozenset(), sink)
        out: list[tuple[str, EnvVar, str]] = []
        for hit in sink:
            var = self.var(hit.key, hit.value)
            if hit.by_name:
                secret, why = is_secret(var)
                if secret:
                    out.append((hit.key, var, why))
            elif not _plain_value(hit.value):
                out.append((hit.key, var, hit.why))
        if len(rest) >= _MIN_TOKEN:
            for m in _CANDIDATE.finditer(rest):
                token = m.group()
                if "…(" in token or not _HAS_LETTER.search(token) or not _DIGIT_OR_UPPER.search(token):
                    continue
                for value, kind in self._token_hits(token):
                    out.append(("", self.var("", value), kind))
        return out

    def redact(self, text: str, tools: frozenset[str] = frozenset()) -> str:
        """`redact(text)` plus the values that a detect-secrets plugin flags (AWS keys, JWTs, GitHub, Slack,
        Stripe ... tokens) anywhere in the text; entropy and keyword heuristics are left out, they flag digests."""
        key = (text, tools)
        hit = self._texts.get(key)
        if hit is None:
            hit = self._plugin_pass(_redact_rules(text, tools))
            self._texts[key] = hit
        return hit

    def _plugin_pass(self, text: str) -> str:
        if len(text) < _MIN_TOKEN:
            return text
        out: list[str] = []
        last = 0
        for m in _CANDIDATE.finditer(text):
            token = m.group()
            if "…(" in token or not _HAS_LETTER.search(token) or not _DIGIT_OR_UPPER.search(token):
                continue  # a number, or a word or path in lower case: no plugin's token looks like that
            found = self._token_secrets(token)
            if found:
                out += [text[last : m.start()], _stub_within(token, found)]
                last = m.end()
        return "".join(out) + text[last:] if out else text

    def _token_secrets(self, token: str) -> tuple[str, ...]:
        return tuple(value for value, _ in self._token_hits(token))

    def _token_hits(self, token: str) -> tuple[tuple[str, str], ...]:
        """(secret value, plugin name) of each strong plugin's hit in `token`."""
        hit = self._tokens.get(token)
        if hit is None:
            hit = self._scan_token(token)
            self._tokens[token] = hit
        return hit

    def _scan_token(self, token: str) -> tuple[tuple[str, str], ...]:
        self._load()
        return tuple(hit for hit in self._run(self._strong, "text", token) if hit[0])


# Kinds of value that are no secret whatever the key's name says.
PLAIN_KINDS = frozenset(
    {
        ValueKind.EMPTY,
        ValueKind.BOOLEAN,
        ValueKind.NUMBER,
        ValueKind.DURATION,
        ValueKind.PATH,
        ValueKind.REFERENCE,
        ValueKind.MASKED,
    }
)
# Key names whose secret word alone says little: `REGISTRY_AUTH=htpasswd` names a mechanism, not a secret.
_WEAK_SECRET_NAME = re.compile(r"(^|_)AUTH$")
_URL_PLUGINS = frozenset({"Basic Auth Credentials"})  # decided better by value_kind where it is known


def is_secret(var: EnvVar) -> tuple[bool, str]:
    """Whether a collected variable (or label, or value found in a command) holds a secret, and why. Pure:
    decides from the collected facts (name, length, plugins, what the value looks like), never the value.

    - empty, and values that are no secret whatever their name (booleans, numbers, durations, paths,
      references such as ${VAR}, masks): not a secret;
    - a detect-secrets plugin other than the entropy and keyword heuristics recognised the value: a secret;
    - a password in a URL, a credential inside an option string or config text: a secret;
    - a secret-like name (`DB_PASSWORD`, not `DB_PASSWORD_FILE` or `TOKEN_TTL`) over anything but a plain URL
      or, for a bare AUTH name, a mechanism's name (`REGISTRY_AUTH=htpasswd`): a secret; a well-known default
      password (`changeme`) is called out as such;
    - the Secret Keyword plugin on a name that is not a checksum or key id: a secret.
    """
    if var.length == 0:
        return False, ""
    kind = var.kind
    if kind in PLAIN_KINDS:
        return False, ""
    detectors = var.detectors
    if kind in (ValueKind.URL, ValueKind.URL_USER):
        detectors = tuple(d for d in detectors if d not in _URL_PLUGINS)
    strong = [d for d in detectors if d not in WEAK_DETECTORS]
    if strong:
        return True, ", ".join(strong)
    if kind is ValueKind.URL_CREDENTIALS:
        return True, "password in a URL"
    if kind is ValueKind.EMBEDDED:
        return True, "credential inside the value"
    if looks_secret_name(var.name):
        if kind is ValueKind.URL:
            return False, ""
        if kind is ValueKind.AUTH_SCHEME and _WEAK_SECRET_NAME.search(_upper_name(var.name)):
            return False, ""
        if kind is ValueKind.DEFAULT_PASSWORD:
            return True, "secret-like name holding a well-known default password"
        return True, "secret-like name"
    if "Secret Keyword" in detectors and not benign_name(var.name) and not _qualified_name(var.name):
        return True, "Secret Keyword"
    return False, ""


def _qualified_name(name: str) -> bool:
    """A name that points at a secret or describes one (`TOKEN_FILE`, `API_KEY_HEADER`, `..._REALM`)."""
    upper = _upper_name(name)
    return bool(_REFERENCE_SUFFIX.search(upper) or _QUALIFIER_SUFFIX.search(upper))


def secret_evidence(var: EnvVar, why: str, where: str = "") -> str:
    """How a secret is shown in evidence: where it is, its key, a stub and the rule: never the value."""
    place = f"{where} " if where else ""
    return f"{place}{var.name}={var.stub} [{why}]"


# --- redaction of free text -----------------------------------------------------------------------
#
# One set of rules for every free-text field from the host. Each rule keeps the key, flag, header or user
# name (the evidence) and replaces only the value, with `stub` (URL passwords with `***`). A value is left as
# it is when it cannot be a secret whatever its key says: empty, a reference ($VAR, ${VAR}, $(cmd), {{ .x }}),
# a boolean, a duration, or already redacted. Every pattern is anchored by a look-behind or bounded, so a
# hostile megabyte of text costs linear time.

URL_PASSWORD_MASK = "***"

_SECRET, _USERPASS, _OPENSSL, _SPEC = "secret", "userpass", "openssl", "spec"
_ATTACHED, _ANY = "attached", "any"  # short flags: `-pVALUE` only, or also `-p VALUE`

# Tool families (by the basename of a command word) whose short flags take a password.
_TOOL_FAMILY = {
    **dict.fromkeys(
        (
            "mysql",
            "mysqldump",
            "mysqladmin",
            "mysqlimport",
            "mysqlshow",
            "mysqlcheck",
            "mysqlpump",
            "mysqlslap",
            "mariadb",
            "mariadb-dump",
            "mariadb-admin",
            "mariadb-import",
            "mariadb-check",
            "mariadb-show",
        ),
        "mysql",
    ),
    **dict.fromkeys(("7z", "7za", "7zr"), "7z"),
    "sshpass": "sshpass",
    **dict.fromkeys(
        ("mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat", "mongotop"),
        "mongo",
    ),
    **dict.fromkeys(("redis-cli", "keydb-cli", "valkey-cli"), "redis"),
    **dict.fromkeys(("zip", "unzip", "zipcloak"), "zip"),
    "curl": "curl",
    "openssl": "openssl",
}
_REGISTRY_CLIS = frozenset({"docker", "podman", "nerdctl", "buildah", "skopeo", "helm", "oras", "crane"})
_TOOL_WORDS = frozenset(_TOOL_FAMILY) | _REGISTRY_CLIS | {"login"}
_SEPARATOR = re.compile(r"[;&|\n(`]")
# short flag letter -> tool family -> how it takes its value
_SHORT_FLAGS: dict[str, dict[str, str]] = {
    "p": {"mysql": _ATTACHED, "7z": _ATTACHED, "sshpass": _ANY, "mongo": _ANY, "login": _ANY},
    "a": {"redis": _ANY},
    "P": {"zip": _ANY},
    "u": {"curl": _USERPASS},
    "U": {"curl": _USERPASS},
    "k": {"openssl": _ANY},
}
# long flags whose meaning depends on the tool (curl --user user:password)
_CONTEXT_FLAGS = frozenset({"user", "proxy-user"})
# `--no-password`, `--ask-pass`, `--require-auth`: switches, whose next word is not their value.
_SWITCH_NAME = re.compile(
    r"^(NO|SKIP|DISABLE|ENABLE|ALLOW|REQUIRE|USE|WITH|WITHOUT|ASK|PROMPT|GENERATE|RANDOM|EMPTY|INSECURE|SHOW|"
    r"PRINT|ROTATE|SAVE|STORE|REMEMBER|CHECK|VERIFY|VALIDATE)_"
)
# docker build --secret id=npm,src=... names a secret, it does not hold one
_SECRET_SPEC = re.compile(r"(?:id|src|source|type|env|target|uid|gid|mode|required)=[^,\s]*(?:,[a-z]+=[^,\s]*)*")
_OPENSSL_REFERENCE = re.compile(r"(env|file|fd):\S+|stdin", re.IGNORECASE)

_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "enabled", "disabled"})
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w))+")
_REFERENCE = re.compile(
    r"\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\(.*|`.*|\{\{.*\}\}|%\([A-Za-z_]\w*\)s"
    r"|<[A-Za-z_][\w\- ]*>",
    re.DOTALL,
)
_STUBBED = re.compile(r"\S{0,2}…\(\d+ chars\)|\*{3}(?![^\s\"',;&|}\]@/])")

_MAYBE = re.compile(r"[=:@\-]")
_FLAG = re.compile(r"(?<![\w\-.$/])(-{1,2})([A-Za-z][\w.\-]{0,63})")
_ASSIGN = re.compile(r"(?<![\w.\-$/@])(?:export[ \t]+)?([A-Za-z_][\w.\-]{0,127})=")
_COLON = re.compile(r"(?<![\w.\-/:@$])([\"']?)([A-Za-z_][\w.\-]{0,127})\1[ \t]*:[ \t]*")
_UNQUOTED = re.compile(r"[^\s\"'`;&|<>]+")
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.){0,4096}"', re.DOTALL)
_SINGLE_QUOTED = re.compile(r"'[^']{0,4096}'")
_NEXT_OPTION = re.compile(r",(?=[A-Za-z_][\w.\-]{0,63}=)")
_UNQUOTED_IN_MAP = re.compile(r"[^\s,}\]\"']+")
_HEADER = re.compile(
    r"(?<![\w\-])((?:proxy-)?authorization)([ \t]*[:=][ \t]*)"
    r"((?:bearer|basic|token|digest|negotiate|bot|apikey|key|sso-key|oauth)(?:[ \t]+|\\ ))?([^\s\"',;]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?<![\w\-])(bearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE)
# The body of a PEM / OpenSSH / PGP private key holds no dash: it ends where the END line begins.
_PRIVATE_KEY = re.compile(r"(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)([^-]{1,65536})")
_URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{0,31}://)(?P<user>[^\s:/?#@\"'<>]{0,256}):"
    r"(?P<password>[^\s\"'<>]{0,1024}?)@"
    r"(?=(?:[A-Za-z0-9._~%\-]+|\[[0-9A-Fa-f:.]+\])(?::\d*)?(?:[/?#\s\"'<>),;\]]|$))"
)
# `user:password@host[:port]` without a scheme, as proxy settings and Go DSNs (`user:pw@tcp(db:3306)/x`) write it.
_BARE_USERINFO = re.compile(
    r"(?<![^\s=\"'(,;])(?P<user>[A-Za-z0-9._~%\-]{1,64}):(?P<password>[^\s\"'<>@/]{1,256})@"
    r"(?=(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d+)?(?:[/(\s\"'),;]|$))"
)
_CANDIDATE = re.compile(r"[^\s\"'`=,;(){}\[\]<>|&]{16,}")
_MIN_TOKEN = 16
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_LETTER = re.compile(r"[A-Za-z]")
_DIGIT_OR_UPPER = re.compile(r"[0-9A-Z]")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.+/~]")


def redact(text: str, scanner: SecretScanner | None = None) -> str:
    """`text` with every secret value in it replaced by its `stub`, keys and flags kept:

    `KEY=v` (quoted, `export KEY=v`), `--password v`, `--token=v`, `-pv` for mysql and 7z, `-p v` for sshpass,
    mongo and `docker login`, `redis-cli -a v`, `zip -P v`, `openssl -k v` / `-passin pass:v`, curl `-u user:v`
    and `--user=user:v`, URL userinfo (`scheme://user:***@host`, `user:***@host:port`), `"key": "v"` and
    `key: v`, `Authorization: Bearer v`, `X-Api-Key: v`, private key blocks; with a scanner also what a
    detect-secrets plugin flags anywhere (AWS keys, JWTs, GitHub, Slack, Stripe ... tokens).
    """
    return scanner.redact(text) if scanner is not None else _redact_rules(text, frozenset())


def redact_argv(argv: Sequence[str], scanner: SecretScanner | None = None) -> tuple[str, ...]:
    """An argv (Cmd, Entrypoint, a healthcheck's CMD) redacted element by element, with the command's tools as
    context (`["mysql", "-psecret"]`), and the element after a flag that takes a secret (`["--password", v]`)."""
    tools = _tools_in(a for a in argv if not any(c.isspace() for c in a))
    out = [_redact(a, tools, scanner) for a in argv]
    for i in range(len(argv) - 1):
        kind = _separate_kind(argv[i], tools)
        value = argv[i + 1]
        if kind is not None and value and not value.startswith("-"):
            shown = _redact_value(kind, value)
            if shown is not None:
                out[i + 1] = shown
    return tuple(out)


def redact_label(key: str, value: str, scanner: SecretScanner | None = None) -> str:
    """A label (or option) value: a stub under a secret-looking key, else `redact(value)`."""
    if looks_secret_name(key) and not _plain_value(value):
        return stub(value)
    return redact(value, scanner)


def mask_userinfo(text: str) -> str:
    """URLs keep their user name and lose their password: `https://bob:pw@mirror` -> `https://bob:***@mirror`;
    so does `user:pw@proxy:3128` without a scheme (not `image:tag@sha256:…`)."""
    return _mask_userinfo(text, None)


def _mask_userinfo(text: str, sink: Sink | None) -> str:
    if "@" not in text:
        return text
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: _mask_url(m, sink), text)
    return _BARE_USERINFO.sub(lambda m: _mask_bare(m, sink), text)


def _redact(text: str, tools: frozenset[str], scanner: SecretScanner | None) -> str:
    return scanner.redact(text, tools) if scanner is not None else _redact_rules(text, tools)


@lru_cache(maxsize=16384)
def _redact_rules(text: str, tools: frozenset[str]) -> str:
    return _apply_rules(text, tools, None)


def _apply_rules(text: str, tools: frozenset[str], sink: Sink | None) -> str:
    """Every rule in turn; with a `sink`, each value a rule stubs is also recorded there (see `Found`)."""
    if not _MAYBE.search(text):
        return text
    if "PRIVATE KEY" in text:
        text = _PRIVATE_KEY.sub(lambda m: _stub_key_block(m, sink), text)
    text = _HEADER.sub(lambda m: _stub_header(m, sink), text)
    text = _BEARER.sub(lambda m: _stub_bearer(m, sink), text)
    text = _flags(text, tools, sink)
    text = _assignments(text, sink)
    text = _colon_pairs(text, sink)
    return _mask_userinfo(text, sink)


# --- values -----------------------------------------------------------------------------------------


def _plain_value(value: str) -> bool:
    """A value that is no secret whatever its key says: empty, a reference, a boolean, a duration, a stub."""
    v = value.strip()
    return (
        not v
        or v.lower() in _BOOLEANS
        or bool(_DURATION.fullmatch(v))
        or bool(_REFERENCE.fullmatch(v))
        or bool(_STUBBED.fullmatch(v))
    )


def _redact_value(kind: str, raw: str) -> str | None:
    """The redacted form of a value (quotes kept) taken by a key or flag of this kind, or None to keep it."""
    quote = raw[0] if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0] else ""
    value = raw[1:-1] if quote else raw
    if _plain_value(value):
        return None
    if kind == _USERPASS:
        user, colon, password = value.partition(":")
        if not colon or _plain_value(password):
            return None
        shown = f"{user}:{stub(password)}"
    elif value[:5].lower() == "pass:":
        shown = value[:5] + stub(value[5:])
    elif (kind == _OPENSSL and _OPENSSL_REFERENCE.fullmatch(value)) or (
        kind == _SPEC and _SECRET_SPEC.fullmatch(value)
    ):
        return None
    else:
        shown = stub(value)
    return f"{quote}{shown}{quote}"


def _value_end(text: str, start: int, unquoted: re.Pattern[str] = _UNQUOTED) -> int:
    """Where the value starting at `start` ends: after its closing quote, or at the end of an unquoted run (an
    opening quote that does not close within 4 KiB starts an unquoted run)."""
    if start >= len(text):
        return start
    if text[start] in "\"'":
        quoted = (_DOUBLE_QUOTED if text[start] == '"' else _SINGLE_QUOTED).match(text, start)
        if quoted:
            return quoted.end()
        m = unquoted.match(text, start + 1)
        return m.end() if m else start
    m = unquoted.match(text, start)
    if not m:
        return start
    if unquoted is _UNQUOTED:  # `password=pw,uid=1000`: the next `key=` of a comma list ends the value
        comma = _NEXT_OPTION.search(text, start, m.end())
        if comma:
            return comma.start()
    return m.end()


def _stub_within(token: str, secrets: tuple[str, ...]) -> str:
    """`token` with each plugin hit, widened to the run of token characters around it, stubbed."""
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        i = token.find(secret)
        if i < 0:
            return stub(token)
        j = i + len(secret)
        while i > 0 and _TOKEN_CHARS.match(token[i - 1]):
            i -= 1
        while j < len(token) and _TOKEN_CHARS.match(token[j]):
            j += 1
        spans.append((i, j))
    merged: list[tuple[int, int]] = []
    for i, j in sorted(spans):
        if merged and i <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(j, merged[-1][1]))
        else:
            merged.append((i, j))
    out, last = [], 0
    for i, j in merged:
        out += [token[last:i], stub(token[i:j])]
        last = j
    return "".join(out) + token[last:]


# --- rules ------------------------------------------------------------------------------------------


def _stub_key_block(m: re.Match[str], sink: Sink | None = None) -> str:
    body = m.group(2)
    inner = body.strip()
    if not inner:
        return m.group(0)
    _record(sink, "PRIVATE KEY", inner, "private key block", by_name=False)
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()) :]
    return f"{m.group(1)}{lead}{stub(inner)}{trail}"


def _stub_header(m: re.Match[str], sink: Sink | None = None) -> str:
    value = m.group(4)
    if _plain_value(value):
        return m.group(0)
    _record(sink, m.group(1), value, "credential in an Authorization header", by_name=False)
    return f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{stub(value)}"


def _stub_bearer(m: re.Match[str], sink: Sink | None = None) -> str:
    value = m.group(2)
    if not _HAS_DIGIT.search(value):  # "Bearer authentication" in prose
        return m.group(0)
    _record(sink, "Bearer", value, "bearer token", by_name=False)
    return f"{m.group(1)}{stub(value)}"


def _mask_url(m: re.Match[str], sink: Sink | None = None) -> str:
    password = m["password"]
    if not password or password == URL_PASSWORD_MASK or _REFERENCE.fullmatch(password):
        return m.group(0)
    if re.match(r"\d+/", password):  # `https://host:5000/path@x`: a port and a path, no password
        return m.group(0)
    _record(sink, "URL", password, "password in a URL", by_name=False)
    return f"{m['scheme']}{m['user']}:{URL_PASSWORD_MASK}@"


def _mask_bare(m: re.Match[str], sink: Sink | None = None) -> str:
    password = m["password"]
    if (
        m["user"].lower() == "mailto"
        or re.fullmatch(r"sha\d+", m["host"], re.IGNORECASE)
        or password == URL_PASSWORD_MASK
        or _REFERENCE.fullmatch(password)
    ):
        return m.group(0)
    _record(sink, "user:password@host", password, "password in a URL", by_name=False)
    return f"{m['user']}:{URL_PASSWORD_MASK}@"


def _tools_in(words: Iterable[str]) -> frozenset[str]:
    """The tool families among command words (`/usr/bin/mysql` -> mysql); `docker ... login` -> login."""
    found: set[str] = set()
    registry = login = False
    for word in words:
        base = word.rsplit("/", 1)[-1].strip("\"'")
        family = _TOOL_FAMILY.get(base)
        if family is not None:
            found.add(family)
        registry = registry or base in _REGISTRY_CLIS
        login = login or base == "login"
    if registry and login:
        found.add("login")
    return frozenset(found)


class _Segments:
    """The tools of the shell command at each position of one text, asked at increasing positions: a command
    runs back to the last `;`, `&`, `|`, newline, `(` or backtick. Linear in the text overall."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._separators = _SEPARATOR.finditer(text)
        self._next = next(self._separators, None)
        self._scanned = 0
        self._words: list[str] = []
        self._tools: frozenset[str] = frozenset()

    def tools_at(self, pos: int) -> frozenset[str]:
        while self._next is not None and self._next.start() < pos:
            self._scanned = self._next.end()
            self._words, self._tools = [], frozenset()
            self._next = next(self._separators, None)
        if self._scanned < pos:
            new = self._text[self._scanned : pos].split()
            self._scanned = pos
            if any(w.rsplit("/", 1)[-1].strip("\"'") in _TOOL_WORDS for w in new):
                self._words += [w for w in new if w.rsplit("/", 1)[-1].strip("\"'") in _TOOL_WORDS]
                self._tools = _tools_in(self._words)
        return self._tools


def _short_kind(letter: str, tools: frozenset[str]) -> str | None:
    table = _SHORT_FLAGS.get(letter)
    if table is None:
        return None
    kinds = {table[t] for t in tools if t in table}
    if not kinds:
        return None
    for kind in (_USERPASS, _ANY, _ATTACHED):
        if kind in kinds:
            return kind
    return None


def _long_kind(name: str, tools: frozenset[str], separate: bool) -> str | None:
    """How a long flag (`--name`, or Go's `-name`) takes a secret, or None when it does not."""
    lower = name.lower()
    if "curl" in tools and lower in ("user", "proxy-user"):
        return _USERPASS
    if lower in ("pass", "passin", "passout"):
        return _OPENSSL
    if lower == "secret":
        return _SPEC
    if not looks_secret_name(name):
        return None
    if separate and _SWITCH_NAME.match(_upper_name(name)):
        return None
    return _SECRET


def _separate_kind(arg: str, tools: frozenset[str]) -> str | None:
    """How the argv element after `arg` is a secret, when `arg` is a flag that takes it separately."""
    if arg.startswith("--"):
        name = arg[2:]
        return None if "=" in name or not name else _long_kind(name, tools, separate=True)
    if len(arg) == 2 and arg[0] == "-":
        kind = _short_kind(arg[1], tools)
        return kind if kind in (_ANY, _USERPASS) else None
    if len(arg) > 2 and arg[0] == "-" and arg[1].isalpha() and "=" not in arg:
        if _short_kind(arg[1], tools) is not None:
            return None  # `-pVALUE`: the value is attached
        return _long_kind(arg[1:], tools, separate=True)
    return None


def _flags(text: str, tools: frozenset[str], sink: Sink | None = None) -> str:
    """`--password v`, `--token=v`, Go's `-token v`, and the short flags of known tools (`mysql -pv`)."""
    if "-" not in text:
        return text
    out: list[str] = []
    last = pos = 0
    segments = _Segments(text)
    while m := _FLAG.search(text, pos):
        dashes, name = m.group(1), m.group(2)
        span: tuple[int, int, str] | None = None
        kind = None
        context = tools
        if dashes == "-" and name[0] in _SHORT_FLAGS:
            kind = _short_kind(name[0], tools | segments.tools_at(m.start()))
        elif name.lower() in _CONTEXT_FLAGS:
            context = tools | segments.tools_at(m.start())
        if kind is not None:
            attached = m.start(2) + 1
            if attached < len(text) and not text[attached].isspace():
                span = _value_span(text, attached, kind)
            elif kind in (_ANY, _USERPASS):
                span = _separate_span(text, attached, kind)
        elif dashes == "--" or len(name) > 1:
            at = m.end()
            if at < len(text) and text[at] == "=":
                flag_kind = _long_kind(name, context, separate=False)
                if flag_kind is not None:
                    span = _value_span(text, at + 1, flag_kind)
            else:
                flag_kind = _long_kind(name, context, separate=True)
                if flag_kind is not None:
                    span = _separate_span(text, at, flag_kind)
        if span is None:
            pos = m.end()
            continue
        start, end, shown = span
        if sink is not None:
            flag = dashes + (name[0] if kind is not None else name)
            by_name = kind is None and _long_kind(name, frozenset(), separate=False) == _SECRET
            _record(sink, flag, _unquoted(text[start:end]), "secret option value", by_name=by_name)
        out += [text[last:start], shown]
        last = pos = end
    return "".join(out) + text[last:] if out else text


def _value_span(text: str, start: int, kind: str) -> tuple[int, int, str] | None:
    if _STUBBED.match(text, start):
        return None
    end = _value_end(text, start)
    if end <= start:
        return None
    shown = _redact_value(kind, text[start:end])
    return None if shown is None else (start, end, shown)


def _separate_span(text: str, at: int, kind: str) -> tuple[int, int, str] | None:
    """The value after a flag and blanks on the same line, unless it is another flag."""
    start = at
    while start < len(text) and text[start] in " \t":
        start += 1
    if start == at or start >= len(text) or text[start] == "-":
        return None
    return _value_span(text, start, kind)


def _assignments(text: str, sink: Sink | None = None) -> str:
    """`KEY=value` where KEY looks secret; a harmless key's value is searched on (`opts=token=…`)."""
    if "=" not in text:
        return text
    out: list[str] = []
    last = pos = 0
    while m := _ASSIGN.search(text, pos):
        if looks_secret_name(m.group(1)):
            span = _value_span(text, m.end(), _SECRET)
            if span is not None:
                start, end, shown = span
                _record(sink, m.group(1), _unquoted(text[start:end]), "secret-like name", by_name=True)
                out += [text[last:start], shown]
                last = pos = end
                continue
        pos = m.end()
    return "".join(out) + text[last:] if out else text


def _colon_pairs(text: str, sink: Sink | None = None) -> str:
    """`"key": "value"`, `key: value` (YAML: to the end of the line) and `X-Api-Key: value` for secret keys."""
    if ":" not in text:
        return text
    out: list[str] = []
    last = pos = 0
    while m := _COLON.search(text, pos):
        pos = m.end()
        start = m.end()
        if not looks_secret_name(m.group(2)) or start >= len(text) or text[start] in "\r\n{[":
            continue  # no value on this line, or a nested mapping or list
        if text.startswith("//", start):  # `token://…`: a URL scheme, not a key
            continue
        if _STUBBED.match(text, start):
            continue
        if text[start] in "\"'":
            end = _value_end(text, start)
        elif _starts_line(text, m.start()):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            comment = text.find(" #", start, end)
            end = comment if comment >= 0 else end
            while end > start and text[end - 1] in " \t\r":
                end -= 1
        else:
            end = _value_end(text, start, _UNQUOTED_IN_MAP)
        if end <= start:
            continue
        shown = _redact_value(_SECRET, text[start:end])
        if shown is not None:
            _record(sink, m.group(2), _unquoted(text[start:end]), "secret-like name", by_name=True)
            out += [text[last:start], shown]
            last = pos = end
    return "".join(out) + text[last:] if out else text


def _starts_line(text: str, pos: int) -> bool:
    """Only indentation (or a YAML list dash) between the line start and `pos`."""
    line_start = text.rfind("\n", max(0, pos - 256), pos) + 1
    if line_start == 0 and pos > 256:
        return False
    return text[line_start:pos].strip(" \t-") == ""
