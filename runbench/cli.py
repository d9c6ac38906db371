"""Command line: the only place that prints outside renderers and the only place that maps errors to exit codes.

Exit codes: 0 ran and policy met · 1 ran and policy failed · 2 usage or config error · 3 could not collect.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runbench import __version__
from runbench.catalog import Catalog, UnknownCheckError, load_catalog
from runbench.model import Report, Severity
from runbench.policy import Policy, Selection
from runbench.snapshot import Snapshot, SnapshotFormatError

EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_COLLECT = 0, 1, 2, 3
SUBCOMMANDS = ("scan", "collect", "report", "checks", "explain")
FORMATS = {"json": "json", "txt": "text", "text": "text"}
STDOUT_FORMATS = ("terminal", "json", "text")


class UsageError(Exception):
    """Bad flags, files or names given by the user (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Output:
    path: str  # "-" for stdout
    format: str


def _add_collect_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine and scope")
    g.add_argument("--host", metavar="URL", help="engine to scan (default: DOCKER_HOST or unix:///var/run/docker.sock)")
    g.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="timeout of every API call in seconds (default 10)"
    )
    g.add_argument("-a", "--all", action="store_true", help="also scan stopped and created containers")
    g.add_argument(
        "--container",
        action="append",
        default=[],
        metavar="GLOB",
        help="only containers whose name matches (repeatable)",
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
        help="write a report; the format comes from the extension (.json, .txt); "
        "'-' is stdout in --format (repeatable)",
    )
    g.add_argument("--format", choices=STDOUT_FORMATS, default="terminal", help="format of stdout (default terminal)")
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    g.add_argument("-v", "--verbose", action="store_true", help="also list passing and skipped results")
    g.add_argument("--no-color", action="store_true", help="no colours or styles (NO_COLOR is honoured too)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbench",
        description="Read-only security checker for Docker hosts (CIS Docker Benchmark v1.8.0). "
        "Without a command, runs `scan`.",
        epilog="Exit codes: 0 policy met, 1 policy failed, 2 usage or config error, 3 could not collect.",
    )
    parser.add_argument("--version", action="version", version=f"runbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = sub.add_parser("scan", help="collect from the engine and report (the default)")
    _add_collect_args(scan)
    _add_eval_args(scan)
    _add_output_args(scan)
    scan.add_argument(
        "--snapshot",
        metavar="FILE",
        help="also keep the collected facts: `runbench report FILE` re-evaluates exactly what this scan saw",
    )
    collect = sub.add_parser("collect", help="collect facts only and write a snapshot (JSON)")
    _add_collect_args(collect)
    collect.add_argument("-o", "--output", default="-", metavar="FILE", help="snapshot file (default stdout)")
    collect.add_argument("--no-color", action="store_true", help=argparse.SUPPRESS)
    report = sub.add_parser("report", help="evaluate a snapshot written by `collect`")
    report.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot file, or - for stdin")
    _add_eval_args(report)
    _add_output_args(report)
    checks = sub.add_parser("checks", help="list the checks")
    checks.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    explain = sub.add_parser("explain", help="show one check in full (id or CIS number)")
    explain.add_argument("id", metavar="ID")
    return parser


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    args = list(argv)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version")):
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
    outs = []
    for path in args.output:
        if path == "-":
            outs.append(Output("-", args.format if args.format != "terminal" else "terminal"))
            continue
        ext = Path(path).suffix.lower().lstrip(".")
        if ext not in FORMATS:
            raise UsageError(f"cannot tell the report format of {path!r}: use .json or .txt")
        outs.append(Output(path, FORMATS[ext]))
    return outs


def _color_off(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))


def _collect(args: argparse.Namespace) -> Snapshot:
    from runbench.collect.engine import CollectRequest, collect
    from runbench.render.terminal import progress

    for label in args.label:
        if not label or label.startswith("="):
            raise UsageError(f"--label takes KEY or KEY=VALUE, not {label!r}")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    req = CollectRequest(
        docker_host=args.host,
        timeout=args.timeout,
        all_containers=args.all,
        container_globs=tuple(args.container),
        exclude_globs=tuple(args.exclude_container),
        labels=tuple(args.label),
    )
    show = sys.stderr.isatty() and not getattr(args, "quiet", False)
    with progress(show, _color_off(args)) as update:
        return collect(req, update)


def _write(text: str, path: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _emit(report: Report, args: argparse.Namespace) -> None:
    from runbench.render import json as json_render
    from runbench.render import terminal

    outputs = _outputs(args)
    stdout_taken = any(o.path == "-" for o in outputs)
    if not stdout_taken:
        outputs.insert(0, Output("-", args.format))
    for out in outputs:
        if out.format == "json":
            _write(json_render.render(report), out.path)
        elif out.path == "-" and out.format == "terminal":
            console = terminal.make_console(sys.stdout, no_color=_color_off(args))
            terminal.render(report, console, verbose=args.verbose, quiet=args.quiet)
        else:  # plain text: the terminal report without styles, at 100 columns
            import io

            buf = io.StringIO()
            console = terminal.make_console(buf, no_color=True, width=100)
            terminal.render(report, console, verbose=args.verbose, quiet=args.quiet and out.path == "-")
            _write(buf.getvalue(), out.path)


def _evaluate(snapshot: Snapshot, args: argparse.Namespace, catalog: Catalog, started_at: str) -> Report:
    from runbench.engine import evaluate

    return evaluate(catalog, snapshot, _policy(args, catalog), started_at=started_at)


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(argv))
    catalog = load_catalog()
    if args.command == "checks":
        from runbench.render import catalog as cat

        render = {"table": cat.as_table, "json": cat.as_json, "markdown": cat.as_markdown}[args.format]
        sys.stdout.write(render(catalog.metas()))
        return EXIT_OK
    if args.command == "explain":
        from runbench.render.catalog import explain

        ids = catalog.resolve(args.id)
        sys.stdout.write("\n".join(explain(catalog[i].meta) for i in ids))
        return EXIT_OK
    if args.command == "collect":
        snapshot = _collect(args)
        _write(snapshot.dumps() + "\n", args.output)
        return EXIT_OK
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    if args.command == "report":
        _policy(args, catalog)  # validate selection before reading anything
        _outputs(args)
        snapshot = _load_snapshot(args.snapshot)
    else:
        _policy(args, catalog)
        _outputs(args)
        snapshot = _collect(args)
        if args.snapshot:
            _write(snapshot.dumps() + "\n", args.snapshot)
    report = _evaluate(snapshot, args, catalog, snapshot.collected_at if args.command == "report" else started_at)
    _emit(report, args)
    return EXIT_OK if report.policy.met else EXIT_POLICY


def _load_snapshot(path: str) -> Snapshot:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read snapshot {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a runbench snapshot (not UTF-8 text)") from None
    try:
        return Snapshot.loads(text)
    except SnapshotFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    from runbench.collect.engine import CollectFailure

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"runbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UnknownCheckError as exc:
        print(f"runbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CollectFailure as exc:
        print(f"runbench: could not collect: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"runbench: hint: {exc.hint}", file=sys.stderr)
        return EXIT_COLLECT
    except KeyboardInterrupt:
        print("runbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
