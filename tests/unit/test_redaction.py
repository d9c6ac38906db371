"""One redaction function for every free-text field from the host (runbench.secrets.redact and the helpers
built on it): generated secrets planted in every form they are written in, inside longer command lines,
must leave no 8-character fragment behind while the key or flag survives; harmless text comes back unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
from collections.abc import Callable

import pytest
from builders import SCANNER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbench import daemonconfig
from runbench.secrets import mask_userinfo, redact, redact_argv, redact_label, stub

PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Alphabets of generated secrets: what each form can carry without quoting or percent-encoding.
GENERAL = string.ascii_letters + string.digits + "-_.+/~!%^*#=@:"
URL_SAFE = string.ascii_letters + string.digits + "-_.~!*+=%"
TOKEN68 = string.ascii_letters + string.digits + "-._~+/"
ALNUM = string.ascii_letters + string.digits


def _secretish(value: str) -> bool:
    """Not a word, not a number: starts like a value (not a flag), mixes letters and digits, varied."""
    return (
        value[0].isalnum()
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and len(set(value)) >= 5
    )


def secrets_of(alphabet: str, min_size: int = 12, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size).filter(_secretish)


PREFIXES = ["", "sh -c ", "/bin/sh -c ", "cd /srv/app && ", "exec ", "env LANG=C.UTF-8 ", "set -e; ", "nice -n 5 "]
SUFFIXES = ["", " --verbose", " && echo done", " | tee /tmp/out.log", "; exit 1", " >/dev/null 2>&1"]


def assert_redacted(text: str, out: str, secret: str, kept: tuple[str, ...]) -> None:
    """No 8-character window of `secret` in `out` (unless the rest of the text holds it too), `kept` all in."""
    assert secret not in out, out
    rest = text.replace(secret, "\x00")
    for i in range(len(secret) - 7):
        window = secret[i : i + 8]
        assert window not in out or window in rest, f"{window!r} of {secret!r} leaked: {out!r}"
    for part in kept:
        assert part in out, f"{part!r} lost: {text!r} -> {out!r}"


# --- forms: secret -> (text, the parts that must survive) ---------------------------------------------

Form = Callable[[str], tuple[str, tuple[str, ...]]]

ASSIGNMENTS: list[Form] = [
    lambda v: (f"DB_PASSWORD={v} psql", ("DB_PASSWORD=", " psql")),
    lambda v: (f'API_TOKEN="{v}" ./run', ('API_TOKEN="', '" ./run')),
    lambda v: (f"CLIENT_SECRET='{v}' app", ("CLIENT_SECRET='", "' app")),
    lambda v: (f"export PGPASSWORD={v} && pg_dump db", ("export PGPASSWORD=", "&& pg_dump db")),
    lambda v: (f"|1 NPM_TOKEN={v} /bin/sh -c npm ci", ("|1 NPM_TOKEN=", "/bin/sh -c npm ci")),
    lambda v: (f"#(nop)  ENV com.example.api-key={v} PATH=/usr/bin", ("ENV com.example.api-key=", "PATH=/usr/bin")),
    lambda v: (f"mount -o username=app,password={v},uid=1000 //s/x /mnt", ("username=app,password=", ",uid=1000")),
    lambda v: (f"docker run -e MYSQL_ROOT_PASSWORD={v} mysql", ("-e MYSQL_ROOT_PASSWORD=", " mysql")),
    lambda v: (f"wget https://api.example/v1?x=1&access_token={v}", ("https://api.example/v1?x=1&access_token=",)),
]

FLAGS: list[Form] = [
    lambda v: (f"app --password {v} --port 8080", ("app --password ", " --port 8080")),
    lambda v: (f"app --password={v}", ("app --password=",)),
    lambda v: (f"app --pass {v}", ("app --pass ",)),
    lambda v: (f"vault login --token={v}", ("vault login --token=",)),
    lambda v: (f"app --secret {v} run", ("app --secret ", " run")),
    lambda v: (f"app --api-key={v} run", ("app --api-key=", " run")),
    lambda v: (f'app --client-secret "{v}"', ('app --client-secret "',)),
    lambda v: (f"server -token {v}", ("server -token ",)),
    lambda v: (f"mysql -h db -uroot -p{v} app", ("mysql -h db -uroot -p", " app")),
    lambda v: (f"mysqldump --single-transaction -p{v} app", ("mysqldump --single-transaction -p", " app")),
    lambda v: (f"/usr/bin/mysqladmin ping -p{v}", ("/usr/bin/mysqladmin ping -p",)),
    lambda v: (f"sshpass -p {v} ssh deploy@host", ("sshpass -p ", " ssh deploy@host")),
    lambda v: (f"sshpass -p{v} scp a b", ("sshpass -p", " scp a b")),
    lambda v: (f"redis-cli -h cache -a {v} ping", ("redis-cli -h cache -a ", " ping")),
    lambda v: (f"docker login -u bob -p {v} registry.example", ("docker login -u bob -p ", " registry.example")),
    lambda v: (f"mongosh --host db -u admin -p {v}", ("mongosh --host db -u admin -p ",)),
    lambda v: (f"keytool -list -storepass {v} -keystore ks", ("keytool -list -storepass ", " -keystore ks")),
    lambda v: (f"redis-server --requirepass {v}", ("redis-server --requirepass ",)),
]

USERPASS: list[Form] = [
    lambda v: (f"curl -fsS -u alice:{v} https://api.example/x", ("curl -fsS -u alice:", " https://api.example/x")),
    lambda v: (f"curl --user=alice:{v} https://x.example", ("curl --user=alice:", " https://x.example")),
    lambda v: (f"curl --user alice:{v} -o /dev/null https://x", ("curl --user alice:", " -o /dev/null")),
    lambda v: (f"curl -U proxy:{v} -x http://proxy:3128 https://x", ("curl -U proxy:", "-x http://proxy:3128")),
]

URLS: list[Form] = [
    lambda v: (f"psql postgres://app:{v}@db.internal:5432/app", ("postgres://app:", "@db.internal:5432/app")),
    lambda v: (f"DATABASE_URL=mysql://root:{v}@db/shop", ("DATABASE_URL=mysql://root:", "@db/shop")),
    lambda v: (f"git clone https://ci:{v}@git.example.com/org/repo.git", ("https://ci:", "@git.example.com/org")),
    lambda v: (f"mongodb+srv://admin:{v}@cluster0.example.net/?retryWrites=true", ("mongodb+srv://admin:",)),
    lambda v: (f"redis-cli -u redis://:{v}@cache:6379/0 ping", ("redis://:", "@cache:6379/0 ping")),
    lambda v: (f"amqp://guest:{v}@[::1]:5672/vhost", ("amqp://guest:", "@[::1]:5672/vhost")),
    lambda v: (f"HTTPS_PROXY=alice:{v}@proxy.local:3128 apt-get update", ("alice:", "@proxy.local:3128")),
    lambda v: (f"app --dsn-from-env x app:{v}@tcp(db:3306)/shop", ("app:", "@tcp(db:3306)/shop")),
]

MAPS: list[Form] = [
    lambda v: (f'{{"password": "{v}", "user": "bob"}}', ('{"password": "', '"user": "bob"')),
    lambda v: (f'{{"auths":{{"r.example":{{"auth":"{v}"}}}}}}', ('"auth":"',)),
    lambda v: (f"{{api_key: {v}, retries: 3}}", ("{api_key: ", ", retries: 3}")),
    lambda v: (f"\ndb:\n  password: {v}\n  user: app\n", ("  password: ", "  user: app")),
    lambda v: (f"\n- client_secret: {v}\n", ("- client_secret: ",)),
]

HEADERS: list[Form] = [
    lambda v: (f"curl -H 'Authorization: Bearer {v}' https://x", ("-H 'Authorization: Bearer ", "' https://x")),
    lambda v: (f'curl -H "Authorization: Basic {v}" https://x', ('"Authorization: Basic ', '" https://x')),
    lambda v: (f"wget --header=Authorization:token\\ {v} x", ("--header=Authorization:",)),
    lambda v: (f"curl -H 'X-Api-Key: {v}' https://x", ("-H 'X-Api-Key: ", "' https://x")),
    lambda v: (f"curl --header 'Private-Token: {v}' https://gitlab", ("--header 'Private-Token: ",)),
    lambda v: (f"curl -H 'X-Auth-Token:{v}' https://x", ("-H 'X-Auth-Token:",)),
    lambda v: (f"Proxy-Authorization: Bearer {v}", ("Proxy-Authorization: Bearer ",)),
]


def _with_noise(form: Form, secret: str, prefix: str, suffix: str) -> tuple[str, str, tuple[str, ...]]:
    text, kept = form(secret)
    full = f"{prefix}{text}{suffix}"
    return full, secret, (*kept, prefix.strip(), suffix.strip())


@PROPERTY
@given(
    form=st.sampled_from(ASSIGNMENTS),
    secret=secrets_of(GENERAL),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
)
def test_assignments(form: Form, secret: str, prefix: str, suffix: str) -> None:
    text, secret, kept = _with_noise(form, secret, prefix, suffix)
    assert_redacted(text, redact(text), secret, kept)


@PROPERTY
@given(
    form=st.sampled_from(FLAGS),
    secret=secrets_of(GENERAL),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
)
def test_flags(form: Form, secret: str, prefix: str, suffix: str) -> None:
    text, secret, kept = _with_noise(form, secret, prefix, suffix)
    assert_redacted(text, redact(text), secret, kept)


@PROPERTY
@given(
    form=st.sampled_from(USERPASS),
    secret=secrets_of(GENERAL),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
)
def test_user_and_password(form: Form, secret: str, prefix: str, suffix: str) -> None:
    text, secret, kept = _with_noise(form, secret, prefix, suffix)
    assert_redacted(text, redact(text), secret, kept)


@PROPERTY
@given(
    form=st.sampled_from(URLS),
    secret=secrets_of(URL_SAFE),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
)
def test_url_userinfo(form: Form, secret: str, prefix: str, suffix: str) -> None:
    text, secret, kept = _with_noise(form, secret, prefix, suffix)
    out = redact(text)
    assert_redacted(text, out, secret, kept)
    assert ":***@" in out


@PROPERTY
@given(form=st.sampled_from(MAPS), secret=secrets_of(GENERAL.replace(":", "").replace("#", "")))
def test_json_and_yaml(form: Form, secret: str) -> None:
    text, kept = form(secret)
    assert_redacted(text, redact(text), secret, kept)


@PROPERTY
@given(
    form=st.sampled_from(HEADERS),
    secret=secrets_of(TOKEN68),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
)
def test_http_headers(form: Form, secret: str, prefix: str, suffix: str) -> None:
    text, secret, kept = _with_noise(form, secret, prefix, suffix)
    assert_redacted(text, redact(text), secret, kept)


# --- detect-secrets plugin hits anywhere (with the scanner) -------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(subject: str, signature: bytes) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": subject, "iat": 1700000000}).encode())
    return f"{header}.{payload}.{_b64url(signature)}"


def _private_key(body: bytes) -> str:
    lines = base64.b64encode(body).decode()
    wrapped = "\n".join(lines[i : i + 64] for i in range(0, len(lines), 64))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{wrapped}\n-----END RSA PRIVATE KEY-----"


def _random(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# Tokens drawn from a seeded generator: random like real ones (detect-secrets filters out sequential
# strings such as AKIAAAAAAAAAABCDEFGH, which shrinking would otherwise produce).
TOKEN_KINDS: dict[str, Callable[[random.Random], str]] = {
    "github": lambda r: f"ghp_{_random(r, 36)}",
    "aws": lambda r: f"AKIA{_random(r, 16, string.ascii_uppercase + string.digits)}",
    "stripe": lambda r: f"sk_live_{_random(r, 24)}",
    "slack": lambda r: (
        f"xoxb-{r.randrange(10**9, 10**13)}-{r.randrange(10**9, 10**13)}-"
        f"{_random(r, 24, string.ascii_lowercase + string.digits)}"
    ),
    "jwt": lambda r: _jwt(_random(r, r.randrange(8, 20)), r.randbytes(32)),
}
TOKENS = st.builds(
    lambda kind, seed: TOKEN_KINDS[kind](random.Random(seed)),
    st.sampled_from(sorted(TOKEN_KINDS)),
    st.integers(0, 2**32),
)
PLACES = [
    lambda t: f"app --notify-with {t} --verbose",
    lambda t: f"GH={t} make release",
    lambda t: f'{{"note": "{t}"}}',
    lambda t: f"echo {t} | docker login --password-stdin",
    lambda t: f"sh -c 'deploy {t}'",
]


@PROPERTY
@given(token=TOKENS, place=st.sampled_from(PLACES))
def test_plugin_hits_anywhere(token: str, place: Callable[[str], str]) -> None:
    text = place(token)
    out = SCANNER.redact(text)
    assert_redacted(text, out, token, ())
    assert out.replace(stub(token), "\x00") == text.replace(token, "\x00")  # only the token changed


@PROPERTY
@given(body=st.binary(min_size=64, max_size=600), prefix=st.sampled_from(PREFIXES))
def test_private_key_blocks(body: bytes, prefix: str) -> None:
    key = _private_key(body)
    text = f"{prefix}printf '%s' '{key}' > /root/.ssh/id_rsa"
    out = redact(text)
    inner = key.split("\n", 1)[1].rsplit("\n", 1)[0]
    assert_redacted(text, out, inner, ("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"))


# --- argv and labels ------------------------------------------------------------------------------------

ARGVS: list[Callable[[str], tuple[list[str], tuple[str, ...]]]] = [
    lambda v: (["app", "--password", v, "--port", "8080"], ("app", "--password", "--port", "8080")),
    lambda v: (["/usr/bin/mysql", "-uroot", f"-p{v}"], ("/usr/bin/mysql", "-uroot")),
    lambda v: (["sshpass", "-p", v, "ssh", "host"], ("sshpass", "-p", "ssh", "host")),
    lambda v: (["redis-cli", "-a", v, "ping"], ("redis-cli", "-a", "ping")),
    lambda v: (["curl", "-u", f"alice:{v}", "https://x"], ("curl", "-u", "https://x")),
    lambda v: (["docker", "login", "-u", "bob", "-p", v, "registry"], ("docker", "login", "-u", "bob", "registry")),
    lambda v: (["app", f"--token={v}"], ("app",)),
    lambda v: (["env", f"DB_PASSWORD={v}", "app"], ("env", "app")),
    lambda v: (["/bin/sh", "-c", f"PGPASSWORD={v} pg_isready -h db"], ("/bin/sh", "-c")),
]


@PROPERTY
@given(form=st.sampled_from(ARGVS), secret=secrets_of(GENERAL))
def test_argv(form: Callable[[str], tuple[list[str], tuple[str, ...]]], secret: str) -> None:
    argv, kept = form(secret)
    out = redact_argv(argv, SCANNER)
    assert len(out) == len(argv)
    assert_redacted("\n".join(argv), "\n".join(out), secret, ())
    assert set(kept) <= set(out), out


@PROPERTY
@given(secret=secrets_of(URL_SAFE), key=st.sampled_from(["com.example.db-password", "traefik.auth.token"]))
def test_labels(secret: str, key: str) -> None:
    assert redact_label(key, secret) == stub(secret)  # by key name
    for value in (f"postgres://app:{secret}@db/app", f"DB_PASSWORD={secret}", f"--password={secret}"):
        out = redact_label("com.example.note", value, SCANNER)  # by value, under an innocent key
        assert_redacted(value, out, secret, ())


# --- examples: the exact shapes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("PGPASSWORD=hunter2-correct-horse false", "PGPASSWORD=hu…(21 chars) false"),
        ("mysql -uroot -pS3cr3tPassw0rd! db", "mysql -uroot -pS3…(15 chars) db"),
        ("curl -u alice:S3cr3tPassw0rd https://x", "curl -u alice:S3…(14 chars) https://x"),
        ("postgres://app:S3cr3tPassw0rd@db:5432/app", "postgres://app:***@db:5432/app"),
        ("user:S3cr3tPassw0rd@proxy:3128", "user:***@proxy:3128"),
        ('{"password": "S3cr3tPassw0rd"}', '{"password": "S3…(14 chars)"}'),
        ("Authorization: Bearer abc.def.ghi123", "Authorization: Bearer ab…(14 chars)"),
        ("--password short", "--password …(5 chars)"),
        ("openssl rsa -passin pass:S3cr3tPassw0rd -in k", "openssl rsa -passin pass:S3…(14 chars) -in k"),
        ("mount -o user=u,password=pw123,uid=0 x", "mount -o user=u,password=…(5 chars),uid=0 x"),
    ],
)
def test_examples(text: str, redacted: str) -> None:
    assert redact(text) == redacted
    assert SCANNER.redact(text) == redacted


# --- what must come back unchanged ---------------------------------------------------------------------

NOT_SECRETS = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TOKEN_TTL=3600",
    "PASSWORD_FILE=/run/secrets/db",
    "MYSQL_ROOT_PASSWORD_FILE=/run/secrets/mysql-root",
    "DB_PASSWORD=${DB_PASSWORD}",
    "DB_PASSWORD=$DB_PASSWORD psql",
    "--password-file /run/secrets/x",
    "docker login --password-stdin registry.example",
    "app --no-password serve --ask-pass later",
    "mongod --auth --bind_ip_all",
    "https://example.com/a/b?x=1&y=2",
    "tcp://0.0.0.0:2376",
    "unix:///var/run/docker.sock",
    "https://registry.example:5000/v2/app/manifests/x@sha256:0123",
    "git@github.com:org/repo.git",
    "ssh://git@host:22/repo.git",
    "mailto:bob@example.com",
    "debian:12@sha256:3b3b5e2bf2b2e8a0c1d2e3f40123456789abcdef0123456789abcdef01234567",
    "ENABLE_AUTH=true REQUIRE_AUTH=false AUTH=off MYSQL_ALLOW_EMPTY_PASSWORD=yes",
    "RETRIES=3 --port 8080 TIMEOUT=30s --interval=1m30s TOKEN_EXPIRY=24h",
    "DB_PASSWORD= --password= PASSWORD=''",
    "docker run -p 8080:80 -u 1000:1000 --user 1000:1000 img",
    "redis-cli -p 6379 ping && ssh -p 2222 host && mysql -P 3306 -h db -p app",
    "mysqladmin ping -h localhost -uroot -p$MYSQL_ROOT_PASSWORD",
    "curl -fsS -H 'Authorization: Bearer ${TOKEN}' http://localhost/health",
    "curl -u alice https://x",
    "pg_isready -U postgres -d app",
    "openssl req -passin env:KEY_PASS -passout file:/run/pass -in x",
    "docker build --secret id=npm,src=/run/npmrc .",
    "/bin/sh -c #(nop)  ENV PATH=/usr/bin LANG=C.UTF-8",
    "/bin/sh -c #(nop) ADD file:4b2f3c8e9a0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f in / ",
    "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl ca-certificates",
    "|1 VERSION=1.2.3 /bin/sh -c make",
    "COPY --from=builder /app /app",
    "GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
    "PYTHON_SHA256=3b3b5e2bf2b2e8a0c1d2e3f40123456789abcdef0123456789abcdef01234567",
    "org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567",
    "Jane Doe <jane@example.com>",
    "Bearer authentication is required",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "listen 10.1.2.3:8080 and resolve via 8.8.8.8",
    "AWS_ACCESS_KEY_ID_FILE=/run/secrets/aws",
    "echo '[bold]boom[/bold]' \x1b[2J; true",
    "sleep 3600",
    "",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert redact(text) == text
    assert SCANNER.redact(text) == text
    assert redact_argv(text.split(" "), SCANNER) == tuple(text.split(" "))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("com.example.auth.enabled", "true"),
        ("com.example.password-file", "/run/secrets/db"),
        ("com.example.token", ""),
        ("org.opencontainers.image.source", "https://github.com/org/repo"),
        ("maintainer", "Jane Doe <jane@example.com>"),
    ],
)
def test_harmless_labels_are_unchanged(key: str, value: str) -> None:
    assert redact_label(key, value, SCANNER) == value


# --- one rule set: daemon.json and dockerd's argv go through the same function -----------------------


def test_daemonconfig_uses_the_same_rules() -> None:
    text = "http://proxy-user:S3cr3tPassw0rd@proxy:3128"
    assert daemonconfig.mask_userinfo(text) == mask_userinfo(text) == redact(text)
    assert daemonconfig.redact("splunk-token=S3cr3tPassw0rd", False) == redact("splunk-token=S3cr3tPassw0rd")
    assert daemonconfig.redact("--password S3cr3tPassw0rd", False) == "--password S3…(14 chars)"


# --- cost: hostile sizes stay linear, repeated texts are cached ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a" * 300_000 + "://",
        "-" * 300_000,
        "=" * 300_000,
        'PASSWORD="\\' * 30_000,
        "-----BEGIN RSA PRIVATE KEY-----" * 10_000,
        "mysql " + "-p " * 30_000,
        "a:" * 150_000 + "@h",
        "x://u:" + "@" * 300_000,
        "\npassword: x" * 30_000,
        "curl " + "--user a " * 30_000,
        "a:b@" * 75_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_hostile_text_is_linear(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 2.0


def test_a_thousand_containers_of_one_image_cost_one_redaction() -> None:
    health = ["CMD-SHELL", "PGPASSWORD=hunter2-correct-horse pg_isready -h db -U app || exit 1"]
    labels = {"com.example.note": "see https://ci:S3cr3tPassw0rd@ci.example/job", "version": "1.2.3"}
    started = time.perf_counter()
    for _ in range(1000):
        redact_argv(health[1:], SCANNER)
        for key, value in labels.items():
            redact_label(key, value, SCANNER)
    assert time.perf_counter() - started < 0.5


def test_text_without_any_marker_takes_the_fast_path() -> None:
    text = "sleep 3600 " * 1000
    started = time.perf_counter()
    for _ in range(100):
        redact(text + str(_))  # distinct texts: no cache
    assert time.perf_counter() - started < 0.5
