"""`ovs-analyzer tasks` and `ovs-analyzer services`: what Flower and `ovs monitor services` would
have shown, printed from a bundle. Both run the same analysis as `analyze` (same parsing, same
collectors) and print one of its tables; `analyzer/cli/app.py` registers them. A bundle of bundles
is analyzed node by node, as by `analyze`: one task table for all its nodes (each row names its
host), one services table per node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from analyzer.cli.options import BundleArgument, JsonOption
from analyzer.cli.wording import counted, say
from analyzer.collectors.identity import IdentityCollector
from analyzer.collectors.protocol import BundleView
from analyzer.collectors.services import ServiceStates
from analyzer.collectors.tasks import PROBLEM_OUTCOMES, TaskHistory, task_rows
from analyzer.errors import UserError
from analyzer.frames import Packed


class _EveryTaskTable(TaskHistory):
    """The task history collector keeping the full table of every bundle it combines, by bundle (its
    `table` is only the last one's, and a bundle of bundles combines once per node)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[int, pl.DataFrame] = {}

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        section = super().combine(parts, view)
        self.tables[id(view.bundle)] = self.table
        return section


def _collected(bundle: Path, collector: Any) -> list[tuple[str, dict[str, Any], int]]:
    """Run the analysis pipeline with one collector after identity, whose role and vPools it may use:
    [(node bundle name, the collector's section, id of the node's bundle)], one per node.

    No rules: the tables do not depend on them.
    """
    from analyzer.pipeline.nodes import analyze_nodes

    nodes = analyze_nodes(bundle, [], collectors=[IdentityCollector(), collector])
    return [(a.bundle.name, a.sections[collector.name], id(a.bundle)) for _, a in nodes]


def tasks(
    bundle: BundleArgument,
    failed: Annotated[bool, typer.Option("--failed", help=f"Only {', '.join(PROBLEM_OUTCOMES)} tasks.")] = False,
    name: Annotated[str | None, typer.Option("--name", metavar="REGEX",
                                             help="Only task names matching this regex.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Celery task history: one row per task with outcome, times (UTC), runtime and exception."""
    history = _EveryTaskTable()
    nodes = _collected(bundle, history)
    table = pl.concat([history.tables[key] for _, _, key in nodes], how="diagonal_relaxed")
    if failed:
        table = table.filter(pl.col("outcome").is_in(PROBLEM_OUTCOMES))
    if name:
        try:
            table = table.filter(pl.col("name").str.contains(name))
        except pl.exceptions.PolarsError:
            raise UserError(f"--name: not a valid regex: {name!r}") from None
    rows = task_rows(table)
    if as_json:
        say(json.dumps(rows, indent=2))
        return
    say(f"{'first seen (UTC)':<19}  {'outcome':<10} {'runtime':>9}  {'task':<45} {'id':<36}  host / worker")
    for row in rows:
        runtime = "" if row["runtime"] is None else f"{row['runtime']:.2f}s"
        worker = " / ".join(x for x in (row["host"], row["worker"]) if x)
        say(f"{(row['first_seen'] or '')[:19].replace('T', ' '):<19}  {row['outcome']:<10} {runtime:>9}  "
                   f"{row['name'] or '?':<45} {row['task_id'] or '(no id)':<36}  {worker}")
        if row["exception"] or row["message"]:
            text = ": ".join(x for x in (row["exception"], row["message"]) if x)
            say(f"{'':<21}{text}  [{row['evidence']}]")  # whole: the end says the most, often
        if row["output_error"]:
            say(f"{'':<21}printed: {row['output_error']}")
    outcomes = table.group_by("outcome").len().sort("outcome").iter_rows()
    say(counted(len(rows), "task") + "".join(f"; {n} {o}" for o, n in outcomes))


def services(bundle: BundleArgument, as_json: JsonOption = False) -> None:
    """Service states: last state, restarts, crashes, flapping; expected services without a trace."""
    nodes = _collected(bundle, ServiceStates())
    if as_json:  # one node: its section; a bundle of bundles: one per node, named
        doc = nodes[0][1] if len(nodes) == 1 else [{"bundle": name, **section} for name, section, _ in nodes]
        say(json.dumps(doc, indent=2))
        return
    for name, section, _ in nodes:
        if len(nodes) > 1:
            say(f"== {name}")
        _print_services(section)


def _print_services(section: dict[str, Any]) -> None:
    say(f"node role: {section['role'] or 'unknown'}; vPools: {', '.join(section['vpools']) or 'none'}")
    say(f"{'service':<36} {'state':<12} {'since (UTC)':<19}  {'restarts':>8} {'crashes':>7} "
               f"{'failed':>6}  flags")
    for s in section["services"]:
        flags = ", ".join(f for f in ("flapping" if s["flapping"] else "", _down_yet_expected(s)) if f)
        say(f"{s['unit']:<36} {s['state']:<12} {(s['since'] or '')[:19].replace('T', ' '):<19}  "
                   f"{s['restarts']:>8} {s['crashes']:>7} {s['failures']:>6}  {flags}")
    say(f"expected but no trace in the bundle: {', '.join(section['missing']) or 'none'}")


def _down_yet_expected(service: dict[str, Any]) -> str:
    """Nearly every service on a node is an expected one, so "expected" alone says nothing; what an
    engineer looks for is an expected service that is not running at the end of the logs, and why
    this node should run it (its role, or a vPool it serves)."""
    if not service.get("expected_for") or service["state"] == "running":
        return ""
    return f"{service['state']}, but expected for {service['expected_for']}"
