"""A throwaway certificate authority for TLS tests, made with the openssl command line: a CA, a server
certificate for 127.0.0.1 (and localhost) and a client certificate, each with its key (EC P-256, 2 days)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CertSet:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(name: str, usage: str, cn: str, cwd: Path) -> None:
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=cwd,
    )  # fmt: skip
    ext = cwd / f"{name}.ext"
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost\n" if usage == "serverAuth" else ""
    ext.write_text(f"{san}extendedKeyUsage={usage}\n")
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
        "-out", f"{name}-cert.pem", "-days", "2", "-extfile", ext.name, cwd=cwd,
    )  # fmt: skip


def make_ca(directory: Path) -> CertSet:
    """CA, server and client certificates under `directory` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=runbench test CA",
        cwd=directory,
    )  # fmt: skip
    _signed("server", "serverAuth", "127.0.0.1", directory)
    _signed("client", "clientAuth", "runbench-test-client", directory)
    for key in directory.glob("*-key.pem"):
        key.chmod(0o600)
    return CertSet(
        ca=directory / "ca.pem",
        server_cert=directory / "server-cert.pem",
        server_key=directory / "server-key.pem",
        client_cert=directory / "client-cert.pem",
        client_key=directory / "client-key.pem",
    )
