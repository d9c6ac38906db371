"""Image checks: CIS Docker Benchmark section 4 (4.1–4.12) and the image practices of the seed articles
(fixed tags, OCI labels with a security contact, no SSH port, no credentials or world-writable files).

Each check is a pure function of one image's facts: its inspect (Config), its history (each step with the
instruction that made it), the references containers were created with, the secrets the detector found in
labels and history, and with --deep what its layers hold. Evidence names the field or the history step
(`history step 4: ARG BUILD_TOKEN`), never a secret's value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from runbench.authoring import (
    Context,
    Fact,
    Severity,
    errored,
    failed,
    image_check,
    manual,
    passed,
)
from runbench.model import Verdict
from runbench.secrets import is_secret, secret_evidence
from runbench.semantics import is_root_user
from runbench.snapshot import FileFinding, HistoryStep, ImageContents, ImageFacts

SHOWN = 20  # items listed in one piece of evidence; the rest are counted
DEEP_HINT = "read the image's files with --deep (e.g. `runbench image --deep REF`)"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _listed(items: list[str]) -> list[str]:
    if len(items) <= SHOWN:
        return items
    return [*items[:SHOWN], f"... and {len(items) - SHOWN} more"]


def _steps(image: ImageFacts, ctx: Context) -> list[tuple[int, HistoryStep]] | Verdict:
    """The history oldest first with step numbers, or the error to give when it is unknown."""
    if image.history is None:
        return errored(ctx.why(Fact.HISTORY, image.id))
    if any(step.instruction is None for step in image.history):
        return errored("the history was collected by an older runbench (no instructions): collect it again")
    return image.steps()


def _shown_step(number: int, step: HistoryStep, width: int = 120) -> str:
    text = " ".join((step.arguments or "").split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"history step {number}: {step.instruction or '(no instruction)'} {text}".rstrip()


# --- references: name[:tag][@digest], or an image id ---------------------------------------------

_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
FLOATING_TAGS = frozenset(
    {"latest", "stable", "edge", "lts", "current", "mainline", "nightly", "main", "master", "dev", "develop"}
)


def split_reference(ref: str) -> tuple[str, str, str]:
    """(name, tag, digest) of `[registry/]path[:tag][@digest]`; the tag is "" when none is written."""
    name, _, digest = ref.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest


def registry_of(name: str) -> str:
    """The registry of an image name: its first component when that is a host (a dot, a port, localhost),
    else Docker Hub."""
    first, sep, _ = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _pinning(ref: str) -> tuple[bool, str]:
    """Whether a reference fixes the content (a digest, an image id, a version tag), and in words."""
    if _ID.fullmatch(ref):
        return True, f"{ref} (an image id)"
    name, tag, digest = split_reference(ref)
    if digest:
        return True, f"{ref} (a digest)"
    if not tag:
        return False, f"{ref} (no tag: means :latest)"
    if tag.lower() in FLOATING_TAGS:
        return False, f"{ref} (:{tag} moves)"
    return True, f"{ref} (tag {tag})"


# --- 4.1 -------------------------------------------------------------------------------------------


@image_check(
    id="image.user",
    cis={"1.8.0": "4.1", "1.6.0": "4.1"},
    level=1,
    severity=Severity.MEDIUM,
    title="Image runs as a non-root user",
    rationale="Without a USER instruction every container of the image starts as uid 0: any flaw in the "
    "application then acts as root inside the container, one kernel bug away from root on the host.",
    remediation="Create an unprivileged user and switch to it at the end of the Dockerfile:\n"
    "RUN addgroup -S app && adduser -S -G app app   (Debian: groupadd -r app && useradd -r -g app app)\n"
    "USER app   (or a numeric USER 10001:10001, which also works where /etc/passwd is absent)",
)
def image_user(image: ImageFacts, ctx: Context) -> Verdict:
    user = image.user
    if is_root_user(user):
        return failed(
            "runs as root" + ("" if user else " (no USER instruction)"),
            **{"Config.User": user or "(unset)"},
        )
    return passed(f"runs as {user}", **{"Config.User": user})


# --- 4.2 -------------------------------------------------------------------------------------------


def _trusted(name: str, trusted: tuple[str, ...]) -> bool:
    registry = registry_of(name)
    return any(t in (registry, name) or name.startswith(t.rstrip("/") + "/") for t in trusted)


@image_check(
    id="image.trusted_base",
    cis={"1.8.0": "4.2", "1.6.0": "4.2"},
    level=1,
    severity=Severity.MEDIUM,
    title="Image comes from a trusted source",
    rationale="An image (and the base it was built on) runs whatever its publisher put in it; images from "
    "unknown accounts or registries are a supply-chain risk that no runtime setting undoes.",
    remediation="Build FROM official or verified publishers, or from base images your organisation rebuilds; "
    "pull through a registry you control and list it in the policy's trusted_registries, e.g.\n"
    "FROM registry.example.com/base/debian:12-slim",
)
def image_trusted_base(image: ImageFacts, ctx: Context) -> Verdict:
    names = sorted(
        {
            split_reference(r)[0]
            for r in (*image.tags, *image.digests, *(image.references or ()))
            if not _ID.fullmatch(r)
        }
    )
    registries = sorted({registry_of(n) for n in names})
    evidence: dict[str, object] = {
        "registries": registries or "(none: built or loaded locally)",
        "RepoTags": list(image.tags) or "(none)",
        "RepoDigests": list(image.digests) or "(none)",
    }
    if image.base:
        evidence["base hints"] = [f"{h.name} ({h.source})" for h in image.base]
    trusted = ctx.params.trusted_registries
    if not trusted:
        return manual("check that these sources are trusted (set trusted_registries to decide)", **evidence)
    outside = [n for n in names if not _trusted(n, trusted)]
    if outside:
        return failed(f"outside the trusted registries: {', '.join(outside)}", trusted=list(trusted), **evidence)
    if not names:
        return manual("no registry name: the image was built or loaded locally; check its base", **evidence)
    return passed("every name is in a trusted registry", trusted=list(trusted), **evidence)


# --- 4.3 -------------------------------------------------------------------------------------------

_PACKAGE_MANAGER = re.compile(r"\b(apt-get|apt|aptitude|apk|yum|dnf|microdnf|zypper|pacman|dpkg|rpm|emerge)\b")


@image_check(
    id="image.minimal",
    cis={"1.8.0": "4.3", "1.6.0": "4.3"},
    level=1,
    severity=Severity.LOW,
    title="Image holds only what the application needs",
    rationale="Every package, shell and tool in an image is attack surface and a source of vulnerability "
    "reports; package managers left in the final image let an intruder install more.",
    remediation="Use multi-stage builds and a minimal final stage:\n"
    "FROM golang:1.22 AS build\n...\nFROM gcr.io/distroless/static-debian12\n"
    "COPY --from=build /out/app /app\n"
    "and remove package-manager caches in the step that installs (apt-get clean, rm -rf /var/lib/apt/lists/*).",
)
def image_minimal(image: ImageFacts, ctx: Context) -> Verdict:
    evidence: dict[str, object] = {"size": _mb(image.size), "layers": image.layers}
    if image.history is not None:
        used = sorted(
            {
                m.group(1)
                for _, s in image.steps()
                if s.instruction == "RUN"
                for m in _PACKAGE_MANAGER.finditer(s.arguments or "")
            }
        )
        evidence["history steps"] = len(image.history)
        evidence["package managers run in the build"] = used or "(none)"
    contents = image.contents
    if contents is not None:
        evidence["package managers present"] = list(contents.package_managers) or "(none)"
        evidence["files"] = contents.files
    else:
        evidence["package managers present"] = f"unknown: {DEEP_HINT}"
    return manual("review what the image holds against what the application needs", **evidence)


# --- 4.4 -------------------------------------------------------------------------------------------


def _when(text: str) -> datetime | None:
    """An engine timestamp (RFC 3339 with up to nanoseconds) as a UTC datetime."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not m:
        return None
    fraction = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        return datetime.fromisoformat(f"{m.group(1)}.{fraction}{zone}").astimezone(UTC)
    except ValueError:
        return None


@image_check(
    id="image.rebuilt_recently",
    cis={"1.8.0": "4.4", "1.6.0": "4.4"},
    level=1,
    severity=Severity.MEDIUM,
    title="Image was rebuilt recently",
    rationale="An image is frozen at build time: security fixes of its base and packages reach it only "
    "when it is rebuilt; an old image carries every vulnerability found since.",
    remediation="Rebuild on a schedule and when the base image changes (docker build --pull --no-cache), "
    "scan the result, and redeploy; set max_image_age_days to your rebuild interval.",
)
def image_rebuilt_recently(image: ImageFacts, ctx: Context) -> Verdict:
    created = _when(image.created)
    now = _when(ctx.snapshot.collected_at) or datetime.now(UTC)
    if created is None:
        return errored(f"the image's creation time is unknown (Created={image.created or '(empty)'})")
    limit = ctx.params.max_image_age_days
    evidence = {"Created": image.created, "max_image_age_days": limit}
    if created.year <= 1980:
        return manual("the image has a fixed creation date (a reproducible build): its age cannot be told", **evidence)
    days = (now - created).days
    if days > limit:
        return failed(f"built {days} days ago", age_days=days, **evidence)
    return passed(f"built {max(days, 0)} days ago", age_days=max(days, 0), **evidence)


# --- 4.5 -------------------------------------------------------------------------------------------

TRUST_NOTE = (
    "Docker Content Trust (Notary v1) is being retired: the signing certificates of Docker Official Images "
    "began expiring in August 2025 and the Notary v1 service is scheduled to shut down, so "
    "DOCKER_CONTENT_TRUST=1 no longer proves much; verify signatures with cosign or Notation policies instead"
)


@image_check(
    id="image.content_trust",
    cis={"1.8.0": "4.5", "1.6.0": "4.5"},
    level=2,
    severity=Severity.MEDIUM,
    title="Images are verified before they run (signature policy)",
    rationale="Verifying who signed an image stops tampered or substituted images. The benchmark asks for "
    "Docker Content Trust, but DCT (Notary v1) is being retired: Docker Official Images' signing "
    "certificates began expiring in August 2025 and the Notary v1 service is scheduled to shut down. "
    "Setting DOCKER_CONTENT_TRUST=1 today mostly breaks pulls or verifies nothing, so this check is manual "
    "and points at signature verification that still works.",
    remediation="Sign what you build and verify before deploying with Sigstore cosign or Notary Project "
    "Notation, enforced by a policy rather than by each client:\n"
    "cosign sign registry.example.com/app@sha256:<digest>\n"
    "cosign verify --key cosign.pub registry.example.com/app@sha256:<digest>\n"
    "(or notation sign / notation verify with a trust policy); enforce it in CI and at admission "
    "(Kyverno, Ratify, Connaisseur), and deploy by digest. Do not rely on DOCKER_CONTENT_TRUST=1.",
    references=("https://docs.sigstore.dev/", "https://notaryproject.dev/"),
)
def image_content_trust(image: ImageFacts, ctx: Context) -> Verdict:
    daemon = ctx.daemon
    env = daemon.environment_content_trust if daemon is not None else None
    shown = {True: "set", False: "not set", None: "unknown"}[env]
    return manual(
        TRUST_NOTE,
        **{
            "DOCKER_CONTENT_TRUST in dockerd's environment": shown,
            "RepoDigests (verifiable by digest)": list(image.digests) or "(none)",
        },
    )


# --- 4.6 -------------------------------------------------------------------------------------------


@image_check(
    id="image.healthcheck",
    cis={"1.8.0": "4.6", "1.6.0": "4.6"},
    level=1,
    severity=Severity.LOW,
    title="Image declares a HEALTHCHECK",
    rationale="A healthcheck lets the engine and orchestrators see that a container stopped doing its job "
    "(hung, or taken over) and restart or replace it; HEALTHCHECK NONE switches that off.",
    remediation="Add a cheap probe of the service to the Dockerfile:\n"
    'HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["/app", "healthcheck"]\n'
    "(or CMD wget -q --spider http://localhost:8080/health || exit 1)",
)
def image_healthcheck(image: ImageFacts, ctx: Context) -> Verdict:
    hc = image.healthcheck
    if hc is None:
        return failed("no HEALTHCHECK", **{"Config.Healthcheck": "(none)"})
    if hc.disabled:
        return failed("HEALTHCHECK NONE", **{"Config.Healthcheck": "NONE"})
    return passed(**{"Config.Healthcheck.Test": " ".join(hc.test)})


# --- 4.7 -------------------------------------------------------------------------------------------

_OPTS = r"(?:\s+-{1,2}[\w=.\-]+)*"
_UPDATE = re.compile(
    rf"\b(?:apt-get|apt|aptitude){_OPTS}\s+update\b|\bapk{_OPTS}\s+update\b"
    rf"|\b(?:yum|dnf|microdnf){_OPTS}\s+makecache\b|\bzypper{_OPTS}\s+(?:refresh|ref)\b|\bpacman\s+-Sy(?![uw])\b"
)
_INSTALL = re.compile(
    rf"\b(?:apt-get|apt|aptitude){_OPTS}\s+(?:install|upgrade|dist-upgrade|full-upgrade)\b"
    rf"|\bapk{_OPTS}\s+(?:add|upgrade)\b"
    rf"|\b(?:yum|dnf|microdnf){_OPTS}\s+(?:install|update|upgrade|reinstall|groupinstall)\b"
    rf"|\bzypper{_OPTS}\s+(?:install|in|update|up|dist-upgrade|dup|patch)\b"
    r"|\bpacman\s+-S\w*\s+[\w\-]|\bpacman\s+-Syu"
)


@image_check(
    id="image.update_alone",
    cis={"1.8.0": "4.7", "1.6.0": "4.7"},
    level=1,
    severity=Severity.LOW,
    title="No package-index update runs alone in a build step",
    rationale="A step that only refreshes the package index is cached by the builder: later installs then "
    "run against a stale index from whenever that layer was first built and miss security updates.",
    remediation="Update and install in the same RUN, and clean up in it too:\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"
    "(Alpine: RUN apk add --no-cache curl)",
)
def image_update_alone(image: ImageFacts, ctx: Context) -> Verdict:
    steps = _steps(image, ctx)
    if isinstance(steps, Verdict):
        return steps
    alone = [
        _shown_step(n, s)
        for n, s in steps
        if s.instruction == "RUN" and _UPDATE.search(s.arguments or "") and not _INSTALL.search(s.arguments or "")
    ]
    if alone:
        return failed(f"{len(alone)} step(s) update the package index without installing", steps=_listed(alone))
    return passed(f"{len(steps)} history steps, no update alone")


# --- 4.8 and the deep scan -------------------------------------------------------------------------


def _deep(image: ImageFacts, ctx: Context) -> ImageContents | Verdict:
    if image.contents is None:
        return manual(f"the image's files were not read: {DEEP_HINT}")
    return image.contents


def _files(found: tuple[FileFinding, ...], with_what: bool = False) -> list[str]:
    return _listed([f"{f.path} ({f.what})" if with_what else f"{f.path} ({f.mode:04o})" for f in found])


def _incomplete(contents: ImageContents) -> Verdict:
    return errored(f"the image's files could not all be read: {contents.why}")


@image_check(
    id="image.setuid_files",
    cis={"1.8.0": "4.8", "1.6.0": "4.8"},
    level=2,
    severity=Severity.MEDIUM,
    title="Image has no setuid or setgid files",
    rationale="A setuid or setgid program runs with its owner's rights whoever starts it: in an image it is a "
    "ready-made step from the application's user to root inside the container.",
    remediation="Strip the bits in the last build step and keep only what the application needs:\n"
    "RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + || true\n"
    "and run containers with --security-opt no-new-privileges so that any left over cannot raise privileges.",
)
def image_setuid_files(image: ImageFacts, ctx: Context) -> Verdict:
    contents = _deep(image, ctx)
    if isinstance(contents, Verdict):
        return contents
    if contents.setuid:
        notes = {"notes": list(contents.notes)} if contents.notes else {}
        return failed(f"{len(contents.setuid)} setuid/setgid file(s)", files=_files(contents.setuid), **notes)
    if not contents.complete:
        return _incomplete(contents)
    return passed(f"none among {contents.files} files")


@image_check(
    id="image.world_writable",
    severity=Severity.MEDIUM,
    title="Image has no world-writable files outside temporary directories",
    rationale="A file or directory anyone may write lets any process of the container, whatever its user, "
    "change programs, configuration or data the application trusts.",
    remediation="Fix the modes in the build step that creates the files (chmod o-w, or 1777 only for real "
    "scratch directories) and give the application's own user ownership of what it must write:\n"
    "RUN chmod -R o-w /app && chown -R app:app /app/data",
)
def image_world_writable(image: ImageFacts, ctx: Context) -> Verdict:
    contents = _deep(image, ctx)
    if isinstance(contents, Verdict):
        return contents
    if contents.world_writable:
        found = contents.world_writable
        return failed(f"{len(found)} world-writable file(s) or directories", files=_files(found))
    if not contents.complete:
        return _incomplete(contents)
    return passed(f"none among {contents.files} files (/tmp, /var/tmp and sticky directories aside)")


@image_check(
    id="image.sensitive_files",
    severity=Severity.HIGH,
    title="Image holds no private keys or credential files",
    rationale="Anyone who can pull the image can read every file in every layer: private keys, registry or "
    "package-index credentials and .env files baked in are disclosed to all of them, and deleting them "
    "in a later step does not remove them from the earlier layer.",
    remediation="Keep credentials out of the build context (.dockerignore: .env, *.pem, .npmrc, .git) and "
    "pass build-time secrets as BuildKit secret mounts, which never reach a layer:\n"
    "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n"
    "give runtime secrets as mounted files (Docker/compose secrets), and rotate anything that was exposed.",
)
def image_sensitive_files(image: ImageFacts, ctx: Context) -> Verdict:
    contents = _deep(image, ctx)
    if isinstance(contents, Verdict):
        return contents
    if contents.sensitive:
        return failed(f"{len(contents.sensitive)} credential file(s)", files=_files(contents.sensitive, with_what=True))
    if not contents.complete:
        return _incomplete(contents)
    return passed(f"none among {contents.files} files")


# --- 4.9 -------------------------------------------------------------------------------------------

_REMOTE = re.compile(r"(?:https?|ftp)://|\bgit@|\.git(?:\s|#|$)")


@image_check(
    id="image.add_instruction",
    cis={"1.8.0": "4.9", "1.6.0": "4.9"},
    level=1,
    severity=Severity.LOW,
    title="Image is built with COPY, not ADD",
    rationale="ADD also fetches URLs and unpacks archives implicitly: what lands in the image depends on a "
    "remote server (no checksum, possibly no TLS) or on an archive's paths (zip-slip). COPY only copies.",
    remediation="Replace ADD with COPY; download explicitly and verify what you download:\n"
    'RUN curl -fsSLo /tmp/app.tgz https://example.com/app.tgz && echo "<sha256>  /tmp/app.tgz" | '
    "sha256sum -c - && tar -xzf /tmp/app.tgz -C /opt\n"
    "(BuildKit: ADD --checksum=sha256:<digest> <url> <dest> pins a download).",
)
def image_add_instruction(image: ImageFacts, ctx: Context) -> Verdict:
    steps = _steps(image, ctx)
    if isinstance(steps, Verdict):
        return steps
    adds = [(n, s) for n, s in steps if s.instruction == "ADD" and not (n == 1 and s.adds_root_filesystem)]
    if not adds:
        return passed("no ADD step (a base image's root filesystem added FROM scratch aside)")
    remote = [_shown_step(n, s) for n, s in adds if _REMOTE.search(s.arguments or "")]
    shown = _listed([_shown_step(n, s) for n, s in adds])
    if remote:
        return failed(f"{len(remote)} ADD step(s) fetch from a URL", steps=shown).at(Severity.MEDIUM)
    return failed(f"{len(adds)} ADD step(s)", steps=shown)


# --- 4.10 ------------------------------------------------------------------------------------------


@image_check(
    id="image.secrets",
    cis={"1.8.0": "4.10", "1.6.0": "4.10"},
    level=1,
    severity=Severity.HIGH,
    title="No secrets in the image's environment, labels or build history",
    rationale="Config.Env, labels and every history command (ENV, ARG, RUN, LABEL) ship with the image and "
    "are shown by docker inspect and docker history to anyone who can pull it; a build ARG's value is "
    "recorded in the history of each RUN that used it.",
    remediation="Pass build-time secrets as BuildKit secret mounts, never as ARG or ENV:\n"
    "RUN --mount=type=secret,id=token TOKEN=$(cat /run/secrets/token) ./fetch-deps\n"
    "(docker build --secret id=token,src=token.txt .); give runtime secrets as files (Docker/compose "
    "secrets, *_FILE variables); rebuild without them and rotate every secret that was exposed.",
)
def image_secrets(image: ImageFacts, ctx: Context) -> Verdict:
    found = []
    for var in image.env:
        secret, why = is_secret(var)
        if secret:
            found.append(secret_evidence(var, why, "Config.Env"))
    for s in image.secrets or ():
        if s.stub:
            found.append(f"{s.where}={s.stub} [{s.why}]" if s.key else f"{s.place}: {s.stub} [{s.why}]")
        else:
            found.append(f"{s.place} {s.why}")
    notes = {}
    if image.secrets is None:
        notes["not scanned"] = "labels and history (a snapshot from an older runbench)"
    elif image.history is None:
        notes["not scanned"] = f"history ({ctx.why(Fact.HISTORY, image.id)})"
    if found:
        return failed(f"{len(found)} secret(s)", secrets=_listed(found), **notes)
    return passed(f"{len(image.env)} variables, {len(image.labels)} labels, history: none secret", **notes)


# --- 4.11 / 4.12 -----------------------------------------------------------------------------------

_DOWNLOAD = re.compile(r"\b(curl|wget)\b")


@image_check(
    id="image.verified_packages",
    cis={"1.8.0": "4.11", "1.6.0": "4.11"},
    level=2,
    severity=Severity.MEDIUM,
    title="Packages in the image are verified",
    rationale="Packages installed without signature checks, or files downloaded without a checksum, may "
    "have been swapped in transit or at the source.",
    remediation="Install from signed repositories only (no --allow-unauthenticated, no --nogpgcheck) and "
    "verify every download:\n"
    'RUN curl -fsSLo app.tgz https://example.com/app.tgz && echo "<sha256>  app.tgz" | sha256sum -c -',
)
def image_verified_packages(image: ImageFacts, ctx: Context) -> Verdict:
    steps = _steps(image, ctx)
    if isinstance(steps, Verdict):
        return steps
    runs = [(n, s) for n, s in steps if s.instruction == "RUN"]
    installs = [_shown_step(n, s) for n, s in runs if _PACKAGE_MANAGER.search(s.arguments or "")]
    downloads = [_shown_step(n, s) for n, s in runs if _DOWNLOAD.search(s.arguments or "")]
    unchecked = [
        _shown_step(n, s)
        for n, s in runs
        if re.search(r"--allow-unauthenticated|--nogpgcheck|--no-gpg-checks|--allow-untrusted", s.arguments or "")
    ]
    return manual(
        "check that installed packages are signed and downloads verified",
        **{
            "package installs": _listed(installs) or "(none)",
            "downloads (curl/wget)": _listed(downloads) or "(none)",
            "signature checks switched off": _listed(unchecked) or "(none)",
        },
    )


@image_check(
    id="image.signed_artifacts",
    cis={"1.8.0": "4.12", "1.6.0": "4.12"},
    level=2,
    severity=Severity.MEDIUM,
    title="Signed artifacts are validated before use",
    rationale="A signature proves who produced an artifact only if someone checks it, against the right "
    "key, before the artifact runs.",
    remediation="Verify image signatures and attestations (cosign verify, notation verify) in CI and at "
    "deployment, and deploy by digest: registry.example.com/app@sha256:<digest>.",
)
def image_signed_artifacts(image: ImageFacts, ctx: Context) -> Verdict:
    return manual(
        "check that this image's signature is verified before it is deployed",
        **{
            "RepoDigests": list(image.digests) or "(none: the image was never pushed or pulled by digest)",
            "references": list(image.references or ()) or "(none)",
        },
    )


# --- beyond the benchmark: the seed articles' practices ---------------------------------------------


@image_check(
    id="image.tag_pinning",
    severity=Severity.LOW,
    title="Image is referenced by a fixed tag or a digest",
    rationale="latest (or no tag, which means latest) and other moving tags change under you: the next "
    "pull or restart may run different code, and you cannot tell which version a finding applies to.",
    remediation="Reference a version tag, or better a digest:\n"
    "FROM node:20.11-bookworm-slim   /   docker run registry.example.com/app:1.4.2\n"
    "image: registry.example.com/app@sha256:<digest>   (compose)",
)
def image_tag_pinning(image: ImageFacts, ctx: Context) -> Verdict:
    refs = list(image.references or ()) or list(image.tags)
    source = "references" if image.references else "RepoTags"
    if not refs:
        return failed("no tag and nothing refers to it by name", RepoTags="(none)")
    judged = [_pinning(r) for r in refs]
    moving = [text for fixed, text in judged if not fixed]
    if moving:
        return failed(f"referenced by a moving tag: {', '.join(moving)}", **{source: refs})
    return passed(", ".join(text for _, text in judged), **{source: refs})


OCI_SOURCE = "org.opencontainers.image.source"
OCI_VERSION = "org.opencontainers.image.version"
OCI_AUTHORS = "org.opencontainers.image.authors"


def _security_contact(labels: dict[str, str]) -> str | None:
    keys = [k for k in labels if "security" in k.lower()] or [k for k in labels if k == OCI_AUTHORS]
    return keys[0] if keys else None


@image_check(
    id="image.labels",
    severity=Severity.LOW,
    title="Image carries OCI metadata labels with a security contact",
    rationale="Labels tell whoever finds the image running where it was built from, which version it is "
    "and whom to tell about a vulnerability (a security contact or security.txt).",
    remediation="Label the image at build time:\n"
    'LABEL org.opencontainers.image.source="https://github.com/example/app" \\\n'
    '      org.opencontainers.image.version="1.4.2" \\\n'
    '      org.opencontainers.image.authors="security@example.com" \\\n'
    '      securitytxt="https://example.com/.well-known/security.txt"',
)
def image_labels(image: ImageFacts, ctx: Context) -> Verdict:
    labels = dict(image.labels)
    contact = _security_contact(labels)
    missing = [k for k in (OCI_SOURCE, OCI_VERSION) if not labels.get(k)]
    if contact is None:
        missing.append("a security contact (a label with 'security' in its key, or org.opencontainers.image.authors)")
    present = sorted(k for k in (OCI_SOURCE, OCI_VERSION, contact) if k and labels.get(k))
    if missing:
        return failed(f"missing {len(missing)} label(s)", missing=missing, present=present or "(none)")
    return passed(f"source, version and contact ({contact}) labelled", present=present)


@image_check(
    id="image.exposed_ssh",
    severity=Severity.MEDIUM,
    title="Image does not expose the SSH port",
    rationale="EXPOSE 22 means an SSH server is meant to run in the container: one more daemon with "
    "credentials to manage and attack, when docker exec already gives operators a shell.",
    remediation="Remove EXPOSE 22 and the SSH server from the image; use docker exec (or kubectl exec) for "
    "interactive access.",
)
def image_exposed_ssh(image: ImageFacts, ctx: Context) -> Verdict:
    ssh = [p for p in image.exposed_ports if p.split("/", 1)[0] == "22"]
    if ssh:
        return failed("exposes port 22", ExposedPorts=list(image.exposed_ports))
    return passed(ExposedPorts=list(image.exposed_ports) or "(none)")
