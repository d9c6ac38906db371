"""Precision of the one secret detector (runbench.secrets): real-world settings that are not secrets must
pass, and real secrets must be found, through the same path the collector takes (the real scanner, then
`is_secret` on the stored facts only). A HIGH finding on `TOKEN_TTL=3600` teaches users to ignore runbench.

The non-secrets are settings documented by popular official images (postgres, mysql, mariadb, mongo, redis,
rabbitmq, nginx, httpd, node, python, php, golang, openjdk, tomcat, wordpress, nextcloud, grafana, keycloak,
registry, minio, elasticsearch, traefik, jenkins, docker:dind ...) and common application settings; the
secrets are what ends up in images and compose files in practice. All values are fake.
"""

from __future__ import annotations

import pytest
from builders import SCANNER, env

from runbench.secrets import is_secret, value_kind
from runbench.snapshot import ValueKind

# (name, value): settings that are not secrets
NOT_SECRETS = [
    ("POSTGRES_USER", "postgres"),
    ("POSTGRES_DB", "app"),
    ("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256"),
    ("POSTGRES_INITDB_ARGS", "--data-checksums --auth-host=scram-sha-256"),
    ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres-passwd"),
    ("PGDATA", "/var/lib/postgresql/data/pgdata"),
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),
    ("MYSQL_RANDOM_ROOT_PASSWORD", "yes"),
    ("MYSQL_ONETIME_PASSWORD", "yes"),
    ("MYSQL_ROOT_HOST", "%"),
    ("MARIADB_AUTO_UPGRADE", "1"),
    ("MONGO_INITDB_ROOT_USERNAME", "admin"),
    ("MONGO_INITDB_DATABASE", "test"),
    ("RABBITMQ_DEFAULT_USER", "guest"),
    ("RABBITMQ_PGP_KEY_ID", "0x0A9AF2115F4687BD29803A206B73A36E6026DFCA"),
    ("REDIS_DOWNLOAD_SHA", "2e1b7e3d7bd1d2e2ac4b9e26ff8d3d0d7e2d1e4f8a0b9c6d5e4f3a2b1c0d9e8f"),
    ("NGINX_ENVSUBST_TEMPLATE_DIR", "/etc/nginx/templates"),
    ("NODE_ENV", "production"),
    ("NODE_OPTIONS", "--max-old-space-size=4096"),
    ("PYTHONUNBUFFERED", "1"),
    ("PIP_NO_CACHE_DIR", "off"),
    ("GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
    ("PHP_CFLAGS", "-fstack-protector-strong -fpic -fpie -O2 -D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64"),
    ("PHP_URL", "https://www.php.net/distributions/php-8.3.2.tar.xz"),
    ("GOTOOLCHAIN", "local"),
    ("JAVA_HOME", "/opt/java/openjdk"),
    ("JAVA_OPTS", "-Xms256m -Xmx1g -Djava.security.egd=file:/dev/./urandom"),
    ("CATALINA_HOME", "/usr/local/tomcat"),
    ("WORDPRESS_DB_HOST", "db:3306"),
    ("WORDPRESS_DB_PASSWORD_FILE", "/run/secrets/wp_db_password"),
    ("NEXTCLOUD_TRUSTED_DOMAINS", "cloud.example.com"),
    ("SMTP_AUTHTYPE", "LOGIN"),
    ("GF_AUTH_ANONYMOUS_ENABLED", "false"),
    ("GF_AUTH_DISABLE_LOGIN_FORM", "true"),
    ("GF_SECURITY_ADMIN_PASSWORD__FILE", "/run/secrets/grafana_admin"),
    ("KC_HTTP_ENABLED", "true"),
    ("REGISTRY_AUTH", "htpasswd"),
    ("REGISTRY_AUTH_HTPASSWD_REALM", "Registry Realm"),
    ("REGISTRY_HTTP_TLS_KEY", "/certs/domain.key"),
    ("MINIO_BROWSER", "on"),
    ("ES_JAVA_OPTS", "-Xms512m -Xmx512m"),
    ("xpack.security.enabled", "false"),
    ("DOCKER_TLS_CERTDIR", "/certs"),
    ("JENKINS_UC", "https://updates.jenkins.io"),
    ("VAULT_ADDR", "http://127.0.0.1:8200"),
    ("TOKEN_TTL", "3600"),
    ("JWT_EXPIRES_IN", "7d"),
    ("SESSION_TIMEOUT", "30m"),
    ("PASSWORD_MIN_LENGTH", "12"),
    ("API_KEY_HEADER", "X-Api-Key"),
    ("REDIS_URL", "redis://redis:6379/0"),
    ("DATABASE_URL", "postgres://app@db:5432/app"),
    ("HTTP_PROXY", "http://proxy.example:3128"),
    ("SMTP_PASSWORD", "${SMTP_PASSWORD}"),
    ("DB_PASSWORD", ""),
    ("SECRET_KEY", "<your-secret-key>"),
    ("API_TOKEN", "********"),
    ("JWT_SECRET", "$JWT_SECRET"),
    ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"),
    ("AUTH_ENABLED", "true"),
]

# (name, value, why is_secret gives): secrets
SECRETS = [
    ("POSTGRES_PASSWORD", "changeme", "secret-like name holding a well-known default password"),
    ("MONGO_INITDB_ROOT_PASSWORD", "example", "secret-like name holding a well-known default password"),
    ("GF_SECURITY_ADMIN_PASSWORD", "admin", "secret-like name holding a well-known default password"),
    ("MYSQL_ROOT_PASSWORD", "Fake-r00t-Pw!", "secret-like name"),
    ("RABBITMQ_DEFAULT_PASS", "fake-rabbit-pass", "secret-like name"),
    ("SPRING_DATASOURCE_PASSWORD", "s3cr3t-FAKE", "secret-like name"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS Access Key"),
    ("CI_HELPER", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123", "GitHub Token"),
    ("BUILD_INFO", "AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
    ("NPM_TOKEN", "npm_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123", "secret-like name"),
    ("JWT_SECRET", "8f3b2c1d9e7a6b5c4d3e2f1a0b9c8d7e", "secret-like name"),
    ("DATABASE_URL", "postgres://app:Fake-db-pw-1@db:5432/app", "Basic Auth Credentials"),
    ("REDIS_URL", "redis://:Fake-redis-pw@redis:6379/0", "password in a URL"),
    ("PIP_INDEX_URL", "https://ci:Fake-index-token@pypi.example/simple", "Basic Auth Credentials"),
    ("SENTRY_DSN", "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1", "secret-like name"),
    ("JAVA_OPTS", "-Xmx1g -Djavax.net.ssl.keyStorePassword=Fake-store-pw", "credential inside the value"),
    ("REDIS_ARGS", "--requirepass Fake-redis-pw --appendonly yes", "credential inside the value"),
    ("DOCKER_AUTH_CONFIG", '{"auths":{"registry.example":{"auth":"ZmFrZTpmYWtl"}}}', "credential inside the value"),
    ("VAULT_TOKEN", "hvs.FAKEfakeFAKEfakeFAKEfake", "secret-like name"),
    ("SIGNED_URL", "https://bucket.example/obj?X-Amz-Signature=fakefakefake0123", "password in a URL"),
    ("PGPASSWORD", "fakefakefake42", "secret-like name"),
]


def test_the_tables_are_as_large_as_the_issue_asks() -> None:
    assert len(NOT_SECRETS) >= 40 and len(SECRETS) >= 20


@pytest.mark.parametrize(("name", "value"), NOT_SECRETS, ids=[n for n, _ in NOT_SECRETS])
def test_settings_that_are_not_secrets(name: str, value: str) -> None:
    var = env(name, value)
    assert is_secret(var) == (False, ""), f"{name}: kind {var.kind}, detectors {var.detectors}"


@pytest.mark.parametrize(("name", "value", "why"), SECRETS, ids=[n for n, _, _ in SECRETS])
def test_secrets_are_found(name: str, value: str, why: str) -> None:
    var = env(name, value)
    assert is_secret(var) == (True, why), f"{name}: kind {var.kind}, detectors {var.detectors}"


def test_precision_and_recall_over_the_whole_table() -> None:
    false_positives = [n for n, v in NOT_SECRETS if is_secret(env(n, v))[0]]
    missed = [n for n, v, _ in SECRETS if not is_secret(env(n, v))[0]]
    assert (false_positives, missed) == ([], [])


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("", ValueKind.EMPTY),
        ("yes", ValueKind.BOOLEAN),
        ("3600", ValueKind.NUMBER),
        ("512m", ValueKind.NUMBER),
        ("1.25.3", ValueKind.NUMBER),
        ("10.0.0.5", ValueKind.NUMBER),
        ("1h30m", ValueKind.DURATION),
        ("PT5M", ValueKind.DURATION),
        ("/run/secrets/db", ValueKind.PATH),
        ("/usr/local/bin:/usr/bin", ValueKind.PATH),
        ("${DB_PASSWORD}", ValueKind.REFERENCE),
        ("{{ .Values.password }}", ValueKind.REFERENCE),
        ("vault:secret/data/app#password", ValueKind.REFERENCE),
        ("********", ValueKind.MASKED),
        ("https://example.com/x", ValueKind.URL),
        ("https://key@sentry.example/1", ValueKind.URL_USER),
        ("https://u:Fake-pw-1@host/x", ValueKind.URL_CREDENTIALS),
        ("https://h/x?access_token=FakeFake123", ValueKind.URL_CREDENTIALS),
        ("https://u:${PW}@host/x", ValueKind.URL_USER),
        ("-Dapp.password=Fake-pw-1", ValueKind.EMBEDDED),
        ("changeme", ValueKind.DEFAULT_PASSWORD),
        ("htpasswd", ValueKind.AUTH_SCHEME),
        ("SCRAM-SHA-256", ValueKind.AUTH_SCHEME),
        ("fake-db-password-0001", ValueKind.TEXT),
        ("Fake-Pw-99!", ValueKind.TEXT),
        # a base64 key that starts with a slash is no path
        ("/Zk9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZg==", ValueKind.TEXT),
        # a long run of digits may be a key, not a number
        ("12345678901234567890", ValueKind.TEXT),
    ],
)
def test_value_kinds(value: str, kind: ValueKind) -> None:
    assert value_kind(value) is kind


def test_a_known_default_password_is_a_secret_only_under_a_secret_name() -> None:
    assert is_secret(env("KEYCLOAK_ADMIN", "admin")) == (False, "")
    assert is_secret(env("KEYCLOAK_ADMIN_PASSWORD", "admin"))[0]


def test_a_bare_auth_name_over_a_credential_is_still_a_secret() -> None:
    assert is_secret(env("REGISTRY_AUTH", "htpasswd")) == (False, "")
    assert is_secret(env("REDIS_AUTH", "Fake-redis-Pw-7")) == (True, "secret-like name")
    assert is_secret(env("REDIS_AUTH", "fake-redis-pw-7")) == (True, "secret-like name")


def test_free_text_findings_keep_keys_and_judge_values() -> None:
    found = SCANNER.find("TOKEN_TTL=3600 API_TOKEN=Fake-tok-123 make && mysql -pFake-my-pw db")
    keys = {key: why for key, _, why in found}
    assert keys == {"API_TOKEN": "secret-like name", "-p": "secret option value"}
    assert all("Fake" not in var.stub for _, var, _ in found)
