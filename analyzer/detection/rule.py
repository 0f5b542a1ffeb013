"""What a rule is once compiled from its YAML file: the model the loader builds and the matcher runs."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analyzer.detection.versions import VersionRange
from analyzer.durations import duration_label
from analyzer.parsing.schema import LEVELS

SEVERITIES = ("info", "low", "medium", "high", "critical")


COMPONENTS = ("arakoon", "alba", "celery", "rabbitmq", "memcached", "framework", "volumedriver",
              "dtl", "mds", "scrubber", "system")


ENTITY_GROUPS = ("volume", "vpool", "namespace", "osd", "arakoon_cluster", "node", "task", "service",
                 "exception")


#: How a rebuilt Celery task can end (the outcomes of parsers/knowledge/tasks.yaml, and never
#: finishing); `task` rules pick among them, by default the ones where the task did not do its job.
TASK_OUTCOMES = ("succeeded", "failed", "discarded", "timed_out", "revoked", "unfinished")


TASK_PROBLEMS = ("failed", "timed_out", "revoked")


KINDS = ("match", "threshold", "sequence", "absence", "clock_jump", "task")


#: Columns a hit may be grouped by besides the regex's entities.
GROUP_COLUMNS = ("host", "component", "producer", "source", *ENTITY_GROUPS)


@dataclass(frozen=True)
class Window:
    """At least `count` hits within `seconds`."""

    count: int
    seconds: float

    @property
    def label(self) -> str:
        return duration_label(self.seconds)


@dataclass(frozen=True)
class Matcher:
    """Which records a rule looks at: literals, regex and filters, all optional but not all absent."""

    literals: tuple[str, ...] = ()
    regex: str | None = None
    producers: tuple[str, ...] = ()
    min_level: str | None = None
    entities: tuple[str, ...] = ()
    #: The regex needs look-around or back-references: run it with the `regex` module, with a
    #: timeout, on the literal-filtered candidates only.
    fallback: bool = False

    def mask(self) -> pl.Expr:
        """True for the records this matcher selects (the fallback regex is applied afterwards)."""
        raw = pl.col("raw")
        cond = pl.lit(True)
        if self.literals:
            cond = cond & raw.str.contains_any(list(self.literals))
        if self.regex and not self.fallback:
            cond = cond & raw.str.contains(self.regex)
        if self.producers:
            cond = cond & pl.col("producer").is_in(list(self.producers))
        if self.min_level:
            cond = cond & (pl.col("level").to_physical() >= LEVELS.index(self.min_level))
        return cond.fill_null(False)


@dataclass(frozen=True)
class Sequence:
    """Steps (rule ids) that must follow each other within `within` seconds on the same `join_on`."""

    steps: tuple[str, ...]
    within: float
    join_on: tuple[str, ...]
    #: Fire when the last step does NOT follow the others in time ("never recovered").
    absent_last: bool


@dataclass(frozen=True)
class Absence:
    """A producer silent for `silent_for` seconds while the node keeps logging otherwise."""

    producers: tuple[str, ...]
    silent_for: float


@dataclass(frozen=True)
class TaskCondition:
    """Celery tasks whose name matches `name` and that ended in one of `outcomes` (task history)."""

    name: str
    outcomes: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """One known failure pattern, compiled from its YAML file."""

    id: str
    title: str
    severity: str
    component: str
    description: str
    remediation: str
    references: tuple[str, ...]
    hc_codes: tuple[str, ...]
    tags: tuple[str, ...]
    kind: str
    matcher: Matcher | None
    threshold: Window | None
    group_by: tuple[str, ...]
    sequence: Sequence | None
    absence: Absence | None
    #: clock_jump rules: a record whose UTC time is this many seconds before an earlier record of its member.
    clock_backwards: float | None
    escalate_to: str | None
    escalate_when: Window | None
    applies_to: tuple[str, ...]
    enabled: bool
    versions: VersionRange | None
    examples_match: tuple[str, ...]
    examples_no_match: tuple[str, ...]
    source_file: str
    #: task rules: which tasks of the rebuilt task history count as hits (analyzer/collectors/tasks.py).
    task: TaskCondition | None = None

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    @property
    def entities(self) -> tuple[str, ...]:
        """What one finding of this rule is about: its group_by columns, else its regex entities."""
        if self.group_by:
            return self.group_by
        if self.sequence:
            return self.sequence.join_on
        return self.matcher.entities if self.matcher else ()
