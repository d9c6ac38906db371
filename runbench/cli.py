"""Command line: the only place that prints outside renderers and the only place that maps errors to exit codes.

Exit codes: 0 ran and policy met · 1 ran and policy failed · 2 usage or config error · 3 could not collect ·
4 internal error (a bug in runbench; the traceback only with --debug). Nothing but a policy verdict exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from runbench import __version__, split
from runbench.catalog import Catalog, UnknownCheckError, load_catalog
from runbench.hostfs import UserFileError, read_user_file
from runbench.model import BENCHMARK, Report, Severity
from runbench.output import (
    REPORT_MODE,
    SNAPSHOT_CAP,
    SNAPSHOT_MODE,
    OutputError,
    WriteFailures,
    check_target,
    read_stdin_bounded,
    silence_stdout,
    write_atomic,
    write_stdout,
)
from runbench.policy import Policy, Selection
from runbench.render import OutputFormat, RenderOptions, renderer
from runbench.rundir import LATEST, prune
from runbench.snapshot import Snapshot, SnapshotFormatError
from runbench.split import Forked
from runbench.textsafe import inert

if TYPE_CHECKING:
    from runbench.collect.engine import CollectRequest
    from runbench.render.changes import PreviousRun

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_COLLECT, EXIT_INTERNAL = 0, 1, 2, 3, 4
KEEP_RUNS = 30  # runs kept in --out-dir
SUBCOMMANDS = ("scan", "collect", "report", "checks", "explain", "image")
STDOUT_FORMATS = tuple(f.value for f in OutputFormat)
EXAMPLES = """examples:
  runbench                                   scan the local engine, print the report (exit 1 on a high failure)
  runbench --all -o /var/log/runbench.json   also stopped containers; keep a JSON report
  runbench --check 'container.*' --fail-on critical --container 'web*'
                                             only container checks, only web* containers, gate on critical
"""
EXIT_CODES = (
    "exit codes: 0 policy met · 1 policy failed · 2 usage or config error · 3 could not collect · "
    "4 internal error (--debug shows the traceback)"
)


class UsageError(Exception):
    """Bad flags, files or names given by the user (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # "-" for stdout
    format: OutputFormat


class _Parser(argparse.ArgumentParser):
    """No abbreviated options anywhere (`report s.json --all` must not become `--allow-cap`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """argparse's usage error, with the user's own arguments made inert (they may hold control characters)."""
        from runbench.textsafe import inert

        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {inert(message, 2000)}\n")


class _TopParser(_Parser):
    """`runbench --help` also shows the options of `scan`, the default command."""

    scan: argparse.ArgumentParser | None = None

    def format_help(self) -> str:
        text = super().format_help()
        if self.scan is None:
            return text
        scan_help = self.scan.format_help()
        options = scan_help[scan_help.find("\n\n") + 2 :] if "\n\n" in scan_help else scan_help
        return f"{text}\nscan options (runbench [scan] [options]):\n\n{options}\n{EXAMPLES}\n{EXIT_CODES}\n"


def _seconds(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a number of seconds, not {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{flag} must be a positive, finite number of seconds, not {text!r}")
        return value

    return parse


def _add_collect_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine and scope")
    g.add_argument("--host", metavar="URL", help="engine to scan (default: DOCKER_HOST or unix:///var/run/docker.sock)")
    g.add_argument(
        "--timeout",
        type=_seconds("--timeout"),
        default=10.0,
        metavar="S",
        help="wall-clock limit of every API call, the whole answer (default 10)",
    )
    g.add_argument(
        "--deadline",
        type=_seconds("--deadline"),
        default=120.0,
        metavar="S",
        help="wall-clock limit of the whole collection (default 120); what is left out makes the run incomplete",
    )
    g.add_argument(
        "--max-response-mb",
        type=_count("--max-response-mb", 1, 4096),
        default=64,
        metavar="MB",
        help="largest engine answer read (default 64); a larger one is a collection error, never an OOM",
    )
    g.add_argument("-a", "--all", action="store_true", help="also scan stopped and created containers")
    g.add_argument(
        "--container",
        action="append",
        default=[],
        metavar="GLOB",
        help="only containers whose name matches, or whose id starts with these hex digits (4+) (repeatable)",
    )
    g.add_argument(
        "--exclude-container",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out containers whose name matches (repeatable)",
    )
    g.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="K=V",
        help="only containers with this label (repeatable: all must match)",
    )

    def host_root(text: str) -> str:
        if not os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"--host-root {text!r} is not a directory")
        return os.path.abspath(text)

    g.add_argument(
        "--host-root",
        type=host_root,
        metavar="PATH",
        help="the engine host's / is mounted at PATH (runbench in a container: -v /:/host:ro --host-root /host); "
        "host files are read below it, processes still come from /proc",
    )


def _add_image_args(p: argparse.ArgumentParser, *, refs: bool = True) -> None:
    """--images, --image REF and --deep (scan, collect); `runbench image` takes its references as arguments."""
    g = p.add_argument_group("images")
    if refs:
        g.add_argument(
            "--images",
            choices=("in-use", "all"),
            default="in-use",
            help="images to check: those of the containers in scope (default) or every local image",
        )
        g.add_argument(
            "--image",
            action="append",
            default=[],
            metavar="REF",
            help="check only this local image (tag, digest reference or id), no container (repeatable; "
            "like `runbench image REF`)",
        )
    g.add_argument(
        "--deep",
        action="store_true",
        help="also read each image's files (streamed export: setuid files, credentials, world-writable files); "
        "a large image may need a longer --deadline",
    )


def _add_eval_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("checks and policy")
    g.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="ID",
        help="run only this check: an id, a CIS number or a glob like 'container.*' (repeatable)",
    )
    g.add_argument("--skip", action="append", default=[], metavar="ID", help="do not run this check (repeatable)")
    g.add_argument(
        "--fail-on",
        default="high",
        choices=[s.value for s in Severity] + ["none"],
        help="fail (exit 1) on a failure of this severity or worse (default high)",
    )
    g.add_argument("--min-score", type=float, metavar="N", help="fail (exit 1) when the score is below N (0-100)")
    g.add_argument("--fail-on-error", action="store_true", help="fail (exit 1) when a check could not be evaluated")
    g.add_argument(
        "--allow-cap",
        action="append",
        default=[],
        metavar="CAP",
        help="accept this capability beyond Docker's defaults (repeatable; never SYS_ADMIN & co.)",
    )


def _count(flag: str, low: int = 1, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a whole number, not {text!r}") from None
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{flag} must be from {low} to {high}")
        if value < low:
            raise argparse.ArgumentTypeError(f"{flag} must be at least {low}")
        return value

    return parse


def _add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="FILE",
        help=f"write a report; the format comes from the extension ({', '.join(OutputFormat.known_extensions())}); "
        "'-' is stdout in --format (repeatable)",
    )
    g.add_argument(
        "--format",
        choices=STDOUT_FORMATS,
        default=None,
        help="format of stdout (default terminal; text is the plain ASCII report)",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors (not with --format or -v)")
    g.add_argument(
        "-v", "--verbose", action="store_true", help="every subject, evidence and fix; passing and skipped results"
    )
    g.add_argument(
        "--color",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="colours and styles on stdout (default: when stdout is a terminal; NO_COLOR and FORCE_COLOR are honoured)",
    )
    g.add_argument(
        "--worst",
        type=_count("--worst"),
        default=15,
        metavar="N",
        help="rows of the container and image tables of the terminal report (default 15; -v lists all)",
    )
    g.add_argument(
        "--previous",
        metavar="FILE",
        help="a previous JSON report: every report shows what changed since (new failures, fixed, score delta)",
    )
    cron = p.add_argument_group("run directory (cron)")
    cron.add_argument(
        "--out-dir",
        metavar="DIR",
        help="write <host>-<UTC time>.json and .html into DIR, replace latest.json and latest.html, compare with "
        "the previous run in DIR",
    )
    cron.add_argument(
        "--keep", type=_count("--keep"), default=None, metavar="N", help="runs kept in --out-dir (default 30)"
    )
    cron.add_argument("--prom", action="store_true", help="also a Prometheus textfile (.prom) per run in --out-dir")


def _add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="on an internal error, show the traceback")


def build_parser() -> argparse.ArgumentParser:
    parser = _TopParser(
        prog="runbench",
        description=f"Read-only security checker for Docker hosts ({BENCHMARK.name} v{BENCHMARK.version}). "
        "Without a command, runs `scan`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"runbench {__version__}")
    _add_common_args(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    scan = sub.add_parser(
        "scan",
        help="collect from the engine and report (the default)",
        epilog=f"{EXAMPLES}\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.scan = scan
    _add_collect_args(scan)
    _add_eval_args(scan)
    _add_output_args(scan)
    _add_common_args(scan)
    scan.add_argument(
        "--snapshot",
        metavar="FILE",
        help="also keep the collected facts: `runbench report FILE` re-evaluates exactly what this scan saw",
    )
    _add_image_args(scan)
    image = sub.add_parser(
        "image",
        help="check local images alone, no container (e.g. in a pipeline before pushing)",
        description="Evaluate the image checks on the named local images only (never pulled). Exit code by "
        "policy, as `scan`: 1 when a failure reaches --fail-on (default high).",
        epilog=f"example:\n  runbench image --deep --fail-on medium registry.example.com/app:1.4.2\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    image.add_argument("refs", nargs="+", metavar="REF", help="a local image: tag, digest reference or id")
    _add_collect_args(image)
    _add_image_args(image, refs=False)
    _add_eval_args(image)
    _add_output_args(image)
    _add_common_args(image)
    image.add_argument("--snapshot", metavar="FILE", help="also keep the collected facts (see scan --snapshot)")
    collect = sub.add_parser("collect", help="collect facts only and write a snapshot (JSON)")
    _add_collect_args(collect)
    _add_image_args(collect)
    _add_common_args(collect)
    collect.add_argument("-o", "--output", default="-", metavar="FILE", help="snapshot file (default stdout)")
    collect.add_argument("--no-color", action="store_true", help=argparse.SUPPRESS)
    report = sub.add_parser("report", help="evaluate a snapshot written by `collect` or `scan --snapshot`")
    report.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot file, or - for stdin")
    _add_eval_args(report)
    _add_output_args(report)
    _add_common_args(report)
    checks = sub.add_parser("checks", help="list the checks")
    checks.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    _add_common_args(checks)
    explain = sub.add_parser("explain", help="show one check in full (id, CIS number or glob)")
    explain.add_argument("id", metavar="ID")
    _add_common_args(explain)
    return parser


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    args = list(argv)
    head = next((a for a in args if a != "--debug"), "")
    if head not in SUBCOMMANDS and head not in ("-h", "--help", "--version"):
        return ["scan", *args]
    return args


def _selection(catalog: Catalog, include: Sequence[str], exclude: Sequence[str]) -> Selection:
    def resolve(refs: Sequence[str]) -> frozenset[str]:
        out: set[str] = set()
        for ref in refs:
            for part in ref.split(","):
                if part.strip():
                    out.update(catalog.resolve(part))
        return frozenset(out)

    return Selection(include=resolve(include), exclude=resolve(exclude))


def _policy(args: argparse.Namespace, catalog: Catalog) -> Policy:
    from runbench.policy import Params

    if args.min_score is not None and not 0 <= args.min_score <= 100:
        raise UsageError("--min-score takes a number from 0 to 100")
    return Policy(
        fail_on=None if args.fail_on == "none" else Severity(args.fail_on),
        min_score=args.min_score,
        fail_on_error=args.fail_on_error,
        selection=_selection(catalog, args.check, args.skip),
        params=Params(allowed_capabilities=frozenset(c.upper().removeprefix("CAP_") for c in args.allow_cap)),
    )


def _stdout_format(args: argparse.Namespace) -> OutputFormat:
    return OutputFormat(args.format or OutputFormat.TERMINAL.value)


def _outputs(args: argparse.Namespace) -> list[Output]:
    """The reports to write, each target checked (and `scan --snapshot`'s, --out-dir, --previous): a bad one
    is exit 2 before anything is collected or read."""
    if args.quiet and (args.format is not None or args.verbose):
        raise UsageError("-q prints only errors: it cannot go with --format or -v")
    if args.out_dir is None and (args.keep is not None or args.prom):
        raise UsageError("--keep and --prom go with --out-dir")
    outs = []
    seen: dict[str, str] = {}

    def once(path: str, flag: str) -> None:
        where = path if path == "-" else os.path.realpath(path)
        if where in seen:
            raise UsageError(f"{path!r} is given twice ({seen[where]} and {flag})")
        seen[where] = flag

    for path in args.output:
        if path == "-":
            once(path, "-o")
            outs.append(Output("-", _stdout_format(args)))
            continue
        fmt = OutputFormat.for_path(path)
        if fmt is None:
            known = ", ".join(OutputFormat.known_extensions())
            raise UsageError(f"cannot tell the report format of {path!r}: known extensions are {known}")
        check_target(path)
        once(path, "-o")
        outs.append(Output(path, fmt))
    snapshot = getattr(args, "snapshot", None) if args.command in ("scan", "image") else None
    if snapshot is not None:
        if snapshot == "-":
            raise UsageError("--snapshot - would mix the snapshot with the report on stdout: give a file name")
        check_target(snapshot)
        once(snapshot, "--snapshot")
    if args.out_dir is not None:
        if not os.path.isdir(args.out_dir):
            raise UsageError(f"--out-dir {args.out_dir!r} is not a directory")
        for kind in ("json", "html", "prom"):
            latest = os.path.join(args.out_dir, f"{LATEST}.{kind}")
            check_target(latest)
            once(latest, "--out-dir")
    if args.previous is not None and getattr(args, "previous_run", None) is None:
        args.previous_run = _read_previous(args.previous, "--previous")
    return outs


def _read_previous(path: str, flag: str) -> PreviousRun:
    """A previous JSON report (capped like a snapshot), parsed; a UsageError naming `flag` when it is not one."""
    from runbench.render.changes import PreviousReportError, parse_previous

    if "\x00" in path:
        raise UsageError(f"{flag}: a file name cannot hold a NUL character")
    try:
        data = read_user_file(path, SNAPSHOT_CAP)
        return parse_previous(data if isinstance(data, str) else data.decode("utf-8"))
    except UserFileError as exc:
        raise UsageError(f"{flag}: cannot read {exc.path}: {exc.reason}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{flag}: {path} is not a runbench JSON report (not UTF-8 text)") from None
    except PreviousReportError as exc:
        raise UsageError(f"{flag}: {path}: {exc}") from None


def _color_off(args: argparse.Namespace) -> bool:
    """No styles on stderr's progress bar: --no-color, or NO_COLOR set (unless --color)."""
    color = getattr(args, "color", None)
    if color is not None:
        return not color
    return bool(getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))


def _color(args: argparse.Namespace, tty: bool) -> bool:
    """Styles on stdout: --color / --no-color, else NO_COLOR (off), else FORCE_COLOR (on), else a terminal."""
    color = getattr(args, "color", None)
    if color is not None:
        return bool(color)
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "").lower() not in ("", "0", "false", "no"):
        return True
    return tty


def _collect(args: argparse.Namespace, catalog: Catalog, policy: Policy) -> Snapshot:
    from runbench.authoring import Context
    from runbench.collect.api import HostURLError
    from runbench.collect.engine import CollectRequest, collect
    from runbench.render.progress import progress

    for label in args.label:
        if not label or label.startswith("="):
            raise UsageError(f"--label takes KEY or KEY=VALUE, not {label!r}")
    image_refs = _image_refs(args)
    req = CollectRequest(
        docker_host=args.host,
        timeout=args.timeout,
        deadline=args.deadline,
        max_response_bytes=args.max_response_mb * 1024 * 1024,
        all_containers=args.all,
        container_globs=tuple(args.container),
        exclude_globs=tuple(args.exclude_container),
        labels=tuple(args.label),
        host_root=args.host_root,
        images=getattr(args, "images", "in-use"),
        image_refs=image_refs,
        deep=bool(getattr(args, "deep", False)),
        read_host=not image_refs,  # images alone: nothing of the host is judged
    )
    wanted = [c for c in catalog if policy.selection.wants(c)]

    def file_paths(snapshot: Snapshot) -> frozenset[str]:
        return catalog.file_paths(Context(snapshot, policy.params), wanted)

    show = sys.stderr.isatty() and not getattr(args, "quiet", False)
    from runbench.collect.images import ImageRefError

    try:
        with progress(show, _color_off(args)) as update:
            snapshot = collect(req, update, file_paths=None if image_refs else file_paths)
    except HostURLError as exc:
        raise UsageError(f"--host / DOCKER_HOST: {exc}") from None
    except ImageRefError as exc:
        raise UsageError(str(exc)) from None
    if image_refs:  # the host was left unread on purpose: no check of it runs, so nothing of it is missing
        from runbench.snapshot import Fact

        unread = (Fact.HOST, Fact.DAEMON, Fact.DAEMON_CONFIG, Fact.FILES)
        snapshot = replace(snapshot, errors=tuple(e for e in snapshot.errors if e.fact not in unread))
    _check_filters(snapshot, req)
    return snapshot


def _image_refs(args: argparse.Namespace) -> tuple[str, ...]:
    """The images named on the command line (`runbench image REF...`, `--image REF`): they are judged alone,
    so the container scope options do not apply to them."""
    refs = tuple(getattr(args, "refs", None) or getattr(args, "image", None) or ())
    if not refs:
        return ()
    if any(not r.strip() or r.startswith("-") or "\x00" in r for r in refs):
        raise UsageError("an image reference is a tag, a digest reference or an id (not empty, not an option)")
    scoped = [
        flag
        for flag, on in (
            ("--all", args.all),
            ("--container", args.container),
            ("--exclude-container", args.exclude_container),
            ("--label", args.label),
        )
        if on
    ]
    if scoped:
        raise UsageError(f"{', '.join(scoped)} select containers: images named alone are checked without any")
    if getattr(args, "images", "in-use") == "all":
        raise UsageError("--images all and named images exclude each other")
    return refs


def _images_only(selection: Selection, catalog: Catalog) -> Selection:
    """The selection of a run on named images: only image checks (of those selected, when --check names some)."""
    images = frozenset(c for c in catalog if c.startswith("image."))
    include = (selection.include & images) if selection.include else images
    if not include:
        raise UsageError("no image check is selected (--check): named images are judged by image checks only")
    return Selection(include=include, exclude=selection.exclude)


def _check_filters(snapshot: Snapshot, req: CollectRequest) -> None:
    """A name or label filter that matches no container is a usage error naming the filter."""
    from runbench.collect.engine import matches_container

    listed = snapshot.inventory
    if req.labels and not listed:
        raise UsageError(f"no container has the label(s) {', '.join(req.labels)} (--label)")
    for pattern in req.container_globs:
        hits = [s for s in listed if matches_container(pattern, s.name, s.id, req.id_prefix_min)]
        if not hits:
            raise UsageError(f"no container matches --container {pattern!r}")
        if not req.all_containers and not any(s.state in ("running", "paused", "restarting") for s in hits):
            raise UsageError(f"--container {pattern!r} matches only stopped containers: add --all to scan them")


def _write(text: str | bytes, path: str, mode: int = SNAPSHOT_MODE) -> None:
    """`text` to stdout ("-") or atomically to the file `path` with `mode` (a snapshot's 0600 by default).
    OutputError says why not; a closed stdout raises BrokenPipeError, quietly (see output.write_stdout)."""
    if path == "-":
        write_stdout(text if isinstance(text, str) else text.decode("utf-8"))
    else:
        write_atomic(path, text, mode)


def _outcome(report: Report) -> str:
    """The policy verdict in words, for a message that must not hide it."""
    text = "policy met" if report.policy.met else f"policy NOT met ({'; '.join(report.policy.reasons)})"
    if report.incomplete:
        text += f"; the run is incomplete ({len(report.incomplete)} part(s) could not be collected)"
    return text


def _emit(report: Report, args: argparse.Namespace, failed: Sequence[OutputError] = ()) -> None:
    """Write every output, each one even when another failed; then WriteFailures (exit 2) if any did,
    `failed` (earlier ones, such as the snapshot) included. A closed stdout only ends what goes there.
    With --out-dir, the run's files, then latest.*, then old runs removed; with --previous (or a previous
    run in --out-dir) every report shows what changed."""
    from runbench.render.changes import compare

    outputs = _outputs(args)
    if not any(o.path == "-" for o in outputs):
        outputs.insert(0, Output("-", _stdout_format(args)))
    previous: PreviousRun | None = getattr(args, "previous_run", None)
    plan = _run_dir(report, args) if args.out_dir is not None else None
    if plan is not None:
        outputs += plan.outputs
        if previous is None and plan.previous is not None:
            try:
                previous = _read_previous(plan.previous, "--out-dir")
            except UsageError as exc:  # yesterday's broken file must not stop today's reports
                _say(f"warning: no comparison with the previous run: {exc}")
    changes = compare(report, previous) if previous is not None else None
    tty = sys.stdout.isatty()
    failures = list(failed)
    by_format: dict[OutputFormat, list[str]] = {}  # the files of each format, rendered once, in order
    for out in outputs:
        if out.path != "-":
            by_format.setdefault(out.format, []).append(out.path)
    # Rendering is CPU-bound: with two or more formats to write on a large report, a forked child writes some
    # (runbench.split: it reports what it could not write; what it did not do is done here).
    formats = list(by_format)
    on_stdout = [] if args.quiet else [o.format for o in outputs if o.path == "-"]  # quiet: next to nothing
    theirs = _child_formats(report, by_format, on_stdout) if len(formats) > 1 else []
    forked = None
    if theirs:
        forked = Forked.start(
            theirs, lambda: lambda f: _failed(_emit_format(report, args, changes, tty, f, by_format[f])), 1, None
        )
    for out in outputs:
        if out.path == "-":
            failures += _emit_format(report, args, changes, tty, out.format, ["-"])
    for fmt in formats:
        if forked is None or fmt not in theirs:
            failures += _emit_format(report, args, changes, tty, fmt, by_format[fmt])
    if forked is not None:
        done, undone = forked.finish()
        failures += [OutputError(path, reason) for problems in done for path, reason in problems]
        for fmt in undone:
            failures += _emit_format(report, args, changes, tty, fmt, by_format[fmt])
    if plan is not None and not failures:
        for problem in prune(args.out_dir, plan.remove):
            _say(f"warning: could not remove an old run: {problem}")
    if failures:
        raise WriteFailures(tuple(failures), _outcome(report))


def _emit_format(
    report: Report, args: argparse.Namespace, changes: Any, tty: bool, fmt: OutputFormat, paths: Sequence[str]
) -> list[OutputError]:
    """Render `report` in `fmt` once and write it to each of `paths` ("-": stdout); what could not be written."""
    to_stdout = paths == ["-"]
    options = RenderOptions(
        verbose=args.verbose,
        quiet=args.quiet and to_stdout,
        color=to_stdout and fmt is OutputFormat.TERMINAL and _color(args, tty),
        width=shutil.get_terminal_size((80, 24)).columns if to_stdout else 100,
        changes=changes,
        worst=args.worst,
    )
    made = renderer(fmt)
    streamed = getattr(made, "chunks", None)
    failures: list[OutputError] = []
    text: str | bytes | None = None
    for path in paths:
        try:
            if streamed is not None and path != "-":  # written to the file as it is made (a fleet's JSON)
                write_atomic(path, streamed(report, options), REPORT_MODE)
                continue
            if text is None:
                text = made.render(report, options)
            _write(text, path, REPORT_MODE)
        except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error
            continue
        except OutputError as exc:
            failures.append(exc)
    return failures


def _failed(failures: list[OutputError]) -> list[tuple[str, str]]:
    """Write failures as plain data, for the forked child to send back."""
    return [(f.path, f.reason) for f in failures]


# The relative cost of rendering each format (measured on a 1,000-container report): the forked child takes
# the formats that balance the work, the parent keeps stdout.
_RENDER_COST = {
    OutputFormat.HTML: 2.7,
    OutputFormat.SARIF: 2.6,
    OutputFormat.JUNIT: 2.5,
    OutputFormat.TERMINAL: 1.7,
    OutputFormat.JSON: 1.0,
    OutputFormat.TEXT: 0.35,
    OutputFormat.PROMETHEUS: 0.15,
    OutputFormat.MARKDOWN: 0.05,
}
SPLIT_FINDINGS = 4000  # a smaller report renders in less time than a fork costs


def _child_formats(
    report: Report, by_format: Mapping[OutputFormat, Sequence[str]], on_stdout: Sequence[OutputFormat]
) -> list[OutputFormat]:
    """The formats a forked child should render and write, or none when a fork does not pay."""
    if not split.worth_splitting(len(report.findings), None, minimum=SPLIT_FINDINGS):
        return []
    mine = sum(_RENDER_COST.get(f, 1.0) for f in on_stdout)  # the parent keeps stdout
    theirs = 0.0
    child: list[OutputFormat] = []
    costs = {fmt: _RENDER_COST.get(fmt, 1.0) * len(paths) for fmt, paths in by_format.items()}
    for fmt in sorted(costs, key=lambda f: -costs[f]):
        if theirs <= mine:
            theirs += costs[fmt]
            child.append(fmt)
        else:
            mine += costs[fmt]
    return child


@dataclass(frozen=True, slots=True)
class _RunDir:
    outputs: list[Output]  # this run's files, then latest.*
    previous: str | None  # the previous run's JSON report
    remove: list[str]  # old runs beyond --keep


def _run_dir(report: Report, args: argparse.Namespace) -> _RunDir:
    from runbench import rundir

    directory = args.out_dir
    host = rundir.host_label(report.host.hostname)
    runs = rundir.list_runs(directory, host)
    stamp = rundir.new_stamp(runs, rundir.stamp(report.started_at))
    kinds = [("json", OutputFormat.JSON), ("html", OutputFormat.HTML)]
    if args.prom:
        kinds.append(("prom", OutputFormat.PROMETHEUS))
    outputs = [Output(os.path.join(directory, f"{host}-{stamp}.{ext}"), fmt) for ext, fmt in kinds]
    outputs += [Output(os.path.join(directory, f"{LATEST}.{ext}"), fmt) for ext, fmt in kinds]
    keep = args.keep if args.keep is not None else KEEP_RUNS
    return _RunDir(outputs, rundir.previous_json(directory, runs), rundir.to_remove(runs, keep - 1))


def run(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog()
    except Exception as exc:  # a check file that fails to import or validate: a bug, not the user's input
        raise InternalError(f"the check catalog failed to load: {type(exc).__name__}: {exc}") from exc
    if args.command == "checks":
        from runbench.render import catalog as cat

        render = {"table": cat.as_table, "json": cat.as_json, "markdown": cat.as_markdown}[args.format]
        _write(render(catalog.metas()), "-")
        return EXIT_OK
    if args.command == "explain":
        from runbench.render.catalog import explain

        ids = catalog.resolve(args.id)
        _write("\n".join(explain(catalog[i].meta) for i in ids), "-")
        return EXIT_OK
    if args.command == "collect":
        check_target(args.output)  # a snapshot that cannot be written is exit 2 before the engine is asked
        snapshot = _collect(args, catalog, Policy())
        _write(snapshot.dumps() + "\n", args.output)
        return EXIT_OK
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    policy = _policy(args, catalog)  # validate the selection and outputs before reading anything
    if args.command != "report" and _image_refs(args):
        policy = replace(policy, selection=_images_only(policy.selection, catalog))
    _outputs(args)
    unwritten: list[OutputError] = []
    if args.command == "report":
        snapshot = _load_snapshot(args.snapshot)
    else:
        snapshot = _collect(args, catalog, policy)
        if args.snapshot:  # before evaluating: a crash still leaves the facts; a failure waits for the reports
            try:
                _write(snapshot.dumps() + "\n", args.snapshot)
            except OutputError as exc:
                unwritten.append(exc)
    from runbench.engine import evaluate

    report = evaluate(
        catalog, snapshot, policy, started_at=snapshot.collected_at if args.command == "report" else started_at
    )
    _emit(report, args, unwritten)
    if report.incomplete:
        what = "; ".join(report.incomplete[:3]) + (
            f" (+{len(report.incomplete) - 3} more)" if len(report.incomplete) > 3 else ""
        )
        raise IncompleteRun(
            f"the run is incomplete: {len(report.incomplete)} part(s) could not be collected: {what}", report
        )
    return EXIT_OK if report.policy.met else EXIT_POLICY


class InternalError(Exception):
    """A bug in runbench (exit code 4)."""


class IncompleteRun(Exception):
    """The report was written, but the engine failed to give part of what was in scope (exit code 3)."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def _load_snapshot(path: str) -> Snapshot:
    """The snapshot in the file `path` (or stdin, "-"): a regular file of at most SNAPSHOT_CAP bytes (a FIFO
    or a device is refused at once), UTF-8, a valid snapshot with a finite duration; else a UsageError."""
    if "\x00" in path:
        raise UsageError(f"cannot read snapshot {path}: a file name cannot hold a NUL character")
    try:
        data = read_stdin_bounded(SNAPSHOT_CAP) if path == "-" else read_user_file(path, SNAPSHOT_CAP)
    except UserFileError as exc:
        hint = " (a pipe: give - to read stdin)" if exc.reason == "is a FIFO" else ""
        raise UsageError(f"cannot read snapshot {exc.path}: {exc.reason}{hint}") from None
    try:
        text = data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a runbench snapshot (not UTF-8 text)") from None
    del data
    try:
        snapshot = Snapshot.loads(text)
    except SnapshotFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: malformed snapshot: nested too deeply") from None
    if not math.isfinite(snapshot.duration_s):  # a report never carries NaN or an infinity
        raise UsageError(f"{path}: malformed snapshot: duration_s is {snapshot.duration_s!r}")
    return snapshot


MESSAGE_LIMIT = 2000  # characters of one stderr line: an engine's error body can be megabytes


def _say(message: str) -> None:
    """One line on stderr, made inert: messages carry engine answers, file names and snapshot data."""
    with contextlib.suppress(OSError, ValueError):  # a closed stderr: nothing left to tell it to
        print(f"runbench: {inert(message, MESSAGE_LIMIT)}", file=sys.stderr)


def _tune_gc() -> None:
    """One run of the command builds its objects once and keeps them to the end (facts, findings), and makes
    no reference cycles worth collecting: the cyclic collector would rescan the whole heap over and over as it
    grows (~5 % of a 1,000-container scan). What the imports built is set aside for good (`freeze`: never
    scanned, and its pages stay shared with a forked child), and collections run rarely."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)


GC_THRESHOLD = 50_000  # allocations between two young collections (Python's default: 700)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # the command, not a caller in this process (tests): its collector is its own
        _tune_gc()
    debug = "--debug" in raw
    try:
        args = build_parser().parse_args(_normalise_argv(raw))
        code = run(args)
        with contextlib.suppress(BrokenPipeError):  # a closed pipe is quiet, and keeps the exit code
            write_stdout("")  # what `checks` or `explain` left buffered: a full disk shows now, not at exit
        return code
    except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (UsageError, UnknownCheckError, OutputError) as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except WriteFailures as exc:  # the other outputs were written; the verdict is still told
        for failure in exc.failures:
            _say(f"error: {failure}")
        _say(f"{exc.outcome}; {len(exc.failures)} output(s) not written")
        return EXIT_USAGE
    except IncompleteRun as exc:
        _say(f"could not collect everything: {exc}")
        return EXIT_COLLECT
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:  # stdout's reader went away (`runbench checks | head`)
        silence_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - every other failure is a bug: say so, exit 4
        from runbench.collect.engine import CollectFailure

        if isinstance(exc, CollectFailure):
            _say(f"could not collect: {exc.message}")
            if exc.hint:
                _say(f"hint: {exc.hint}")
            return EXIT_COLLECT
        if debug:
            with contextlib.suppress(OSError, ValueError):
                for line in traceback.format_exc().splitlines():
                    print(inert(line, MESSAGE_LIMIT), file=sys.stderr)
        message = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
        _say(f"internal error: {message}")
        if not debug:
            _say("this is a bug in runbench; --debug shows the traceback")
        return EXIT_INTERNAL
