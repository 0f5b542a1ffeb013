"""Celery task history, rebuilt offline: one row per task from worker, framework and journal lines.

Flower and the API's /api/tasks/ only know tasks while they run; the bundle still holds what
celery and the framework logged. The signatures that recognise each task event are data
(`parsers/knowledge/tasks.yaml`); this module applies them to each member's messages (one
literal pre-filter, then each signature's regex over the few candidates) and, after the last
member, folds the events into one row per task id with its outcome, times and exception.

Ensure-single lines name a task but not its id: they are tied to the task of that name on
that host that was running at that moment, or, when celery's own lines are not in the
bundle, grouped into runs of their own ("scheduled" opens a run, a finish closes it). What a
task printed (`celery.redirected` lines) is tied to it through the pool process that accepted
it, so a failed task shows the error its own output carried.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.datafiles import load_mapping
from analyzer.detection.rule import TASK_PROBLEMS as PROBLEM_OUTCOMES
from analyzer.detection.rule import Rule
from analyzer.errors import UserError
from analyzer.frames import Packed, gather_rows, unpack_all
from analyzer.isotime import iso
from analyzer.parsing.knowledge import examples_of, regex_groups, shipped_once
from analyzer.parsing.literals import contains_any_literal, literal_masks
from analyzer.parsing.timezones import fill_offsets

STEPS = ("received", "started", "retried", "finished")
TASK_GROUPS = ("task_id", "name", "runtime", "exc_class", "exc_message", "worker_pid")
UNFINISHED = "unfinished"
#: A name-only line (ensure single) belongs to a task that was last heard of at most this long before.
_TIE_SLACK = pl.duration(seconds=2)
#: Rows a section lists per kind; the per-name table always covers every task.
SECTION_ROWS = 500
_TRACEBACK_FRAME = r'File "(?P<file>[^"\n]+)", line (?P<lineno>\d+), in (?P<func>[^\n]+)'
_TRACEBACK_LAST = r"\n(?P<cls>[A-Za-z_][\w.]*): ?(?P<msg>[^\n]*)\s*$"
_TIME = "%Y-%m-%dT%H:%M:%S.%6fZ"
#: The columns of a record that a task event keeps (besides what its signature captures).
_KEPT = ("host", "ts_local", "utc_offset", "source", "line", "thread", "raw")
#: What folding a task's events reads besides the columns that place them (host, ts, step, id, name).
_FOLDED = ("worker_pid", "thread", "ran", "runtime", "exc_class", "exc_message", "tb_class", "tb_message", "frame")
_ROW = "_row"
#: What a signature's row has that a printed-output row lacks.
_SIGNATURE_COLUMNS = ("thread", "record", "outcome", *TASK_GROUPS)
#: What a task's row says from its events: the pool process, the exception and its message
#: (`thread` is null-typed in a member whose lines name no thread, hence the cast).
_WORKER = pl.coalesce(pl.format("pid {}", "worker_pid"),
                      pl.when(pl.col("thread").cast(pl.String).str.contains(r"^(?:Pool)?Worker-\d+$")).then("thread"))
_EXCEPTION = pl.coalesce(pl.col("exc_class"), pl.col("tb_class"))
_EXC_MESSAGE = pl.col("exc_message").str.strip_chars().str.strip_chars("'\"")
_MESSAGE = pl.coalesce(pl.when(_EXC_MESSAGE != "").then(_EXC_MESSAGE), pl.col("tb_message"))


@dataclass(frozen=True)
class TaskSignature:
    """One kind of log line about a task, and what it says."""

    id: str
    step: str
    outcome: str | None
    literal: str
    regex: str
    groups: tuple[str, ...]
    examples: tuple[dict[str, Any], ...]
    #: False when the line says the task never ran (ensure single gave up starting it): no runtime.
    ran: bool = True


@dataclass(frozen=True)
class TaskKnowledge:
    """Every signature, and the outcome order (a later outcome wins over an earlier one)."""

    outcomes: tuple[str, ...]
    signatures: tuple[TaskSignature, ...]
    source_file: str
    #: What marks a task's own output re-logged by its pool process (celery.redirected).
    output_literal: str = ""


@shipped_once("tasks")
def load_task_knowledge(path: Path) -> TaskKnowledge:
    """Read and validate `parsers/knowledge/tasks.yaml` (or `path`)."""
    doc = load_mapping(path, "task signatures")
    outcomes = tuple(str(o) for o in doc.get("outcomes") or ())
    if not outcomes or UNFINISHED in outcomes:
        raise UserError(f"{path}: 'outcomes' lists the finished outcomes, lowest precedence first")
    signatures = []
    for i, item in enumerate(doc.get("signatures") or ()):
        where = f"signature {item.get('id', i + 1) if isinstance(item, dict) else i + 1}"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "literal", "regex")):
            raise UserError(f"{path}: {where} needs id, literal and regex strings")
        step, outcome = item.get("step"), item.get("outcome")
        if step not in STEPS:
            raise UserError(f"{path}: {where}: step must be one of {', '.join(STEPS)}")
        if (step == "finished") != (outcome is not None) or (outcome is not None and outcome not in outcomes):
            raise UserError(f"{path}: {where}: a finished step needs an outcome from 'outcomes', other steps none")
        if not isinstance(item.get("ran", True), bool) or (item.get("ran") is False and step != "finished"):
            raise UserError(f"{path}: {where}: 'ran' is true or false, and only a finished step says it")
        groups = regex_groups(path, where, item["regex"], TASK_GROUPS)
        if not {"task_id", "name"} & set(groups):
            raise UserError(f"{path}: {where}: the regex must capture task_id or name")
        signatures.append(TaskSignature(id=item["id"], step=step, outcome=outcome, literal=item["literal"],
                                        regex=item["regex"], groups=groups, ran=item.get("ran", True),
                                        examples=examples_of(path, where, item.get("examples"))))
    if not signatures:
        raise UserError(f"{path}: no signatures")
    output = doc.get("output") or {}
    return TaskKnowledge(outcomes=outcomes, signatures=tuple(signatures), source_file=str(path),
                         output_literal=str(output.get("literal", "")))


def task_events(events: pl.DataFrame, knowledge: TaskKnowledge) -> pl.DataFrame:
    """One row per record a signature recognises (step, outcome and the fields it captured), plus
    one `output` row per line a task printed (pid, message, whether its own level was an error).

    Only the few columns a task event keeps are filtered (a member's frame is wide and its text
    big), and each signature's regex runs only over the candidates holding its literal."""
    message = pl.col("message")
    literals = sorted({s.literal for s in knowledge.signatures})
    candidates = events.select(*_KEPT, "message").filter(contains_any_literal(message, literals).fill_null(False))
    holding = literal_masks(candidates, "message", literals)
    parts = []
    for sig in knowledge.signatures:
        if sig.literal not in holding:
            continue
        # one regex pass: the whole match is captured too, so a line it does not match has none
        found = pl.col("_g").struct.field
        rows = candidates.filter(holding[sig.literal]) \
            .with_columns(message.str.extract_groups(f"(?P<_match>{sig.regex})").alias("_g")) \
            .filter(found("_match").is_not_null())
        if rows.height == 0:
            continue
        parts.append(rows.select(
            *_KEPT,
            _record(sig.outcome),
            pl.lit(sig.id).alias("signature"), pl.lit(sig.step).alias("step"),
            pl.lit(sig.outcome, dtype=pl.String).alias("outcome"), pl.lit(sig.ran).alias("ran"),
            *[(found(g) if g in sig.groups else pl.lit(None, dtype=pl.String)).alias(g) for g in TASK_GROUPS],
        ))
    if knowledge.output_literal:
        printed = events.select("host", "ts_local", "utc_offset", "source", "line", "raw", "pid", "level", "message") \
            .filter(pl.col("raw").str.contains(knowledge.output_literal, literal=True).fill_null(False))
        parts.append(printed.select(
            "host", "ts_local", "utc_offset", "source", "line", "raw", pl.col("pid").alias("output_pid"),
            pl.lit("output").alias("signature"), pl.lit("output").alias("step"),
            pl.col("level").cast(pl.String).is_in(["error", "critical"]).alias("output_is_error"),
            pl.col("message").alias("output_message"),
        ))
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame()
    found_rows = pl.concat(parts, how="diagonal_relaxed")
    # printed output alone still gives the columns of task events
    found_rows = found_rows.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in _SIGNATURE_COLUMNS
                                         if c not in found_rows.columns)
    if "ran" not in found_rows.columns:
        found_rows = found_rows.with_columns(pl.lit(None, dtype=pl.Boolean).alias("ran"))
    # only the few records that carry a traceback pay for reading it
    has_traceback = pl.col("raw").str.contains("\nTraceback (most recent call last):", literal=True)
    frame = pl.col("raw").str.extract_all(_TRACEBACK_FRAME).list.last().str.extract_groups(_TRACEBACK_FRAME)
    last = pl.col("raw").str.extract_groups(_TRACEBACK_LAST)
    traceback = {
        "frame": pl.format("{}:{} in {}", frame.struct.field("file"), frame.struct.field("lineno"),
                           frame.struct.field("func")),
        "tb_class": last.struct.field("cls"),
        "tb_message": last.struct.field("msg"),
    }
    with_traceback = found_rows.filter(has_traceback)
    if with_traceback.height == 0:  # the usual case: no copy, the same columns
        return found_rows.with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in traceback).drop("raw")
    return pl.concat([found_rows.filter(~has_traceback), with_traceback.with_columns(**traceback)],
                     how="diagonal_relaxed").drop("raw")


def _record(outcome: str | None) -> pl.Expr:
    """The line kept as evidence. Succeeded tasks are most task lines of a busy node and nobody
    reads their text, so only their source:line is kept."""
    if outcome == "succeeded":
        return pl.lit(None, dtype=pl.String).alias("record")
    return pl.col("raw").str.split("\n").list.first().alias("record")


def task_table(events: pl.DataFrame, outcomes: tuple[str, ...], kept: pl.Series | None = None,
               records: Callable[[pl.Series], pl.Series] | None = None) -> pl.DataFrame:
    """Fold task events (with UTC `ts`) into one row per task, newest problems easy to find;
    `kept`: the row numbers of the events to fold, in that order (by default all of them);
    `records`: the `record` of the events at some row numbers, when `events` lack that column.

    Which task each event belongs to, and the order events are folded in, is worked out on the
    few columns that decide it; the others are gathered once, in that order (a busy node logs
    hundreds of thousands of task events: every full copy of them would be large)."""
    # gathering rows from one chunk is much faster than from the parts' many, and these are narrow
    placed = events.select("host", "ts", "step", "task_id", "name").rechunk().with_row_index(_ROW)
    if kept is not None:
        placed = placed[kept]
    placed = placed.filter(pl.col("ts").is_not_null())
    output = events[placed.filter(pl.col("step") == "output")[_ROW]]
    for column in ("output_pid", "output_message"):  # present only when some task printed something
        if column not in output.columns:
            output = output.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    placed = placed.filter(pl.col("step") != "output")
    # stable: events of one instant keep the parts' order, so a fold's "first" is always the same event
    order = pl.concat([placed.filter(pl.col("task_id").is_not_null()).with_columns(pl.col("task_id").alias("key")),
                       _tie_by_name(placed)], how="diagonal_relaxed").sort("ts", maintain_order=True)
    del placed
    keyed = order.select(_ROW, "key", "task_id", "name", "host", "ts", "step").hstack(
        [events[c].rechunk().gather(order[_ROW]) for c in _FOLDED]  # one column at a time: a narrow peak
    ).with_columns(rank=_rank(events["outcome"].rechunk().gather(order[_ROW]), outcomes))
    del order
    ts_of = lambda step: pl.col("ts").filter(pl.col("step") == step)  # noqa: E731
    # the event that decided the outcome is the task's evidence: the highest rank, the latest of
    # those, and of events at that instant the first read (the original, not rsyslog's copy)
    decisive_of = lambda column: pl.col(column).sort_by(  # noqa: E731
        "rank", "ts", _ROW, descending=[False, False, True], nulls_last=False).last()
    decisive = decisive_of(_ROW)
    rows = keyed.group_by("key").agg(
        pl.col("task_id").drop_nulls().first(),
        pl.col("name").drop_nulls().first(),
        pl.col("host").drop_nulls().first(),
        _WORKER.drop_nulls().first().alias("worker"),
        ts_of("received").min().alias("received"),
        ts_of("started").min().alias("started"),
        ts_of("finished").max().alias("finished"),
        pl.col("ts").min().alias("first_seen"),
        (pl.col("step") == "retried").sum().cast(pl.UInt32).alias("retries"),
        pl.col("rank").max(),
        pl.col("runtime").cast(pl.Float64, strict=False).drop_nulls().last().alias("logged_runtime"),
        _EXCEPTION.filter(pl.col("step") == "finished").drop_nulls().first().alias("exception"),
        _MESSAGE.filter(pl.col("step") == "finished").drop_nulls().first().alias("message"),
        decisive_of("ran").alias("ran"),  # a task ensure single gave up starting never ran: no runtime
        decisive.alias("evidence"), decisive.alias("record"),  # row numbers until their text is gathered below
        pl.col("frame").drop_nulls().last().alias("traceback"),
        pl.col("worker_pid").drop_nulls().first(),
    )
    del keyed
    picked = rows["evidence"]
    rows = rows.with_columns(events.select(
        pl.format("{}:{}", pl.col("source").gather(picked), pl.col("line").gather(picked)).alias("evidence"),
        pl.col("record").gather(picked) if records is None else pl.lit(records(picked))))
    rows = _with_output(rows, output)
    span = (pl.col("finished") - pl.coalesce("started", "received")).dt.total_microseconds() / 1e6
    return rows.with_columns(
        pl.col("rank").replace_strict(dict(enumerate(outcomes)), default=UNFINISHED, return_dtype=pl.String)
        .alias("outcome"),
        pl.when(pl.col("ran").fill_null(True)).then(pl.coalesce(pl.col("logged_runtime"), span)).alias("runtime"),
    ).sort("first_seen", "name", "task_id", "key", nulls_last=True).drop("rank", "logged_runtime", "key", "worker_pid",
                                                                         "ran")


def _with_output(rows: pl.DataFrame, output: pl.DataFrame) -> pl.DataFrame:
    """What each task printed: re-logged lines of its pool process (the pid celery says accepted it)
    while it ran; `output_error` is the first one whose own level is error or worse."""
    running = rows.filter(pl.col("worker_pid").is_not_null()).select(
        "key", "host", "worker_pid", pl.coalesce("started", "received").alias("start"), pl.col("finished").alias("end"))
    empty = rows.with_columns(pl.lit(0, dtype=pl.UInt32).alias("output_lines"),
                              pl.lit(None, dtype=pl.String).alias("output_error"))
    if output.height == 0 or running.height == 0:
        return empty
    tied = (
        output.filter(pl.col("output_pid").is_not_null()).sort("ts", maintain_order=True)
        .join_asof(running.filter(pl.col("start").is_not_null()).sort("start", "key"), left_on="ts", right_on="start",
                   by_left=["host", "output_pid"], by_right=["host", "worker_pid"], strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("key").is_not_null() & (pl.col("end").is_null() | (pl.col("ts") <= pl.col("end"))))
        .group_by("key").agg(
            pl.len().cast(pl.UInt32).alias("output_lines"),
            pl.col("output_message").filter(pl.col("output_is_error")).first().alias("output_error"),
        )
    )
    return rows.join(tied, on="key", how="left").with_columns(pl.col("output_lines").fill_null(0))


def _tie_by_name(events: pl.DataFrame) -> pl.DataFrame:
    """Name-only events get the id of the same-name task running then, else a run of their own.

    A busy node logs hundreds of thousands of name-only lines (ensure single's "scheduled"),
    and most of them end up in no task: they are tied and numbered as integers (their position,
    time, one code for host and name, their step), and only those kept get their text back."""
    named = events.lazy().with_row_index("_at").filter(pl.col("task_id").is_null() & pl.col("name").is_not_null()) \
        .select("_at", "ts", _HOST_AND_NAME, _TIED_BY, (pl.col("step") == "started").alias("_started"),
                (pl.col("step") == "finished").alias("_finished")).collect()
    if named.height == 0:
        return events.clear().drop("task_id").with_columns(pl.lit(None, dtype=pl.String).alias("key"))
    spans = events.lazy().filter(pl.col("task_id").is_not_null() & pl.col("name").is_not_null()) \
        .group_by("host", "task_id").agg(  # a task named twice (broken lines) goes by its first name
            _TIED_BY.sort_by("ts", maintain_order=True).first(), pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last")).drop("host").collect()
    # every sort is total or stable: which task a line is tied to must not vary from run to run
    tied = named.sort("ts", maintain_order=True).join_asof(
        spans.sort("first", "task_id"), left_on="ts", right_on="first", by=_TIED_BY.meta.output_name(),
        strategy="backward", check_sortedness=False)
    tied = tied.with_columns(
        pl.when(pl.col("ts") <= pl.col("last") + _TIE_SLACK).then("task_id").alias("task_id")
    ).drop("first", "last")
    loose = tied.filter(pl.col("task_id").is_null()).sort("_group", "ts", maintain_order=True)
    # a task's runs are consecutive rows, so they are numbered across the frame at once (a
    # window per task and run would be one group per line when every line opens a run)
    opens = pl.col("_started") | pl.col("_finished").shift(1)
    new_task = pl.col("_group").ne_missing(pl.col("_group").shift(1))
    loose = loose.with_columns(pl.any_horizontal(new_task, opens.fill_null(True)).cum_sum().alias("run"))
    # a later run of the same task means this one ended (chained tasks run one after the other),
    # so only the last run may be reported as never finished. A run ends at its first finish,
    # so it has one if its last row is one; runs and tasks are consecutive rows, so what their
    # last row says is filled backwards, in one pass (a window per run would hash every line)
    ends = lambda column: pl.col(column).ne_missing(pl.col(column).shift(-1))  # noqa: E731
    ended = pl.when(ends("run")).then(pl.col("_finished")).backward_fill()
    last = pl.col("run") == pl.when(ends("_group")).then(pl.col("run")).backward_fill()
    run_start = pl.col("ts").min().over("run").dt.strftime(_TIME)
    kept = pl.concat([
        tied.filter(pl.col("task_id").is_not_null()).select("_at", "task_id", pl.col("task_id").alias("key")),
        loose.filter(ended | last).select("_at", pl.lit(None, dtype=pl.String).alias("task_id"),
                                          run_start.alias("key")),
    ])
    found = events.drop("task_id")[kept["_at"]].hstack(kept.drop("_at"))
    run_key = pl.format("{}@{}@{}", "name", "host", "key")
    return found.with_columns(pl.when(pl.col("task_id").is_null()).then(run_key).otherwise("key").alias("key"))


#: Host and task name as one integer: a line with no host is a host of its own.
_HOST_AND_NAME = (pl.col("host").cast(pl.Categorical).to_physical().fill_null(2**32 - 1).cast(pl.UInt64) * 2**32
                  + pl.col("name").cast(pl.Categorical).to_physical().cast(pl.UInt64)).alias("_group")
#: What ties a name-only line to a task of that name on that host: none without a host.
_TIED_BY = pl.when(pl.col("host").is_not_null()).then(_HOST_AND_NAME).alias("_tied_by")


def runtime_stats(table: pl.DataFrame) -> pl.DataFrame:
    """Per task name: how many ran, how each ended, and runtime p50/p95/max of those that finished."""
    per_outcome = table.pivot(on="outcome", index="name", values="task_id", aggregate_function="len")
    runtimes = table.group_by("name").agg(
        pl.len().alias("count"),
        pl.col("runtime").quantile(0.5, "nearest").alias("p50"),
        pl.col("runtime").quantile(0.95, "nearest").alias("p95"),
        pl.col("runtime").max().alias("max"),
    )
    return runtimes.join(per_outcome, on="name", how="left", nulls_equal=True).sort("count", "name",
                                                                                    descending=[True, False])


class TaskHistory(Collector):
    """The collector: task events per member, one row per task after the last member.

    `table` keeps the full task table of the last `combine`, for `ovs-analyzer tasks` and for
    rules of kind `task`; the findings.json section lists problems and per-name statistics.
    """

    name = "tasks"

    def __init__(self, knowledge: TaskKnowledge | None = None) -> None:
        self.knowledge = knowledge or load_task_knowledge()
        self.table = empty_table()

    def rule_hits(self, rules: list[Rule]) -> pl.DataFrame:
        """Hits of the `task` rules over the table of the last `combine`."""
        return rule_hits(self.table, rules)

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        found = task_events(batch.events, self.knowledge)
        return deciders(found, self.knowledge.outcomes) if found.height else None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        if not parts:
            self.table = empty_table()
            return task_section(self.table)
        # every column but the lines' text, which only the few events that end up as a task's
        # evidence need: it is read back for them alone, a part at a time (`gather_rows`)
        frames = unpack_all(parts, drop=("record",))
        host = pl.col("host").fill_null(pl.lit(view.node, dtype=pl.String))  # celery lines name no host
        frames = [f.with_columns(host) for f in frames]
        # the clock reads only its own columns (it joins and sorts what it is given), and each part
        # takes its slice of the UTC times, so all columns keep the parts' chunks (a column chunked
        # otherwise would make Polars copy the whole frame into one chunk)
        utc = view.to_utc(pl.concat([f.select("host", "ts_local", "utc_offset") for f in frames]))["ts"]
        heights = [f.height for f in frames]
        ends = itertools.accumulate(heights)
        events = pl.concat([f.with_columns(utc.slice(end - f.height, f.height))
                            for f, end in zip(frames, ends, strict=True)], how="diagonal_relaxed")
        frames.clear()  # the concatenation may hold copies: the parts need not stay beside them
        self.table = task_table(events, self.knowledge.outcomes, kept=_first_copies(events),
                                records=lambda rows: gather_rows(parts, "record", rows))
        parts.clear()
        return task_section(self.table)


def deciders(found: pl.DataFrame, outcomes: tuple[str, ...]) -> pl.DataFrame:
    """The task events of each member that folding could still pick: the task table of a bundle is
    the same with only these, and memory follows the number of tasks, not of lines (a busy node
    logs millions of task events, and holding them all until the end would cost gigabytes).

    Of each task's events in one member at one clock (same host and zone, so local order is UTC
    order), kept: the first, the first and last that name it, its worker or pool process, the
    first received and started, the last finished, every retry, the latest of its highest rank,
    the last logged runtime and traceback frame, the first finished with an exception or
    message. Ties are all kept. Events that name no task id are tied to one only after the last member: all kept.
    (rsyslog's copy of an event this drops from the journal may be kept from syslog: it says
    the same, so it folds the same; see `_first_copies`.)"""
    # the clock as one integer: the fourteen windows below then group by one column, not four
    clock = pl.struct("source", "task_id", "host", "utc_offset").rank("dense").alias("_clock")
    ts = pl.col("ts_local")
    first = lambda when: ts == ts.filter(when).min().over("_clock")  # noqa: E731
    last = lambda when: ts == ts.filter(when).max().over("_clock")  # noqa: E731
    step, finished = pl.col("step"), pl.col("step") == "finished"
    found = found.with_columns(clock, _rank(pl.col("outcome"), outcomes).alias("_rank")) \
        .with_columns(pl.col("_rank").max().over("_clock").alias("_top"))
    keep = pl.any_horizontal(
        pl.col("task_id").is_null(), ts.is_null(), step == "retried",
        ts == ts.min().over("_clock"),
        first(pl.col("name").is_not_null()), last(pl.col("name").is_not_null()),
        first(_WORKER.is_not_null()), first(pl.col("worker_pid").is_not_null()),
        first(step == "received"), first(step == "started"), last(finished),
        last(pl.col("_rank").eq_missing(pl.col("_top"))),
        last(pl.col("runtime").is_not_null()), last(pl.col("frame").is_not_null()),
        first(finished & _EXCEPTION.is_not_null()), first(finished & _MESSAGE.is_not_null()),
    )
    return found.filter(keep.fill_null(False)).drop("_clock", "_rank", "_top")


def _rank(outcome: pl.Series | pl.Expr, outcomes: tuple[str, ...]) -> pl.Series | pl.Expr:
    """An outcome's precedence (a later one wins over an earlier one); null for steps that decide none."""
    return outcome.replace_strict({o: i for i, o in enumerate(outcomes)}, default=None, return_dtype=pl.Int8)


def _first_copies(events: pl.DataFrame) -> pl.Series:
    """The row numbers of the events to count, sources in name order: rsyslog's copy of a journal
    entry (or the framework's own file) says the same thing again, so only the first copy of an
    event counts. A copy says the same of its task: two events of one task at one instant that
    differ, say by a traceback, both count; the thread counts only through the worker it names."""
    said = [c for c in ("host", "ts", "signature", *TASK_GROUPS, "frame", "tb_class", "tb_message", "output_pid",
                        "output_message") if c in events.columns]
    # a bundle has few sources: sorting their names' ranks is sorting integers, not every event's string
    sources = events["source"].unique().sort()
    rank = pl.col("source").replace_strict(sources, pl.int_range(sources.len(), dtype=pl.UInt32, eager=True))
    by_source = events.select(rank).with_row_index(_ROW).sort("source", maintain_order=True)[_ROW]
    # a copy has its original's time: only the few events sharing a time are compared in full, in
    # one chunk (the parts' columns are chunked unlike their UTC times, and Polars 2.1's string
    # kernels panicked now and then on such a frame)
    shared_time = events.select("source", "thread", *said).with_row_index(_ROW).filter(pl.col("ts").is_duplicated()) \
        .rechunk().select(_ROW, "source", pl.struct(*said, _WORKER.alias("worker")).alias("said")) \
        .sort("source", maintain_order=True)
    copies = shared_time.filter(~pl.col("said").is_first_distinct())[_ROW]
    return by_source.filter(~by_source.is_in(copies.implode()))


def history_of(events: pl.DataFrame, offsets: pl.DataFrame, knowledge: TaskKnowledge | None = None) -> pl.DataFrame:
    """The task table of one table of events (a rule example), times put on UTC with `offsets`."""
    knowledge = knowledge or load_task_knowledge()
    found = task_events(events, knowledge)
    return task_table(fill_offsets(found, offsets), knowledge.outcomes) if found.height else empty_table()


def rule_hits(table: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """Hits of `task` rules: each task whose name and outcome match, at the line that decided its
    outcome, so findings, windows and evidence work as for any other rule."""
    parts = []
    for rule in rules:
        if not (rule.enabled and rule.task):
            continue
        chosen = table.filter(pl.col("name").str.contains(rule.task.name).fill_null(False)
                              & pl.col("outcome").is_in(list(rule.task.outcomes)))
        parts.append(chosen.select(
            pl.lit(rule.id).alias("rule_id"), "host",
            pl.col("evidence").str.replace(r":\d+$", "").alias("source"),
            pl.col("evidence").str.extract(r":(\d+)$").cast(pl.UInt32).alias("line"),
            pl.coalesce("finished", "first_seen").alias("ts"),
            pl.coalesce("record", pl.format("(line not kept for succeeded tasks: see {})", "evidence")).alias("raw"),
            pl.lit("celery").alias("producer"), pl.col("name").alias("task"),
        ))
    parts = [p for p in parts if p.height]
    return pl.concat(parts) if parts else pl.DataFrame()


def empty_table() -> pl.DataFrame:
    stamp = pl.Datetime("us", "UTC")
    return pl.DataFrame(schema={
        "task_id": pl.String, "name": pl.String, "host": pl.String, "worker": pl.String, "received": stamp,
        "started": stamp, "finished": stamp, "first_seen": stamp, "retries": pl.UInt32, "exception": pl.String,
        "message": pl.String, "evidence": pl.String, "record": pl.String, "traceback": pl.String,
        "output_lines": pl.UInt32, "output_error": pl.String, "outcome": pl.String,
        "runtime": pl.Float64,
    })


def task_rows(table: pl.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: times as ISO UTC strings, runtime rounded to the millisecond."""
    return [
        {**row, **{k: iso(row[k]) for k in ("received", "started", "finished", "first_seen")},
         "runtime": None if row["runtime"] is None else round(row["runtime"], 3)}
        for row in table.iter_rows(named=True)
    ]


def task_section(table: pl.DataFrame) -> dict[str, Any]:
    """What findings.json and the report show: problems first, unfinished tasks, per-name statistics."""
    order = {o: i for i, o in enumerate(PROBLEM_OUTCOMES)}
    problems = table.filter(~pl.col("outcome").is_in(["succeeded", UNFINISHED])).with_columns(
        pl.col("outcome").replace_strict(order, default=len(order), return_dtype=pl.Int8).alias("_order")
    ).sort("_order", "first_seen", maintain_order=True).drop("_order")
    unfinished = table.filter(pl.col("outcome") == UNFINISHED)
    outcomes = dict(table.group_by("outcome").len().sort("outcome").iter_rows())
    stats = runtime_stats(table) if table.height else pl.DataFrame()
    return {
        "total": table.height,
        "outcomes": outcomes,
        "problems": task_rows(problems.head(SECTION_ROWS)),
        "problems_omitted": max(problems.height - SECTION_ROWS, 0),
        "unfinished": task_rows(unfinished.head(SECTION_ROWS)),
        "unfinished_omitted": max(unfinished.height - SECTION_ROWS, 0),
        "by_name": [
            {**row, **{k: None if row[k] is None else round(row[k], 3) for k in ("p50", "p95", "max")}}
            for row in stats.iter_rows(named=True)
        ],
    }
