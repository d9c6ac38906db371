"""Command line: the only place that prints outside renderers and the only place that maps errors to exit codes.

Exit codes: 0 ran and policy met · 1 ran and policy failed · 2 usage or config error · 3 could not collect ·
4 internal error (a bug in runbench; the traceback only with --debug). Nothing but a policy verdict exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from runbench import __version__
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
from runbench.snapshot import Snapshot, SnapshotFormatError
from runbench.textsafe import inert

if TYPE_CHECKING:
    from runbench.collect.engine import CollectRequest

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_COLLECT, EXIT_INTERNAL = 0, 1, 2, 3, 4
SUBCOMMANDS = ("scan", "collect", "report", "checks", "explain")
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


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--max-response-mb takes a whole number of MB, not {text!r}") from None
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError("--max-response-mb must be from 1 to 4096")
    return value


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
        type=_megabytes,
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
    g.add_argument("--format", choices=STDOUT_FORMATS, default="terminal", help="format of stdout (default terminal)")
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    g.add_argument("-v", "--verbose", action="store_true", help="also list passing and skipped results")
    g.add_argument("--no-color", action="store_true", help="no colours or styles (NO_COLOR is honoured too)")


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
    collect = sub.add_parser("collect", help="collect facts only and write a snapshot (JSON)")
    _add_collect_args(collect)
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


def _outputs(args: argparse.Namespace) -> list[Output]:
    """The reports to write, each target checked (and `scan --snapshot`'s): a bad one is exit 2 before
    anything is collected or read."""
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
            outs.append(Output("-", OutputFormat(args.format)))
            continue
        fmt = OutputFormat.for_path(path)
        if fmt is None:
            known = ", ".join(OutputFormat.known_extensions())
            raise UsageError(f"cannot tell the report format of {path!r}: known extensions are {known}")
        check_target(path)
        once(path, "-o")
        outs.append(Output(path, fmt))
    snapshot = getattr(args, "snapshot", None) if args.command == "scan" else None
    if snapshot is not None:
        if snapshot == "-":
            raise UsageError("--snapshot - would mix the snapshot with the report on stdout: give a file name")
        check_target(snapshot)
        once(snapshot, "--snapshot")
    return outs


def _color_off(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))


def _collect(args: argparse.Namespace, catalog: Catalog, policy: Policy) -> Snapshot:
    from runbench.authoring import Context
    from runbench.collect.api import HostURLError
    from runbench.collect.engine import CollectRequest, collect
    from runbench.render.terminal import progress

    for label in args.label:
        if not label or label.startswith("="):
            raise UsageError(f"--label takes KEY or KEY=VALUE, not {label!r}")
    req = CollectRequest(
        docker_host=args.host,
        timeout=args.timeout,
        deadline=args.deadline,
        max_response_bytes=args.max_response_mb * 1024 * 1024,
        all_containers=args.all,
        container_globs=tuple(args.container),
        exclude_globs=tuple(args.exclude_container),
        labels=tuple(args.label),
    )
    wanted = [c for c in catalog if policy.selection.wants(c)]

    def file_paths(snapshot: Snapshot) -> frozenset[str]:
        return catalog.file_paths(Context(snapshot, policy.params), wanted)

    show = sys.stderr.isatty() and not getattr(args, "quiet", False)
    try:
        with progress(show, _color_off(args)) as update:
            snapshot = collect(req, update, file_paths=file_paths)
    except HostURLError as exc:
        raise UsageError(f"--host / DOCKER_HOST: {exc}") from None
    _check_filters(snapshot, req)
    return snapshot


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
    `failed` (earlier ones, such as the snapshot) included. A closed stdout only ends what goes there."""
    outputs = _outputs(args)
    if not any(o.path == "-" for o in outputs):
        outputs.insert(0, Output("-", OutputFormat(args.format)))
    tty = sys.stdout.isatty()
    failures = list(failed)
    for out in outputs:
        to_stdout = out.path == "-"
        options = RenderOptions(
            verbose=args.verbose,
            quiet=args.quiet and to_stdout,
            color=to_stdout and out.format is OutputFormat.TERMINAL and tty and not _color_off(args),
            width=shutil.get_terminal_size((80, 24)).columns if to_stdout else 100,
        )
        rendered = renderer(out.format).render(report, options)
        try:
            _write(rendered, out.path, REPORT_MODE)
        except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error
            continue
        except OutputError as exc:
            failures.append(exc)
    if failures:
        raise WriteFailures(tuple(failures), _outcome(report))


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


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
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
