"""The `ovs-analyzer` command line.

Exit codes (the contract scripts and triage pipelines rely on):
  0  analyzed; no finding at or above --fail-on
  2  unusable input or arguments (one-line error on stderr, never a traceback)
  3  analyzed, and a finding at or above --fail-on SEVERITY was found (analyze, triage, diff);
     `rules test`: an example failed
  4  triage: some inputs could not be analyzed
  1  internal error (a bug: one line on stderr; --debug shows the traceback)
  130 interrupted
  141 stdout closed before all was printed (`| head`); outputs in OUT are written whole
Each command's help lists only the codes it can give (`help.epilog`).
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from analyzer import __version__, _core
from analyzer.cli import views as cli_views
from analyzer.cli.help import HelpCommand, HelpGroup, epilog
from analyzer.cli.options import (
    AlignClocksOption,
    BundleArgument,
    CapOption,
    ConfigOption,
    OutOption,
    RedactOption,
    RulesOption,
    TimingsOption,
)
from analyzer.cli.wording import counted, say
from analyzer.detection.findings import verdict, worst_severity
from analyzer.detection.loader import default_rule_dirs, load_pack, load_rule_file, load_rules
from analyzer.detection.rule import SEVERITIES
from analyzer.errors import INTERNAL_ERRORS, UserError, machine_problem
from analyzer.isotime import generated_stamp
from analyzer.outputs.atomic import output_folder, write_together
from analyzer.pipeline.rule_examples import run_rule_examples

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_FINDINGS, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_STDOUT_CLOSED = 141
_EPILOGS = {
    "tool": epilog("0 done", "3 a finding at or above --fail-on (analyze, triage, diff) or a failed example "
                   "(rules test)", "4 some inputs unreadable (triage)", writes=True),
    "analyze": epilog("0 analyzed, no finding at or above --fail-on", "3 a finding at or above --fail-on",
                      writes=True),
    "triage": epilog("0 every input analyzed, no finding at or above --fail-on",
                     "3 a finding at or above --fail-on in some bundle",
                     "4 some inputs unreadable (named on stderr), none at or above --fail-on", writes=True),
    "diff": epilog("0 compared, nothing appeared or recurred at or above --fail-on",
                   "3 a finding that appeared or recurred is at or above --fail-on", writes=True),
    "rules": epilog("0 done", "3 an example failed (rules test)"),
    "rules test": epilog("0 every example passed", "3 an example failed"),
    "writes": epilog("0 done", writes=True),
    "plain": epilog("0 done"),
}

_HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    name="ovs-analyzer",
    help="Offline analyzer for Open vStorage support bundles (`ovs collect logs` tarballs).",
    epilog=_EPILOGS["tool"],
    cls=HelpGroup,
    add_completion=True,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings=_HELP_OPTIONS,
)
rules_app = typer.Typer(help="List, show, test and scaffold rules.", no_args_is_help=True,
                        context_settings=_HELP_OPTIONS, cls=HelpGroup, epilog=_EPILOGS["rules"])
app.add_typer(rules_app, name="rules")


def _print_version(value: bool) -> None:
    if value:
        say(f"ovs-analyzer {__version__} (core {_core.version()})")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit.",
    )] = False,
) -> None:
    """Offline analyzer for Open vStorage support bundles (`ovs collect logs` tarballs)."""


def _warn_about_reading(name: str, warnings: list[str], shown: int = 3) -> None:
    """Reading warnings (files lost to damage, cut members, caps hit) on stderr too, not only in the
    report: an engineer must not take a report of half a bundle for the whole of it."""
    for warning in warnings[:shown]:
        say(f"ovs-analyzer: warning: {name}: {' '.join(warning.split())}", err=True)
    if len(warnings) > shown:
        say(f"ovs-analyzer: warning: {name}: {counted(len(warnings) - shown, 'more reading warning')} in the "
                   "report", err=True)


def _check_fail_on(fail_on: str | None) -> None:
    if fail_on is not None and fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}, not {fail_on!r}")


def _exit_if_at_or_above(worst: str | None, fail_on: str | None) -> None:
    """The `--fail-on` contract of every command: exit 3 when the worst severity reaches it."""
    if fail_on and worst and SEVERITIES.index(worst) >= SEVERITIES.index(fail_on):
        raise typer.Exit(EXIT_FINDINGS)


@app.command(cls=HelpCommand, epilog=_EPILOGS["analyze"])
def analyze(
    bundle: BundleArgument,
    out: OutOption = Path("out"),
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY",
        help=f"Exit 3 when a finding is at or above this severity ({'|'.join(SEVERITIES)}).",
    )] = None,
    rules: RulesOption = None,
    config: ConfigOption = None,
    redact: RedactOption = False,
    align_clocks: AlignClocksOption = False,
    timings: TimingsOption = False,
    cap: CapOption = None,
) -> None:
    """Analyze one bundle: write report.html, findings.json, findings.csv and summary.md into OUT.

    A bundle of bundles (an archive or folder of per-node bundles, all nodes of a cluster sent at
    once) gets one report per node, in OUT/<node bundle name>/, and the cluster report of all of
    them in OUT.
    """
    from analyzer.batch.upload import write_upload_report
    from analyzer.cli.progress import bundle_progress
    from analyzer.collectors.cluster_evidence import ClusterEvidence
    from analyzer.outputs.redact import Redactor, named_hosts, output_folders, seal
    from analyzer.outputs.report import write_outputs
    from analyzer.pipeline.nodes import analyze_nodes
    from analyzer.pipeline.registry import default_collectors
    from analyzer.reading.bundle import Caps
    from analyzer.timings import recording, stage

    _check_fail_on(fail_on)
    output_folder(out, bundle)
    with recording() as spent:
        with stage("load rules"):
            loaded = load_pack(rules or [], config)
        settings = {"fail_on": fail_on, "rules": len(loaded),
                    "extra_rule_dirs": [str(p) for p in rules or []], "config": str(config) if config else None,
                    "redact": redact}
        with bundle_progress(bundle) as progress:
            analyses = analyze_nodes(bundle, loaded, Caps.from_options(cap or []), progress=progress,
                                     node_collectors=[*default_collectors(), ClusterEvidence()])
        worsts, told = [], []
        redactor = Redactor(hosts=named_hosts([bundle])) if redact else None  # one map for every node
        generated_at = datetime.now(UTC)
        targets = dict(zip(output_folders(out, analyses, redactor), (a for _, a in analyses), strict=True))
        for target, analysis in targets.items():
            with stage("report"):
                paths = write_outputs(analysis, target, settings, redactor=redactor, generated_at=generated_at)
            worst = worst_severity(analysis.findings)
            worsts.append(worst)
            judged = "inconclusive: most rules had nothing to read" \
                if verdict(analysis.findings, analysis.coverage) == "inconclusive" else f"worst {worst or 'none'}"
            told.append(f"{analysis.bundle.name}: {counted(len(analysis.findings), 'finding')}, {judged}; "
                        f"{counted(analysis.lines, 'line')} in {counted(len(analysis.members), 'member')}")
            told += [f"  {kind:<9} {path}" for kind, path in paths.items()]

        def write_cluster() -> dict[str, Any]:
            return write_upload_report(bundle, [(t, a) for t, a in targets.items() if t != out], out,
                                       align=align_clocks, generated_at=generated_stamp(generated_at),
                                       redactor=redactor)

        if len(analyses) > 1:
            with stage("cluster report"):
                entry = write_cluster()
            told.append(f"cluster {entry['name']}: {counted(len(entry['hosts']), 'node')}, worst {entry['worst']}, "
                        f"{counted(entry['incidents'], 'incident')} across nodes")
            told += [f"  {kind:<9} {out / name}" for kind, name in (
                ("report", "report.html"), ("findings", "findings.json"), ("csv", "findings.csv"),
                ("summary", "summary.md"))]
        if redactor is not None:

            def rewrite(folder: Path) -> None:
                if folder in targets:
                    write_outputs(targets[folder], folder, settings, redactor=redactor, generated_at=generated_at)
                elif folder == out and len(analyses) > 1:  # scrubbed with every name the run knows by now
                    write_cluster()

            with stage("redaction check"):
                told.append(f"redaction map (private, never attach it): {seal(out, redactor, targets, rewrite)}")
    # printed once all is written: a reader that stops early (`| head`) costs no output file
    say("\n".join(told))
    for _, analysis in analyses:
        _warn_about_reading(analysis.bundle.name, analysis.bundle.warnings)
    if timings:
        say(spent.table(), err=True)
    _exit_if_at_or_above(max((w for w in worsts if w), key=SEVERITIES.index, default=None), fail_on)


@app.command(cls=HelpCommand, epilog=_EPILOGS["plain"])
def inventory(
    bundle: BundleArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")] = False,
    cap: CapOption = None,
) -> None:
    """Say what is in a bundle: every member (kind, era, lines, time span, rotation set, warnings) and identity."""
    from analyzer.cli.inventory_view import print_inventory
    from analyzer.pipeline.inventory import inventory_document
    from analyzer.reading.bundle import Caps

    print_inventory(inventory_document(bundle, Caps.from_options(cap or [])), as_json)


@app.command(cls=HelpCommand, epilog=_EPILOGS["triage"])
def triage(
    inputs: Annotated[list[str], typer.Argument(
        metavar="INPUT",
        help="Bundles, globs and folders. A folder is searched recursively for archives (.tar, .tgz, .tar.gz, "
             ".tar.xz, .tar.bz2 or any other .tar.*, .zip) and unpacked bundles (folders holding var/log); "
             "a file named here is taken whatever its name.",
    )],
    out: OutOption = Path("out"),
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", metavar="N",
                                             help="Parallel bundles (default: the cores).")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY", help="Exit 3 when a finding in any bundle is at or above this severity.",
    )] = None,
    executor: Annotated[str, typer.Option("--executor", metavar="local|dask",
                                          help="Where bundles run.")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS",
                                                  help="Dask scheduler address (tcp://HOST:8786).")] = None,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="NAME",
        help="Treat every bundle as one cluster of this name (default: recognised from the logs).",
    )] = None,
    align_clocks: AlignClocksOption = False,
    rules: RulesOption = None,
    config: ConfigOption = None,
    redact: RedactOption = False,
) -> None:
    """Analyze many bundles in parallel: one report folder each, OUT/index.html, triage.json, triage.csv."""
    from analyzer.batch.triage import summary
    from analyzer.batch.triage import triage as run_triage

    _check_fail_on(fail_on)
    batch = run_triage(inputs, output_folder(out), workers=jobs, executor=executor, scheduler=scheduler,
                       rule_dirs=tuple(rules or ()), config=config, fail_on=fail_on, cluster=cluster,
                       align_clocks=align_clocks, redact=redact)
    errors = sum(r["status"] == "error" for r in batch.rows)
    if errors == len(batch.rows):
        reasons = {row["error"] for row in batch.rows}
        why = f": {reasons.pop()}" if len(reasons) == 1 else ""  # the same for all: a full disk, say
        raise UserError(f"none of the {errors} bundle(s) could be analyzed{why}; the rows are in {out / 'triage.json'}")
    worst = batch.worst_severity()
    copies = summary(batch)["copies"]
    copied = f", {copies} a copy of another" if copies else ""
    say(f"{counted(len(batch.rows), 'bundle')} ({errors} unreadable{copied}), "
        f"{counted(len(batch.clusters), 'cluster')}, worst {worst or 'none'} -> {out / 'index.html'}")
    _exit_if_at_or_above(worst, fail_on)
    if errors:  # a batch that lost inputs is not a clean run, whatever the others found
        for row in batch.rows:
            if row["status"] == "error":
                say(f"ovs-analyzer: unreadable: {row['bundle']}: {row['error']}", err=True)
        raise typer.Exit(EXIT_PARTIAL)


@app.command("diff", cls=HelpCommand, epilog=_EPILOGS["diff"])
def diff_command(
    old: Annotated[Path, typer.Argument(metavar="OLD",
                                        help="Older side: bundle, findings.json, report or triage folder.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="Newer side, of the same node or cluster.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", metavar="DIR",
                                             help="Also write diff.json and diff.md here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON instead of Markdown.")] = False,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY",
        help="Exit 3 when a finding that appeared, or persisted and recurred, is at or above this severity.",
    )] = None,
    rules: RulesOption = None,
    config: ConfigOption = None,
    redact: RedactOption = False,
) -> None:
    """Findings appeared, resolved and persisting between two bundles of the same node or cluster.

    With --redact, both sides share one map (written to the --out folder, which it needs): a node
    keeps its pseudonym from the old side to the new, and from a side that is a redacted output, whose
    run the diff continues.
    """
    import json

    from analyzer.batch.diff import compare, load_side, markdown, worst_open
    from analyzer.outputs.redact import continuing, scrub, seal

    _check_fail_on(fail_on)
    if redact and out is None:
        raise UserError("--redact needs --out DIR: the private map of the pseudonyms is written there")
    loaded = load_pack(rules or [], config)
    sides = [load_side(old, loaded), load_side(new, loaded)]
    redactor = continuing([old, new]) if redact else None
    if redactor is not None:  # before comparing: findings match on hosts, a redacted side's are pseudonyms
        redactor.learn(host for side in sides for host in side["hosts"])
        sides = [scrub(side, redactor) for side in sides]
    result = compare(*sides)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if out is not None:
        output_folder(out)
        write_together({out / "diff.json": text, out / "diff.md": markdown(result)})
    if out is not None and redactor is not None:
        say(f"redaction map (private, never attach it): {seal(out, redactor)}", err=True)
    say(text if as_json else markdown(result), nl=False)
    worst = worst_open(result)
    _exit_if_at_or_above(worst, fail_on)


@app.command(cls=HelpCommand, epilog=_EPILOGS["writes"])
def parse(
    bundle: BundleArgument,
    out: OutOption = Path("out"),
    redact: RedactOption = False,
    timings: TimingsOption = False,
) -> None:
    """Parse every member into one event table: write OUT/events.parquet (schema in parsers/README.md).

    A bundle of bundles gets one table per node, in OUT/<node bundle name>/events.parquet.
    """
    from analyzer.cli.progress import bundle_progress
    from analyzer.outputs.redact import Redactor, seal
    from analyzer.pipeline.event_table import write_events
    from analyzer.timings import recording, stage

    redactor, private = Redactor() if redact else None, None
    with recording() as spent:
        with bundle_progress(bundle, doing="parsing") as progress:
            tables = write_events(bundle, output_folder(out, bundle), progress=progress, redactor=redactor)
        if redactor is not None:
            with stage("redaction check"):
                private = seal(out, redactor, [t.path.parent for t in tables])
    for written in tables:
        name = bundle.name if len(tables) == 1 else written.path.parent.name
        say(f"{name}: {written.records:,} records ({written.unparsed:,} unparsed, "
                   f"{written.duplicates:,} journal copies) -> {written.path}")
        _warn_about_reading(name, list(written.warnings))
    if private is not None:
        say(f"redaction map (private, never attach it): {private}")
    if timings:
        say(spent.table(), err=True)


@rules_app.command("list", cls=HelpCommand, epilog=_EPILOGS["plain"])
def rules_list(rules: RulesOption = None, config: ConfigOption = None) -> None:
    """One line per rule: id, severity, kind, component, title (switched-off rules marked)."""
    loaded = sorted(load_pack(rules or [], config), key=lambda r: (r.component, r.id))
    say(f"{'id':<40} {'severity':<8} {'kind':<9} {'component':<12} title")
    for rule in loaded:
        state = "" if rule.enabled else "  [off]"
        say(f"{rule.id:<40} {rule.severity:<8} {rule.kind:<9} {rule.component:<12} {rule.title}{state}")


@rules_app.command("show", cls=HelpCommand, epilog=_EPILOGS["plain"])
def rules_show(rule_id: Annotated[str, typer.Argument(metavar="RULE_ID", help="Rule id, e.g. VOLUME_HALTED.")],
               rules: RulesOption = None, config: ConfigOption = None) -> None:
    """Print a rule file, with what the engine made of it."""
    by_id = {r.id: r for r in load_pack(rules or [], config)}
    if rule_id not in by_id:
        raise UserError(f"no rule {rule_id!r}; `ovs-analyzer rules list` shows them all")
    rule = by_id[rule_id]
    entities = ", ".join(rule.entities) or "none (one finding per bundle)"
    say(f"# {rule.source_file}\n# kind {rule.kind}, severity {rule.severity}"
               f"{'' if rule.enabled else ' (switched off)'}, one finding per: {entities}\n")
    say(Path(rule.source_file).read_text(encoding="utf-8"))


@rules_app.command("scaffold", cls=HelpCommand, epilog=_EPILOGS["writes"])
def rules_scaffold(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="The bundle whose unexplained errors to mine.")],
    template: Annotated[int | None, typer.Option("--template", metavar="N",
                                                 help="Rank of the template to make a rule of.")] = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", metavar="FILE",
                                             help="Rule file to write (default ./<ID>.yaml).")] = None,
    rules: RulesOption = None,
    config: ConfigOption = None,
) -> None:
    """List the errors no rule explains; with --template N, write a ready-to-edit rule for one."""
    from analyzer.detection.scaffold import scaffold_rule
    from analyzer.pipeline.analysis import analyze as run_analysis

    loaded = load_pack(rules or [], config)
    templates = run_analysis(bundle, loaded).sections["unknown_errors"]["templates"]
    if template is None:
        for t in templates:
            hosts = counted(len(t["hosts"]), "host")
            say(f"{t['rank']:>3}  {t['count']:>6}x  {hosts:<8}  {t['template'][:100]}")
        say(f"{counted(len(templates), 'template')}; write one with --template N")
        return
    if not 1 <= template <= len(templates):
        raise UserError(f"--template must be between 1 and {len(templates)} for this bundle")
    chosen = templates[template - 1]
    near_miss = next((t["examples"][0] for t in templates if t is not chosen), None)
    rule_id, text = scaffold_rule(chosen, next(iter(chosen["producers"]), None), near_miss, bundle.name)
    target = out or Path(f"{rule_id}.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    failures = run_rule_examples([load_rule_file(target)], loaded)
    for failure in failures:
        say(failure.describe(), err=True)
    say(f"wrote {target} ({counted(len(chosen['examples']), 'real example')}; "
               f"{'examples pass' if not failures else 'EXAMPLES FAIL: edit the regex'})")


@rules_app.command("test", cls=HelpCommand, epilog=_EPILOGS["rules test"])
def rules_test(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATH",
                                                       help="Rule files or folders (default: all).")] = None,
) -> None:
    """Run every rule's and causal link's examples through the real parser and matcher; exit 3 on a failure."""
    from analyzer.detection.causes import LINKS_FOLDER, load_links, load_links_file
    from analyzer.pipeline.rule_examples import run_link_examples

    loaded, links = [], []
    for path in paths or default_rule_dirs():
        if path.is_dir():
            loaded.extend(load_rules([path]))
            links.extend(load_links([path]))
        elif path.parent.name == LINKS_FOLDER:
            links.extend(load_links_file(path))
        else:
            loaded.append(load_rule_file(path))
    pack = load_pack()
    failures = [*run_rule_examples(loaded, pack),
                *run_link_examples(links, [*pack, *(r for r in loaded if r.id not in {p.id for p in pack})])]
    for failure in failures:
        say(failure.describe(), err=True)
    examples = sum(len(r.examples_match) + len(r.examples_no_match) for r in loaded)
    link_examples = sum(len(link.linked) + len(link.not_linked) for link in links)
    say(f"{counted(len(loaded), 'rule')}, {counted(examples, 'example')}; {counted(len(links), 'causal link')}, "
               f"{counted(link_examples, 'example')}: {len(failures)} failed")
    if failures:
        raise typer.Exit(EXIT_FINDINGS)


app.command("tasks", cls=HelpCommand, epilog=_EPILOGS["plain"])(cli_views.tasks)
app.command("services", cls=HelpCommand, epilog=_EPILOGS["plain"])(cli_views.services)


@app.command(cls=HelpCommand, epilog=_EPILOGS["plain"])
def unredact(
    map_file: Annotated[Path, typer.Argument(metavar="MAP", help="The run's redaction-map.json.")],
    file: Annotated[Path | None, typer.Argument(metavar="FILE",
                                                help="Redacted text to restore (default: standard input).")] = None,
) -> None:
    """Print redacted text with every pseudonym of MAP turned back into the original, exactly."""
    from analyzer.outputs.redact import read_map
    from analyzer.outputs.redact import unredact as restore

    tokens = read_map(map_file)
    try:
        data = file.read_bytes() if file is not None else sys.stdin.buffer.read()
    except OSError as exc:
        raise UserError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    sys.stdout.buffer.write(restore(data.decode("utf-8", errors="surrogateescape"), tokens)
                            .encode("utf-8", errors="surrogateescape"))


@app.command(cls=HelpCommand, epilog=_EPILOGS["plain"])
def version() -> None:
    """Print the version."""
    say(f"ovs-analyzer {__version__} (core {_core.version()})")


def main(argv: list[str] | None = None) -> int:
    """Entry point: every error becomes one line on stderr and a documented exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("OVS_ANALYZER_DEBUG"))
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name="ovs-analyzer", standalone_mode=False)
    except UserError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:  # outside a command: while parsing the arguments
        _fail("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        # click ends a command whose stdout was closed (`| head`) with exit 1, a bug's code; the reader
        # had what it wanted, so end quietly as git does (killed by SIGPIPE: 128 + 13)
        if isinstance(exc.__context__, BrokenPipeError):
            return EXIT_STDOUT_CLOSED
        raise
    except INTERNAL_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # typer vendors click (typer._click): matched by name
            return EXIT_OK  # a bare `ovs-analyzer` (or `ovs-analyzer rules`) asked for its help, printed already
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click usage errors
            _fail(exc.format_message())
            return EXIT_USAGE
        if (problem := machine_problem(exc)) is not None:
            _fail(problem)
            return EXIT_USAGE
        if debug:
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        return EXIT_INTERNAL
    if code == EXIT_INTERRUPTED:  # typer ends a command's KeyboardInterrupt so, without a word
        _fail("interrupted")
    return code if isinstance(code, int) else EXIT_OK


def _fail(message: str) -> None:
    first_line = " ".join(message.split())
    say(f"ovs-analyzer: error: {first_line}", err=True)


if __name__ == "__main__":
    sys.exit(main())
