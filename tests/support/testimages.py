"""Build runbench's test images offline, on whatever engine the given docker client talks to.

No registry is reachable on the test machines, so nothing is pulled:

- ``runbench-test/base:1``  ``docker import`` of a tarball holding the host's static busybox
  (Debian package busybox-static, /bin/busybox), applet symlinks, /etc/passwd and /etc/group with
  ``root`` and ``app`` (uid/gid 1000), and /tmp (1777).
- ``runbench-test/app:1``   FROM base (classic builder): USER 1000, a HEALTHCHECK, ``sleep 3600``.
- ``runbench-test/secrets:1`` FROM base: fake secrets in a build ARG (history), an ENV, labels, the
  HEALTHCHECK and the CMD (IMAGE_SECRETS), for the output-safety tests.
- ``runbench-test/sshd:1``  FROM base: /usr/sbin/sshd, a tiny static C program (tests/support/sshd.c)
  that pauses forever and exits 0 on SIGTERM, so the container's process is named ``sshd``. Needs gcc
  and libc6-dev; without a compiler a copy of busybox named sshd stands in (see SSHD_FALLBACK_DOCKERFILE).

Both engines of the suite (docker.io 20.10, API 1.41, and docker.io 28.x, API 1.51) build these the same
way: ``POST /build`` without a ``version`` parameter selects the classic builder on both (BuildKit is the
CLI's default, not the API's), which works offline; the import needs no registry either.

Every image carries the label ``runbench.test=1`` and ``runbench.test.recipe=<hash>``; the hash covers
the recipe (and, for derived images, the id of the base they were built on), so ``ensure_test_images``
reuses what is already there and rebuilds only what changed. Used by tests/integration and bench/.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors

__all__ = [
    "APP_IMAGE",
    "BASE_IMAGE",
    "IMAGE_SECRETS",
    "SECRETS_IMAGE",
    "SSHD_IMAGE",
    "TEST_LABEL",
    "TEST_LABELS",
    "ensure_test_images",
]

BASE_IMAGE = "runbench-test/base:1"
APP_IMAGE = "runbench-test/app:1"
SSHD_IMAGE = "runbench-test/sshd:1"
SECRETS_IMAGE = "runbench-test/secrets:1"

TEST_LABEL = "runbench.test=1"
TEST_LABELS = {"runbench.test": "1"}
RECIPE_LABEL = "runbench.test.recipe"

BUSYBOX = Path(os.environ.get("RUNBENCH_TEST_BUSYBOX", "/bin/busybox"))
SSHD_SOURCE = Path(__file__).with_name("sshd.c")

APPLETS = [
    "sh",
    "ash",
    "sleep",
    "true",
    "false",
    "cat",
    "ls",
    "id",
    "echo",
    "env",
    "printf",
    "ps",
    "kill",
    "hostname",
    "whoami",
    "uname",
    "date",
    "mkdir",
    "rm",
    "touch",
    "test",
    "[",
    "grep",
    "sed",
    "head",
    "tail",
    "tr",
    "wc",
    "pwd",
    "mount",
    "chmod",
    "chown",
    "ln",
    "cp",
    "mv",
    "find",
    "nc",
    "wget",
    "netstat",
    "top",
]

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"

BASE_CHANGES = (
    "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["/bin/sh"]',
)

APP_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
USER 1000
HEALTHCHECK --interval=2s --timeout=2s --retries=2 CMD ["/bin/true"]
CMD ["sleep", "3600"]
"""

# Fake secrets baked into SECRETS_IMAGE, one per free-text field of an image (tests/integration/test_output_safety.py
# asserts that no output holds any fragment of them): a build ARG in the history of a RUN step, an ENV, labels
# (secret key; URL with a password), the HEALTHCHECK and the CMD.
IMAGE_SECRETS = {
    "history_arg": "build-Fake-Tk4Wq8Zr2Lm6",
    "history_env": "sign-Fake-Pj7Xc3Vn9Bq1",
    "label": "deploy-Fake-Hs5Ry2Ku8Dw4",
    "label_url": "lblurl-Fake-Mz6Tq1Xe",
    "health": "mysql-Fake-Qa9Lw3Jt7Nv",
    "cmd": "cmd-Fake-Gd2Bx8Ph5Ws",
}

SECRETS_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
ARG BUILD_TOKEN={IMAGE_SECRETS["history_arg"]}
RUN true
ENV SIGNING_KEY={IMAGE_SECRETS["history_env"]}
LABEL com.example.deploy-token={IMAGE_SECRETS["label"]} \\
      com.example.source=https://ci:{IMAGE_SECRETS["label_url"]}@git.example/org/app
HEALTHCHECK --interval=30s CMD mysqladmin ping -uroot -p{IMAGE_SECRETS["health"]} || exit 1
CMD ["app", "--password={IMAGE_SECRETS["cmd"]}"]
"""

SSHD_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
COPY sshd /usr/sbin/sshd
CMD ["/usr/sbin/sshd"]
"""

# Without a C compiler: /usr/sbin/sshd is a copy of busybox, started with argv[0] "busybox" so it runs
# the sleep applet; the process is still named sshd (/proc/<pid>/comm and exe) once sh has exec'd it.
SSHD_FALLBACK_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
RUN cp /bin/busybox /usr/sbin/sshd
CMD ["/bin/sh", "-c", "exec -a busybox /usr/sbin/sshd sleep 2147483647"]
"""

_MTIME = 1_700_000_000  # fixed, so the tarball (and the recipe hash) does not depend on build time


def ensure_test_images(client: docker.DockerClient) -> None:
    """Make sure the three test images exist on the engine; build only what is missing or stale."""
    with _lock():
        base_id = _ensure_base(client)
        _ensure_built(client, APP_IMAGE, APP_DOCKERFILE, base_id, key="", files=dict)
        _ensure_built(client, SECRETS_IMAGE, SECRETS_DOCKERFILE, base_id, key="", files=dict)
        cc = shutil.which(os.environ.get("CC", "gcc"))
        if cc is not None:
            key = "gcc:" + hashlib.sha256(SSHD_SOURCE.read_bytes()).hexdigest()
            _ensure_built(client, SSHD_IMAGE, SSHD_DOCKERFILE, base_id, key, lambda: {"sshd": _compile_sshd(cc)})
        else:
            _ensure_built(client, SSHD_IMAGE, SSHD_FALLBACK_DOCKERFILE, base_id, "busybox-fallback", dict)
        _drop_stale(client)


# -- base ---------------------------------------------------------------------------------------


def _ensure_base(client: docker.DockerClient) -> str:
    if not BUSYBOX.is_file():
        raise RuntimeError(
            f"{BUSYBOX} not found: install Debian's busybox-static (apt-get install -y busybox-static) "
            "or set RUNBENCH_TEST_BUSYBOX to a static busybox binary"
        )
    tarball = _base_tarball()
    recipe = _hash(tarball, *BASE_CHANGES)
    existing = _existing(client, BASE_IMAGE, recipe)
    if existing is not None:
        return existing
    repository, tag = BASE_IMAGE.rsplit(":", 1)
    changes = [*BASE_CHANGES, f"LABEL runbench.test=1 {RECIPE_LABEL}={recipe}"]
    with tempfile.TemporaryDirectory(prefix="runbench-base-") as tmp:
        path = Path(tmp, "rootfs.tar")
        path.write_bytes(tarball)
        client.api.import_image(src=str(path), repository=repository, tag=tag, changes=changes)
    image = client.images.get(BASE_IMAGE)
    if image.labels.get(RECIPE_LABEL) != recipe:
        raise RuntimeError(f"import of {BASE_IMAGE} did not apply its labels: {image.labels!r}")
    return str(image.id)


def _base_tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add_dir(name: str, mode: int = 0o755, uid: int = 0) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode, info.uid, info.gid, info.mtime = mode, uid, uid, _MTIME
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, _MTIME
            tar.addfile(info, io.BytesIO(data))

        def add_symlink(name: str, target: str) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, _MTIME
            tar.addfile(info)

        for d in ("bin", "etc", "usr", "usr/bin", "usr/sbin", "sbin", "var", "home", "proc", "sys", "dev"):
            add_dir(d)
        add_dir("root", 0o700)
        add_dir("home/app", 0o755, uid=1000)
        add_dir("tmp", 0o1777)
        add_dir("var/tmp", 0o1777)
        add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for applet in APPLETS:
            add_symlink(f"bin/{applet}", "busybox")
        add_file("etc/passwd", PASSWD.encode())
        add_file("etc/group", GROUP.encode())
    return buf.getvalue()


# -- derived images -----------------------------------------------------------------------------


def _ensure_built(
    client: docker.DockerClient,
    ref: str,
    dockerfile: str,
    base_id: str,
    key: str,
    files: Callable[[], dict[str, bytes]],
) -> str:
    """Build ``ref`` from ``dockerfile`` unless an image with the same recipe hash is already there.

    ``key`` stands for the content of the extra context files (produced by ``files()`` only when a
    build is needed), so a second call does no work beyond one image inspect.
    """
    recipe = _hash(dockerfile, base_id, key)
    existing = _existing(client, ref, recipe)
    if existing is not None:
        return existing
    context = _context_tar(dockerfile, files())
    try:
        image, _logs = client.images.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=ref,
            rm=True,
            forcerm=True,
            pull=False,
            labels={**TEST_LABELS, RECIPE_LABEL: recipe},
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in exc.build_log)
        raise RuntimeError(f"building {ref} failed: {exc}\n{log}") from exc
    return str(image.id)


def _context_tar(dockerfile: str, extra: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, mode in [("Dockerfile", dockerfile.encode(), 0o644)] + [
            (k, v, 0o755) for k, v in sorted(extra.items())
        ]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, _MTIME
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _compile_sshd(cc: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="runbench-sshd-") as tmp:
        out = Path(tmp, "sshd")
        proc = subprocess.run(
            [cc, "-static", "-Os", "-s", "-o", str(out), str(SSHD_SOURCE)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"compiling {SSHD_SOURCE} failed (static glibc needs libc6-dev):\n{proc.stderr}")
        return out.read_bytes()


# -- helpers ------------------------------------------------------------------------------------


def _existing(client: docker.DockerClient, ref: str, recipe: str) -> str | None:
    """The id of ``ref`` when it was built from ``recipe``; else None (a stale one is marked for removal)."""
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None
    if image.labels.get(RECIPE_LABEL) == recipe and image.labels.get("runbench.test") == "1":
        return str(image.id)
    if image.labels.get("runbench.test") == "1":
        _stale.append(image.id)
    return None


_stale: list[str] = []


def _drop_stale(client: docker.DockerClient) -> None:
    """Remove our own test images that a rebuild left untagged (best effort: one still in use stays)."""
    while _stale:
        image_id = _stale.pop()
        try:
            image = client.images.get(image_id)
            if not image.tags and image.labels.get("runbench.test") == "1":
                client.images.remove(image_id, noprune=False)
        except docker.errors.APIError:
            pass


def _hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialize concurrent builders (parallel test sessions, bench) on this machine."""
    path = Path(tempfile.gettempdir(), "runbench-testimages.lock")
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- images of the image checks (tests/integration/test_images.py) ------------------------------------------
#
# Each is built FROM the base with the classic builder, offline, and named after what it shows. The fake
# secrets below must never appear in any output of runbench (the tests look for 8-character fragments).

IMAGE_CHECK_SECRETS = {
    "env_aws": "Fk7qYw2Lr9Tz/K7MDENG/bPxRfiCYFAKEKEY01",  # an AWS-style secret access key (fake)
    "arg_token": "argtok-Fake-Vb6Nm2Qw8Rt4",
    "label_token": "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEimg00042",  # a GitHub-token-shaped label value
}
IMG = "runbench-test/img"
_KEY = "printf '%s\\n' '-----BEGIN OPENSSH PRIVATE KEY-----' 'ZmFrZQ==' '-----END OPENSSH PRIVATE KEY-----'"
_LABEL_TOKEN = IMAGE_CHECK_SECRETS["label_token"]
IMAGE_CHECK_IMAGES: dict[str, str] = {
    # no USER, no HEALTHCHECK, no labels: the base as it is
    f"{IMG}-nouser:1": f'FROM {BASE_IMAGE}\nCMD ["sleep", "3600"]\n',
    f"{IMG}-root:1": f'FROM {BASE_IMAGE}\nUSER 0:0\nCMD ["sleep", "3600"]\n',
    # the compliant one: USER, HEALTHCHECK, OCI labels with a security contact, COPY not ADD, no secret
    f"{IMG}-good:1": f"""FROM {BASE_IMAGE}
COPY hello.txt /srv/hello.txt
LABEL org.opencontainers.image.source="https://git.example/runbench/img-good" \\
      org.opencontainers.image.version="1.0.0" \\
      org.opencontainers.image.authors="security@example.com"
ENV TOKEN_TTL=3600 DB_PASSWORD_FILE=/run/secrets/db
EXPOSE 8080
USER app
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/true"]
CMD ["sleep", "3600"]
""",
    f"{IMG}-nohealth:1": f'FROM {BASE_IMAGE}\nUSER app\nHEALTHCHECK NONE\nCMD ["sleep", "3600"]\n',
    f"{IMG}-add:1": f'FROM {BASE_IMAGE}\nADD hello.txt /srv/hello.txt\nUSER app\nCMD ["sleep", "3600"]\n',
    f"{IMG}-envkey:1": f"FROM {BASE_IMAGE}\nENV AWS_SECRET_ACCESS_KEY={IMAGE_CHECK_SECRETS['env_aws']}\nUSER app\n",
    f"{IMG}-argtoken:1": f"""FROM {BASE_IMAGE}
ARG BUILD_TOKEN={IMAGE_CHECK_SECRETS["arg_token"]}
RUN echo "fetching with a token" > /tmp/fetched
USER app
""",
    f"{IMG}-labeltoken:1": f"FROM {BASE_IMAGE}\nLABEL com.example.note={_LABEL_TOKEN}\nUSER app\n",
    f"{IMG}-ssh:1": f"FROM {BASE_IMAGE}\nEXPOSE 22\nUSER app\n",
    # a package-index update alone in its step (a stand-in apt-get: busybox has none)
    f"{IMG}-update:1": f"""FROM {BASE_IMAGE}
RUN printf '#!/bin/sh\\nexit 0\\n' > /usr/bin/apt-get && chmod 755 /usr/bin/apt-get
RUN apt-get update
USER app
""",
    f"{IMG}-setuid:1": f"""FROM {BASE_IMAGE}
RUN cp /bin/busybox /usr/bin/suidtool && chmod u+s /usr/bin/suidtool
USER app
""",
    # a setuid file and a private key added, then deleted by a later layer: whiteouts, nothing to report
    f"{IMG}-whiteout:1": f"""FROM {BASE_IMAGE}
RUN cp /bin/busybox /usr/bin/gone && chmod u+s /usr/bin/gone && mkdir -p /root/.ssh && \\
    {_KEY} > /root/.ssh/id_rsa
RUN rm -rf /usr/bin/gone /root/.ssh
USER app
""",
    # credentials and a world-writable file left in the filesystem
    f"{IMG}-creds:1": f"""FROM {BASE_IMAGE}
RUN mkdir -p /app /root/.ssh && printf 'MODE=prod\\n' > /app/.env && \\
    {_KEY} > /root/.ssh/id_rsa && \\
    touch /app/shared.conf && chmod 666 /app/shared.conf
USER app
""",
    # three different images for the references containers are created with: :latest, no tag, a version
    f"{IMG}-latest:latest": f'FROM {BASE_IMAGE}\nLABEL runbench.test.ref=latest\nUSER app\nCMD ["sleep", "3600"]\n',
    f"{IMG}-notag:latest": f'FROM {BASE_IMAGE}\nLABEL runbench.test.ref=notag\nUSER app\nCMD ["sleep", "3600"]\n',
    f"{IMG}-pinned:1.0": f'FROM {BASE_IMAGE}\nLABEL runbench.test.ref=pinned\nUSER app\nCMD ["sleep", "3600"]\n',
}


def ensure_image_check_images(client: docker.DockerClient) -> dict[str, str]:
    """Build the images of the image checks (and the base they need) when missing or stale; tag -> id."""
    ensure_test_images(client)
    ids = {}
    with _lock():
        base_id = _ensure_base(client)
        for ref, dockerfile in IMAGE_CHECK_IMAGES.items():
            ids[ref] = _ensure_built(
                client, ref, dockerfile, base_id, key="hello", files=lambda: {"hello.txt": b"hi\n"}
            )
        _drop_stale(client)
    return ids
