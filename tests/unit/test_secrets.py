"""Secret detection and redaction: stubs reveal at most two characters, decisions come from facts."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
from builders import SCANNER, env

from runbench.secrets import (
    ENTROPY_DETECTORS,
    SecretScanner,
    _is_address,
    benign_name,
    is_secret,
    looks_secret_name,
    stub,
)
from runbench.snapshot import EnvVar

# --- stub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5, 11, 12, 13, 40, 200])
def test_stub_shape(n: int) -> None:
    value = "".join(chr(ord("A") + i % 26) for i in range(n))
    s = stub(value)
    prefix, _, rest = s.partition("…")
    assert rest == f"({n} chars)"
    assert prefix == (value[:2] if n >= 12 else "")
    assert len(prefix) <= 2


@pytest.mark.parametrize("value", ["hunter2", "pw", "x9!", "s3cr3t-pw!", "Tr0ub4dor&"])
def test_stub_of_a_short_value_reveals_nothing(value: str) -> None:
    assert len(value) < 12
    s = stub(value)
    assert value not in s
    assert s == f"…({len(value)} chars)"


@pytest.mark.parametrize(
    "value",
    [
        "correct horse battery staple",
        "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
)
def test_stub_of_a_long_value_keeps_two_characters(value: str) -> None:
    s = stub(value)
    assert value not in s
    assert value[:3] not in s
    assert s.startswith(value[:2] + "…")


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "PASSWORD",
        "mysql_root_password",
        "API_KEY",
        "SECRET_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_TOKEN",
        "client-secret",
        "SENTRY_DSN",
        "REDIS_PASS",
        "PGPASSWORD",
        "--api-key",
        "GPG_PASSPHRASE",
        "storepass",
        "requirepass",
        "com.example.deploy-token",
    ],
)
def test_secret_like_names(name: str) -> None:
    assert looks_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD_FILE",
        "TOKEN_PATH",
        "SECRETS_DIR",
        "PATH",
        "HOME",
        "PASSAGE",
        "TOKENIZER",
        "AWS_ACCESS_KEY_ID",
        # properties of a secret, not the secret
        "TOKEN_TTL",
        "PASSWORD_MIN_LENGTH",
        "AUTH_TYPE",
        "SECRET_NAME",
        "password-stdin",
        "JWT_EXPIRES_IN",
        "COMPASS",
        "BYPASS",
    ],
)
def test_names_that_are_not_secret(name: str) -> None:
    assert not looks_secret_name(name)


@pytest.mark.parametrize("name", ["GPG_KEY", "GPG_KEYS", "PYTHON_SHA256", "NODE_VERSION", "JAVA_HASH"])
def test_benign_names(name: str) -> None:
    assert benign_name(name)


# --- is_secret: decisions from collected facts ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("DB_PASSWORD", "fake-db-password-0001", "secret-like name"),
        ("API_KEY", "abc", "secret-like name"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
        ("CI_HELPER", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123", "GitHub Token"),
        ("DATABASE_URL", "postgres://app:fakepw123@db:5432/app", "Basic Auth Credentials"),
        ("PGPASSWORD", "fakefakefake42", "secret-like name"),
    ],
)
def test_secrets_are_detected(name: str, value: str, why: str) -> None:
    assert is_secret(env(name, value)) == (True, why)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ("HOME", "/root"),
        ("GPG_KEY", "B42F6819007F00F88E364FD4036A9C25BF357DD4"),
        ("PYTHON_SHA256", "3b3b5e2bf2b2e8a0c1d2e3f40123456789abcdef0123456789abcdef01234567"),
        ("DB_PASSWORD_FILE", "/run/secrets/db_password"),
        ("DB_PASSWORD", ""),
        ("LANG", "C.UTF-8"),
        ("JAVA_OPTS", "-Xmx512m -Dfile.encoding=UTF-8"),
    ],
)
def test_non_secrets(name: str, value: str) -> None:
    assert is_secret(env(name, value)) == (False, "")


def test_decisions_need_only_the_stored_facts() -> None:
    assert is_secret(EnvVar("DB_PASSWORD", 0, "…(0 chars)")) == (False, "")
    assert is_secret(EnvVar("X", 40, "gh…(40 chars)", ("GitHub Token",))) == (True, "GitHub Token")
    assert is_secret(EnvVar("X", 40, "ab…(40 chars)", ("Hex High Entropy String",))) == (False, "")
    assert is_secret(EnvVar("GPG_KEY", 40, "ab…(40 chars)", ("Secret Keyword",))) == (False, "")
    assert is_secret(EnvVar("MY_SETTING", 40, "ab…(40 chars)", ("Secret Keyword",))) == (True, "Secret Keyword")


def test_scan_env_stores_no_value() -> None:
    value = "fake-db-password-do-not-leak-0001"
    (var,) = SCANNER.scan_env([f"DB_PASSWORD={value}"])
    assert (var.name, var.length, var.stub) == ("DB_PASSWORD", len(value), "fa…(33 chars)")
    assert value not in repr(var)


def test_scan_env_splits_on_the_first_equals_sign() -> None:
    (var, bare) = SCANNER.scan_env(["OPTS=a=b=c", "BARE"])
    assert (var.name, var.length) == ("OPTS", 5)
    assert (bare.name, bare.length, bare.detectors) == ("BARE", 0, ())


# --- the scanner's redact on history commands --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            "/bin/sh -c #(nop) ENV DB_PASSWORD=supersecretvalue123",
            "supersecretvalue123",
            "ENV DB_PASSWORD=su…(19 chars)",
        ),
        ("|1 DB_PASSWORD=supersecretvalue123 /bin/sh -c make", "supersecretvalue123", "/bin/sh -c make"),
        (
            '/bin/sh -c #(nop)  ENV API_TOKEN="two words value" PATH=/usr/bin',
            "two words value",
            "PATH=/usr/bin",
        ),
        (
            "/bin/sh -c export GH=ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123 && make",
            "FAKEfakeFAKE",
            "&& make",
        ),
        (
            "RUN curl -u x -H 'x' && AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIEXAMPLEKEY aws s3 ls",
            "wJalrXUtnFEMI",
            "aws s3 ls",
        ),
    ],
)
def test_redact_removes_secret_values(text: str, gone: str, kept: str) -> None:
    out = SCANNER.redact(text)
    assert gone not in out
    assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        "/bin/sh -c #(nop) ENV PATH=/usr/bin",
        "/bin/sh -c #(nop)  ENV LANG=C.UTF-8 TZ=UTC",
        "/bin/sh -c apt-get update && apt-get install -y curl",
        "/bin/sh -c #(nop)  ENV DB_PASSWORD_FILE=/run/secrets/db",
        "",
    ],
)
def test_redact_leaves_harmless_text_alone(text: str) -> None:
    assert SCANNER.redact(text) == text


def test_scanner_works_as_a_context_manager_and_caches() -> None:
    with SecretScanner() as scanner:
        first = scanner.detectors("GH", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123")
        assert first == ("GitHub Token",)
        assert scanner.detectors("GH", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123") is first
        assert scanner.detectors("EMPTY", "") == ()
    # the shared scanner still works after another one restored detect-secrets' settings
    assert SCANNER.detectors("GH2", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123") == ("GitHub Token",)


# --- the regex screen skips only plugins that would find nothing ----------------------------------------


class _Unscreened(SecretScanner):
    """Every plugin through detect-secrets' own _scan_line, as before the screen."""

    def _load(self) -> list[object]:
        plugins = super()._load()
        self._screens = {}
        return plugins


SCREEN_CORPUS = [
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("CI_HELPER", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123"),
    ("GL", "glpat-" + "Ab3dEf6hIj9kLm2nOp5q"),
    ("STRIPE", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("SLACK", "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1"),
    ("HOOK", "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("KEY", "-----BEGIN RSA PRIVATE KEY-----"),
    ("DB_URL", "postgres://app:s3cr3tpw@db:5432/app"),
    ("SENDGRID", "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"),
    ("NPM", "npm_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123"),
    ("OPENAI", "sk-" + "Ab3dEf6hIj9kLm2nOp5qT3BlbkFJ" + "Ab3dEf6hIj9kLm2nOp5q"),
    ("PYPI", "pypi-AgEIcHlwaS5vcmc" + "A" * 60),
    ("TWILIO", "SK" + "0123456789abcdef0123456789abcdef"),
    ("MAILCHIMP", "0123456789abcdef0123456789abcdef-us12"),
    ("DISCORD", "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"),
    ("TELEGRAM", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("PUBLIC_IP", "8.8.8.8"),
    ("DB_PASSWORD", "bench-not-a-secret-0042"),
    ("APP_SECRET", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ("B64", "c2VjcmV0IHN0dWZmIGluIGJhc2U2NCBlbmNvZGluZyBmb3IgdGVzdGluZw=="),
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("APP_MODE", "bench"),
    ("EMPTY", ""),
    ("AZURE", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "A" * 86 + "=="),
    ("ARTIFACTORY", "AKC" + "p8" * 35),
    ("BASIC", "curl -u user:pass https://user:hunter2@example.com/x"),
    ("APP_CONFIG", 'db_pass = "Zq8vTt2pLm4x"'),
    ("SETTINGS", "PassWord: 'Zq8vTt2pLm4x'"),
    ("OPTS", "--api-key=Zq8vTt2pLm4x"),
    ("CLAVE", 'contraseña = "Zq8vTt2pLm4x"'),
    ("JAVA_OPTS", 'secret.assign("Zq8vTt2pLm4x",12)'),
    ("HOST", "app-7.example.internal"),
]


@pytest.mark.parametrize(("name", "value"), SCREEN_CORPUS)
def test_the_regex_screen_changes_no_detector_result(name: str, value: str) -> None:
    with SecretScanner() as screened, _Unscreened() as full:
        assert screened.detectors(name, value) == full.detectors(name, value)
        assert screened._token_hits(value) == full._token_hits(value)
        assert screened.redact(f"run --key {value} now") == full.redact(f"run --key {value} now")


def test_the_screen_leaves_out_only_plugins_of_pure_regex_lists() -> None:
    with SecretScanner() as scanner:
        plugins = scanner._load()
        screened = {type(p).__name__ for p in plugins if scanner._screens.get(id(p)) is not None}
        unscreened = {type(p).__name__ for p in plugins} - screened
    # the entropy plugins and the JWT plugin (its own analyze_string) always run; the keyword plugin is
    # screened by its keyword words, every one of its patterns requiring one of them
    assert {"Base64HighEntropyString", "HexHighEntropyString", "JwtTokenDetector"} <= unscreened
    assert {"AWSKeyDetector", "GitHubTokenDetector", "SlackDetector", "KeywordDetector"} <= screened


def _address_by_the_parser(v: str) -> bool:
    host = v.rsplit(":", 1)[0] if v.count(":") == 1 else v
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "value",
    [
        "1.2.3.4",
        "1.2.3.4:80",
        "::1",
        "[::1]",
        "[::1]:443",
        "fe80::1%eth0",
        "fe80::1%25",
        "10.0.0.1%x",
        "abc",
        "",
        "deadbeef",
        "1.2.3",
        "[fe80::1%eth0]:80",
        "::ffff:1.2.3.4",
        "2001:db8::1",
        "g::1",
        "1.2.3.4.5",
        "::1%",
        "%eth0",
        "bench-not-a-secret-0042",
        "FE80::A",
    ],
)
def test_the_address_shortcut_agrees_with_the_parser(value: str) -> None:
    assert _is_address(value) == _address_by_the_parser(value)


# --- detect-secrets never reaches the network --------------------------------------------------------------

OFFLINE_PROBE = """
import sys
from runbench.secrets import NetworkRefused, SecretScanner
with SecretScanner() as scanner:
    assert scanner.detectors("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE") == ("AWS Access Key",)
    assert scanner.detectors("DB_PASSWORD", "hunter2hunter2") == ("Secret Keyword",)
import detect_secrets.plugins.base as base
import detect_secrets.plugins.slack as slack
assert "requests" not in sys.modules, "the real requests package was loaded"
for call in (base.requests.get, slack.requests.post):
    try:
        call("https://slack.com/api/auth.test", data={"token": "x"})
    except NetworkRefused:
        pass
    else:
        raise AssertionError("a plugin could send a secret to the network")
import requests  # the stand-in is not importable afterwards: another user gets the real package
assert requests.__file__ and requests is not base.requests
print("offline")
"""


def test_detect_secrets_is_loaded_without_network_access() -> None:
    """In a fresh runbench process, detect-secrets' plugins get a `requests` whose calls refuse: a found
    secret is never sent to a service to verify it, and the real package is not imported at all."""
    done = subprocess.run([sys.executable, "-c", OFFLINE_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "offline"


def test_the_entropy_heuristics_are_not_run_on_variables() -> None:
    """They flag digests as readily as secrets and no verdict rests on them (is_secret ignores them)."""
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    with SecretScanner() as scanner:
        found = scanner.detectors("APP_SECRET", digest) + scanner.detectors("B64", "c2VjcmV0IHN0dWZmIGluIGJhc2U2NA==")
        assert not set(found) & ENTROPY_DETECTORS
        assert "Secret Keyword" in scanner.detectors("APP_SECRET", digest)  # the keyword heuristic still runs
        assert scanner.var("APP_SECRET", digest) is scanner.var("APP_SECRET", digest)  # judged once per value
