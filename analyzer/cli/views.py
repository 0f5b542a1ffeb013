"""`ovs-analyzer tasks` and `ovs-analyzer services`: what Flower and `ovs monitor services` would
have shown, printed from a bundle. Both run the same analysis as `analyze` (same parsing, same
collectors) and print one of its tables; `analyzer/cli/app.py` registers them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from analyzer.cli.options import BundleArgument, JsonOption
from analyzer.collectors.identity import IdentityCollector
from analyzer.collectors.services import ServiceStates
from analyzer.collectors.tasks import PROBLEM_OUTCOMES, TaskHistory, task_rows
from analyzer.errors import UserError

_MESSAGE_WIDTH = 80


def _collected(bundle: Path, collector: Any) -> dict[str, Any]:
    """Run the analysis pipeline with one collector after identity, whose role and vPools it may use.

    No rules: the tables do not depend on them.
    """
    from analyzer.pipeline.analysis import analyze

    return analyze(bundle, [], collectors=[IdentityCollector(), collector]).sections[collector.name]


def tasks(
    bundle: BundleArgument,
    failed: Annotated[bool, typer.Option("--failed", help=f"Only {', '.join(PROBLEM_OUTCOMES)} tasks.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Only task names matching this regex.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Celery task history: one row per task with outcome, times (UTC), runtime and exception."""
    history = TaskHistory()
    _collected(bundle, history)
    table = history.table
    if failed:
        table = table.filter(pl.col("outcome").is_in(PROBLEM_OUTCOMES))
    if name:
        try:
            table = table.filter(pl.col("name").str.contains(name))
        except pl.exceptions.PolarsError:
            raise UserError(f"--name: not a valid regex: {name!r}") from None
    rows = task_rows(table)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'first seen (UTC)':<19}  {'outcome':<10} {'runtime':>9}  {'task':<45} {'id':<36}  host / worker")
    for row in rows:
        runtime = "" if row["runtime"] is None else f"{row['runtime']:.2f}s"
        worker = " / ".join(x for x in (row["host"], row["worker"]) if x)
        typer.echo(f"{(row['first_seen'] or '')[:19].replace('T', ' '):<19}  {row['outcome']:<10} {runtime:>9}  "
                   f"{row['name'] or '?':<45} {row['task_id'] or '(no id)':<36}  {worker}")
        if row["exception"] or row["message"]:
            text = ": ".join(x for x in (row["exception"], row["message"]) if x)
            typer.echo(f"{'':<21}{text[:_MESSAGE_WIDTH]}  [{row['evidence']}]")
        if row["output_error"]:
            typer.echo(f"{'':<21}printed: {row['output_error'][:_MESSAGE_WIDTH]}")
    outcomes = table.group_by("outcome").len().sort("outcome").iter_rows()
    typer.echo(f"{len(rows)} tasks" + "".join(f"; {n} {o}" for o, n in outcomes))


def services(bundle: BundleArgument, as_json: JsonOption = False) -> None:
    """Service states: last state, restarts, crashes, flapping; expected services without a trace."""
    section = _collected(bundle, ServiceStates())
    if as_json:
        typer.echo(json.dumps(section, indent=2))
        return
    typer.echo(f"node role: {section['role'] or 'unknown'}; vPools: {', '.join(section['vpools']) or 'none'}")
    typer.echo(f"{'service':<36} {'state':<12} {'since (UTC)':<19}  {'restarts':>8} {'crashes':>7} "
               f"{'failed':>6}  flags")
    for s in section["services"]:
        flags = ", ".join(f for f, on in (("flapping", s["flapping"]), ("expected", s["expected"])) if on)
        typer.echo(f"{s['unit']:<36} {s['state']:<12} {(s['since'] or '')[:19].replace('T', ' '):<19}  "
                   f"{s['restarts']:>8} {s['crashes']:>7} {s['failures']:>6}  {flags}")
    typer.echo(f"expected but no trace in the bundle: {', '.join(section['missing']) or 'none'}")
