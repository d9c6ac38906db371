"""Image collection: inspect + history once per image, parsed into ImageFacts with each history step's
instruction, hints of the base image, and the secrets the one detector (runbench.secrets) finds in labels
and history commands. Pure parsing below `inspect_image`; the engine calls go through the EngineClient.

History steps come in three spellings, all handled:

    /bin/sh -c #(nop)  ENV A=1 B=two words       the classic builder's metadata steps (quotes are lost)
    |1 BUILD_TOKEN=xxx /bin/sh -c make           the classic builder's RUN, with the build args it used
    RUN |1 BUILD_TOKEN=xxx /bin/sh -c make # buildkit    BuildKit (`ENV`, `ARG`, `LABEL` ... without suffix)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from runbench.collect.api import EngineError, EngineNotFound
from runbench.collect.parse import healthcheck
from runbench.collect.values import items as _l
from runbench.collect.values import number as _i
from runbench.collect.values import obj as _d
from runbench.collect.values import text as _s
from runbench.collect.values import texts as _strs
from runbench.secrets import SecretScanner, redact_argv, redact_label
from runbench.snapshot import (
    BaseHint,
    CollectionError,
    EnvVar,
    Fact,
    HistoryStep,
    ImageContents,
    ImageFacts,
    SecretSighting,
)

INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
PAIR_INSTRUCTIONS = frozenset({"ENV", "ARG", "LABEL"})
BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"
MAX_SIGHTINGS = 100  # secrets kept per image; the count of the rest is noted
MAX_BASE_HINTS = 3

_NOP = re.compile(r"/bin/sh -c #\(nop\)\s*")
_BUILDKIT = re.compile(r"\s+# buildkit$")
_BUILD_ARGS = re.compile(r"\|(\d{1,4})\s+")
# The shell a RUN step ran under (`/bin/sh -c`, `/bin/bash -o pipefail -c`, a SHELL instruction's choice).
_SHELL = re.compile(r"(?:/\S*/)?(?:ba|da|a|k|z)?sh(?:\s+-[a-bd-zA-Z]\w*(?:\s+[a-z]\w*)?)*\s+-c\s+")
_PAIR_KEY = re.compile(r"""(?:^|(?<=\s))("[^"]{1,200}"|'[^']{1,200}'|[A-Za-z_][\w.\-/]{0,200})=""")


# --- one history step -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """A history step taken apart (raw text: for detection only, never stored)."""

    instruction: str  # RUN, ENV, ...; "" when the history does not say
    arguments: str  # the instruction's text without the builder's wrapping
    build_args: tuple[tuple[str, str], ...] = ()  # RUN: the `|N K=V` build arguments in effect


def split_step(created_by: str) -> Step:
    """The instruction, its text and (for RUN) its build arguments, from a history step's CreatedBy."""
    text = created_by.strip()
    if not text:
        return Step("", "")
    text = _BUILDKIT.sub("", text)
    nop = _NOP.match(text)
    if nop:
        rest = text[nop.end() :]
        word, _, args = rest.partition(" ")
        if word.upper() in INSTRUCTIONS:
            return Step(word.upper(), args.strip())
        return Step("", rest.strip())
    word, _, args = text.partition(" ")
    if word in INSTRUCTIONS:  # BuildKit: the instruction as written
        if word != "RUN":
            return Step(word, args.strip())
        text = args.strip()
    return _run_step(text)


def _run_step(text: str) -> Step:
    """A RUN: `|N K=V ... <shell> -c <command>` (or an exec-form command)."""
    build_args: list[tuple[str, str]] = []
    m = _BUILD_ARGS.match(text)
    if m:
        count, pos = int(m.group(1)), m.end()
        for _ in range(count):
            token = re.match(r"\S+", text[pos:])
            if token is None:
                break
            key, eq, value = token.group().partition("=")
            if eq:
                build_args.append((key, value))
            pos += token.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        text = text[pos:]
    shell = _SHELL.match(text)
    if shell:
        text = text[shell.end() :]
    return Step("RUN", text.strip(), tuple(build_args))


def pairs(arguments: str) -> list[tuple[str, str]]:
    """`K=V` pairs of an ENV, ARG or LABEL step. The classic builder drops quotes (`ENV B=two words`): a value
    runs to the next `KEY=` at a word start."""
    keys = list(_PAIR_KEY.finditer(arguments))
    out = []
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(arguments)
        key = m.group(1)
        if key[:1] in "\"'":
            key = key[1:-1]
        value = arguments[m.end() : end].strip()
        if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
            value = value[1:-1]
        out.append((key, value))
    return out


# --- the facts ------------------------------------------------------------------------------------


def image_facts(
    data: Mapping[str, Any],
    history: list[Any] | None,
    scanner: SecretScanner,
    references: Sequence[str] | None = None,
) -> ImageFacts:
    """An image's facts from its inspect and history answers; every free-text field redacted."""
    config = _d(data.get("Config"))
    entrypoint, cmd = _strs(config.get("Entrypoint")), _strs(config.get("Cmd"))
    command = redact_argv((*entrypoint, *cmd), scanner)  # one argv: Cmd holds the entrypoint's arguments
    raw_labels = {str(k): _s(v) for k, v in _d(config.get("Labels")).items()}
    rows = [_d(h) for h in history] if history is not None else None
    parsed = [split_step(_s(h.get("CreatedBy"))) for h in rows or ()]  # each step taken apart once
    steps = None if rows is None else tuple(_history_step(h, p, scanner) for h, p in zip(rows, parsed, strict=True))
    own_tags = _strs(data.get("RepoTags"))
    sightings = _label_secrets(raw_labels, scanner) + _history_secrets(parsed, scanner)
    return ImageFacts(
        id=_s(data.get("Id")),
        tags=own_tags,
        digests=_strs(data.get("RepoDigests")),
        created=_s(data.get("Created")),
        size=_i(data.get("Size")),
        user=_s(config.get("User")),
        env=scanner.scan_env(_strs(config.get("Env"))),
        labels={k: redact_label(k, v, scanner) for k, v in raw_labels.items()},
        healthcheck=healthcheck(config.get("Healthcheck"), scanner),
        exposed_ports=tuple(sorted(_d(config.get("ExposedPorts")))),
        entrypoint=command[: len(entrypoint)],
        cmd=command[len(entrypoint) :],
        layers=len(_l(_d(data.get("RootFS")).get("Layers"))),
        history=steps,
        references=tuple(references) if references is not None else None,
        base=base_hints(raw_labels, rows, own_tags),
        secrets=tuple(_capped(sightings)),
    )


def _history_step(h: Mapping[str, Any], step: Step, scanner: SecretScanner) -> HistoryStep:
    raw = _s(h.get("CreatedBy"))
    tags = tuple(t for t in _strs(h.get("Tags")) if t and t != "<none>:<none>")
    return HistoryStep(
        created_by=scanner.redact(raw),
        created=_i(h.get("Created")),
        size=_i(h.get("Size")),
        empty_layer=_i(h.get("Size")) == 0,
        instruction=step.instruction,
        arguments=scanner.redact(step.arguments),
        tags=tags,
    )


def _sighting(place: str, key: str, var: EnvVar, why: str) -> SecretSighting:
    return SecretSighting(place=place, key=key, stub=var.stub, why=why)


def _label_secrets(labels: Mapping[str, str], scanner: SecretScanner) -> list[SecretSighting]:
    return [_sighting("label", key, var, why) for key, var, why in scanner.labels(labels)]


def _history_secrets(steps: Sequence[Step], scanner: SecretScanner) -> list[SecretSighting]:
    """Secrets in every step's text (`steps` newest first, as the engine lists them; reported oldest first):
    ENV/ARG/LABEL pairs judged like variables, a RUN's build arguments likewise, and free text (RUN, CMD, ...)
    through the detector's `find`."""
    out: list[SecretSighting] = []
    n = len(steps)
    for i in range(n - 1, -1, -1):
        number = n - i
        step = steps[i]
        place = f"history step {number}: {step.instruction or 'step'}"
        if step.instruction in PAIR_INSTRUCTIONS:
            found = scanner.pairs(pairs(step.arguments))
        else:
            found = scanner.find(step.arguments) if step.arguments else []
        if step.build_args:
            out += [_sighting(f"{place} build arg", k, v, w) for k, v, w in scanner.pairs(step.build_args)]
        out += [_sighting(place, key, var, why) for key, var, why in found]
    return out


def _capped(sightings: list[SecretSighting]) -> list[SecretSighting]:
    if len(sightings) <= MAX_SIGHTINGS:
        return sightings
    more = len(sightings) - MAX_SIGHTINGS
    note = SecretSighting(place=f"and {more} more", key="", stub="", why="not listed")
    return [*sightings[:MAX_SIGHTINGS], note]


def base_hints(
    labels: Mapping[str, str], rows: Sequence[Mapping[str, Any]] | None, own_tags: Iterable[str] = ()
) -> tuple[BaseHint, ...]:
    """What the image was built on: the OCI base-name label, the nearest tagged ancestors in the history (a
    local base image), and how the history starts (an imported or ADDed root filesystem)."""
    hints: list[BaseHint] = []
    name = labels.get(BASE_NAME_LABEL, "").strip()
    if name:
        digest = labels.get(BASE_DIGEST_LABEL, "").strip()
        hints.append(BaseHint("label", f"{name}@{digest}" if digest and "@" not in name else name))
    if not rows:
        return tuple(hints)
    own = set(own_tags)
    n = len(rows)
    for i in range(1, n):
        tags = [t for t in _strs(rows[i].get("Tags")) if t and t != "<none>:<none>" and t not in own]
        if tags and sum(h.source == "history" for h in hints) < MAX_BASE_HINTS:
            hints.append(BaseHint("history", ", ".join(sorted(tags)), n - i))
    oldest = rows[-1]
    first = split_step(_s(oldest.get("CreatedBy")))
    comment = _s(oldest.get("Comment"))
    if not first.instruction and comment.startswith("Imported from"):
        hints.append(BaseHint("import", "a root filesystem imported with docker import", 1))
    elif HistoryStep(created_by="", instruction=first.instruction, arguments=first.arguments).adds_root_filesystem:
        hints.append(BaseHint("history", "a root filesystem added FROM scratch", 1))
    return tuple(hints)


# --- the engine calls -------------------------------------------------------------------------------


class ImageAPI(Protocol):
    def inspect_image(self, iid: str) -> dict[str, Any]: ...

    def history(self, iid: str) -> list[Any]: ...


def inspect_image(
    api: ImageAPI, image_id: str, scanner: SecretScanner, references: Sequence[str] | None = None
) -> tuple[ImageFacts | None, list[CollectionError]]:
    """One image's inspect and history (a failed history leaves `history` None and records why)."""
    try:
        data = api.inspect_image(image_id)
    except EngineError as exc:
        return None, [CollectionError(Fact.IMAGE, image_id, exc.reason)]
    problems = []
    history: list[Any] | None
    try:
        history = api.history(image_id)
    except EngineError as exc:
        problems.append(CollectionError(Fact.HISTORY, image_id, exc.reason))
        history = None
    try:
        return image_facts(data, history, scanner, references), problems
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        why = f"GET /images/{image_id[:19]}/json: unexpected answer ({exc})"
        return None, [CollectionError(Fact.IMAGE, image_id, why[:400])]


class ImageRefError(Exception):
    """An image named on the command line that is not on the engine (a usage error: exit 2)."""


def resolve(api: ImageAPI, refs: Sequence[str]) -> dict[str, list[str]]:
    """Image id -> the names given for it, for `runbench image REF...`. Raises ImageRefError for a name the
    engine does not know; other engine failures propagate (EngineError)."""
    out: dict[str, list[str]] = {}
    for ref in refs:
        try:
            data = api.inspect_image(ref)
        except EngineNotFound:
            raise ImageRefError(f"no local image {ref!r} (runbench never pulls: build or pull it first)") from None
        image_id = _s(data.get("Id"))
        if not image_id:
            raise ImageRefError(f"the engine gave no id for image {ref!r}")
        out.setdefault(image_id, []).append(ref)
    return out


Progress = Callable[[str, int, int], None]


class ImageJob:
    """Inspect + history of each image once, in a small pool of its own started before the container inspects
    (the images in use are known from the container list's ImageID) so that both run at the same time."""

    def __init__(self, api: ImageAPI, scanner: SecretScanner, workers: int = 4) -> None:
        self._api = api
        self._scanner = scanner
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="runbench-image")
        self._futures: dict[str, Future[tuple[ImageFacts | None, list[CollectionError]]]] = {}

    def add(self, image_ids: Iterable[str]) -> None:
        for image_id in image_ids:
            if image_id and image_id not in self._futures:
                self._futures[image_id] = self._pool.submit(inspect_image, self._api, image_id, self._scanner)

    def finish(
        self, references: Mapping[str, Iterable[str]], report: Progress | None = None
    ) -> tuple[list[ImageFacts], list[CollectionError]]:
        """Every image added, with the references that name it; the errors of those that failed."""
        images: list[ImageFacts] = []
        errors: list[CollectionError] = []
        total = len(self._futures)
        try:
            for i, (image_id, future) in enumerate(sorted(self._futures.items()), 1):
                facts, problems = future.result()
                errors.extend(problems)
                if facts is not None:
                    images.append(replace(facts, references=tuple(sorted(set(references.get(image_id, ()))))))
                if report is not None:
                    report("images", i, total)
        finally:
            self.close()
        return images, errors

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def deep_scan(
    api: Any, images: Sequence[ImageFacts], timeout: float | None = None, report: Progress | None = None
) -> list[ImageFacts]:
    """Each image with what its layers hold (--deep), streamed one image at a time: memory stays bounded by
    one layer's index, whatever the image sizes. A failed export leaves incomplete contents saying why."""
    out = []
    for i, image in enumerate(images, 1):
        if report is not None:
            report("layers", i - 1, len(images))
        out.append(replace(image, contents=export_contents(api, image.id, timeout)))
    if report is not None and images:
        report("layers", len(images), len(images))
    return out


def export_contents(api: Any, image_id: str, timeout: float | None = None) -> ImageContents:
    short = image_id.removeprefix("sha256:")[:12]
    if not hasattr(api, "export_image"):
        return ImageContents(complete=False, why="the engine client cannot stream an image export")
    from runbench.collect.layers import scan_export  # --deep only: not loaded by a plain scan

    chunks = api.export_image(image_id, timeout)
    try:
        return scan_export(chunks, image_id)
    except EngineError as exc:
        return ImageContents(complete=False, why=f"GET /images/{short}/get: {exc.reason}")
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
