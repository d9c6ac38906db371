"""Image facts: one inspect and one history per image in scope (and, with --deep, what its layers hold)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runbench.snapshot.container import EnvVar, Healthcheck


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One step of an image's history, as GET /images/{id}/history lists them: newest first. Reports number
    the steps from the oldest (step 1 is the first instruction of the first base image)."""

    created_by: str  # secret values redacted at collection
    created: int = 0
    size: int = 0
    empty_layer: bool = False
    # The Dockerfile instruction that made the step: RUN, ADD, COPY, ENV, ARG, LABEL, EXPOSE, USER, HEALTHCHECK,
    # CMD, ENTRYPOINT, WORKDIR, VOLUME, SHELL, STOPSIGNAL, ONBUILD, MAINTAINER; "" when the history does not
    # say (an imported root filesystem, a `docker commit`). None: a snapshot older than the field.
    instruction: str | None = None
    # The instruction's own text without the builder's wrapping (`/bin/sh -c #(nop) `, `# buildkit`, the
    # `|2 A=1 B=2` build arguments of a RUN), redacted like created_by.
    arguments: str | None = None
    tags: tuple[str, ...] | None = None  # local tags of the image this step produced (a base image's tag)

    @property
    def adds_root_filesystem(self) -> bool:
        """An ADD to `/`: how a base image starts FROM scratch (`ADD file:… in /`, `ADD rootfs.tar.xz /`)."""
        args = (self.arguments or "").rstrip()
        return self.instruction == "ADD" and (args.endswith(" in /") or args.endswith(" /"))


@dataclass(frozen=True, slots=True)
class BaseHint:
    """A hint of what an image was built on."""

    source: str  # "label" (org.opencontainers.image.base.name), "history" (a tagged ancestor), "import"
    name: str  # "debian:12", "runbench-test/base:1", "a root filesystem imported from a tarball"
    step: int | None = None  # the history step (numbered from the oldest) the hint comes from


@dataclass(frozen=True, slots=True)
class SecretSighting:
    """A secret the detector (runbench.secrets) found outside Config.Env: in a label or a history step.
    Never the value: its key, where it was, a stub and the rule that decided."""

    place: str  # "label", "history step 4: ARG", "history step 5: RUN"
    key: str  # BUILD_TOKEN, com.example.note, --password; "" for a token found without a key
    stub: str  # "bu…(23 chars)"
    why: str  # "secret-like name", "GitHub Token", "password in a URL", "credential inside the value"

    @property
    def where(self) -> str:
        """`history step 4: ARG BUILD_TOKEN`"""
        return f"{self.place} {self.key}".rstrip()


@dataclass(frozen=True, slots=True)
class FileFinding:
    """A file of the image's final filesystem (whiteouts of later layers applied) worth reporting."""

    path: str  # absolute, as the container sees it: /usr/bin/passwd
    mode: int  # permission bits, setuid/setgid/sticky included
    what: str = ""  # for sensitive files: "PEM private key", "npm token in .npmrc"; never the content
    layer: int = 0  # the layer (1 = the lowest) that holds the file's current version


@dataclass(frozen=True, slots=True)
class ImageContents:
    """What `--deep` read of an image's layers (streamed from GET /images/{id}/get, never stored)."""

    complete: bool  # False: the export could not be read to its end; `why` says why (findings are partial)
    why: str = ""
    layers: int = 0
    files: int = 0  # entries in the final filesystem's layers that were read
    bytes_read: int = 0  # bytes of the export streamed
    setuid: tuple[FileFinding, ...] = ()  # regular files with the setuid or setgid bit
    world_writable: tuple[FileFinding, ...] = ()  # files and non-sticky directories anyone may write, not in /tmp
    sensitive: tuple[FileFinding, ...] = ()  # private keys, registry or package-manager credentials, .env files
    package_managers: tuple[str, ...] = ()  # package-manager programs present: /usr/bin/apt-get, /sbin/apk
    notes: tuple[str, ...] = ()  # what was capped or skipped ("412 setuid files: the first 200 kept")


@dataclass(frozen=True, slots=True)
class ImageFacts:
    id: str
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    created: str = ""
    size: int = 0
    user: str = ""
    env: tuple[EnvVar, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    exposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    layers: int = 0
    history: tuple[HistoryStep, ...] | None = None  # None: history not read (see errors)
    # The references containers in scope were created with (Config.Image: a tag, a digest reference or an
    # id), or the names given to `runbench image`; () for an image nothing in scope refers to (--images all).
    references: tuple[str, ...] | None = None
    base: tuple[BaseHint, ...] | None = None  # hints of the base image (labels, tagged ancestors, an import)
    # Secrets in labels and history commands (ENV, ARG, RUN, LABEL): None when not scanned (an older snapshot).
    secrets: tuple[SecretSighting, ...] | None = None
    contents: ImageContents | None = None  # None: the layers were not read (no --deep)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    def steps(self) -> list[tuple[int, HistoryStep]]:
        """The history oldest first, each step with its number (1 = the oldest)."""
        history = self.history or ()
        n = len(history)
        return [(n - i, step) for i, step in reversed(list(enumerate(history)))]
