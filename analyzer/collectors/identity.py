"""Who wrote the bundle: hosts, node role with its evidence, package versions, vPools, services,
time covered per source, zones, and the sources its era should have but does not.

The knowledge (which packages matter, which services only masters run, which sources each
release collects) is data in `identity.yaml`; this collector only applies it. Each member leaves
a small long-format table of facts (`kind`, `key`, `value`, `source`, ...); `combine` folds them into the
`identity` section. `versions` is a plain package -> version dict so rule version ranges can be
checked against it (`analyzer.detection.versions.assess`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import polars as pl
from debian.debian_support import Version

from analyzer.collectors.protocol import Batch, BundleView, Collector
from analyzer.datafiles import load_mapping
from analyzer.detection.versions import is_version
from analyzer.frames import Packed, unpack_all
from analyzer.isotime import iso
from analyzer.parsing.knowledge import knowledge_file

FACTS_SCHEMA = {"kind": pl.String, "key": pl.String, "value": pl.String, "source": pl.String,
                "host": pl.String, "ts_local": pl.Datetime("us"), "utc_offset": pl.Int16, "count": pl.Int64}
#: dpkg.log: `install <pkg>:<arch> <old> <new>`, `upgrade ...`, `status installed <pkg>:<arch> <version>`.
_DPKG = r"^(?:install|upgrade|status installed) (?P<key>[^:\s]+)(?::\S+)? (?:\S+ )?(?P<value>\S+)$"
#: The volumedriver's start-up build banner (`print_version_data`): `version: 6.16.3` on its own line.
_BANNER = r"(?m)^version: (?P<value>\d[\w.~+-]*)\s*$"
_BANNER_LITERAL = "version: "
_MAX_EVIDENCE = 6
#: Version changes listed; a node whose banners alternate versions (or a hostile dpkg.log) must
#: not turn the report into megabytes of history. The latest changes are the ones kept.
_MAX_HISTORY = 100


@cache
def knowledge() -> dict[str, Any]:
    """The parsed `parsers/knowledge/identity.yaml` (shipped inside the package)."""
    return load_mapping(knowledge_file("identity"), "identity knowledge file")


class IdentityCollector(Collector):
    """The `identity` section: see the module docstring."""

    name = "identity"

    def collect(self, batch: Batch) -> pl.DataFrame | None:
        frames = [self._sources(batch.sources), *self._from_events(batch.events, batch.summary)]
        frames = [f for f in frames if f.height]
        return _as_facts(pl.concat(frames, how="diagonal_relaxed")) if frames else None

    def combine(self, parts: list[Packed], view: BundleView) -> dict[str, Any]:
        facts = pl.concat(unpack_all(parts), how="vertical_relaxed") if parts else pl.DataFrame(schema=FACTS_SCHEMA)
        facts = facts.with_columns(pl.col("host").fill_null(pl.lit(view.node, dtype=pl.String)))
        versions, history = _versions(facts)
        omitted = max(0, len(history) - _MAX_HISTORY)
        services = sorted(_keys(facts, "service"))
        sources = _keys(facts, "source")
        vpools = sorted(_keys(facts, "vpool") | _vpools_of(services))
        role, evidence = _role(facts)
        return {
            "hosts": _counted(facts, "host"),
            "host_hint": view.bundle.host_hint,
            "role": role,
            "role_evidence": evidence,
            "versions": versions,
            "version_history": history[omitted:],
            "version_history_omitted": omitted,
            "vpools": vpools,
            "services": services,
            "time_span": _spans(facts, view),
            "format_eras": _counted(facts, "era"),
            "utc_offsets": {_offset_text(int(k)): n for k, n in _counted(facts, "offset").items()},
            "missing_sources": missing_sources(sources, versions.get("openvstorage") or _release_floor(facts)),
        }

    @staticmethod
    def _sources(paths: Sequence[str]) -> pl.DataFrame:
        """What the members' paths say."""
        rows = []
        for path in paths:
            rows.append({"kind": "source", "key": path, "source": path})
            upstart = re.match(knowledge()["upstart_log"], path)
            if upstart:
                rows.append({"kind": "service", "key": upstart.group(1), "source": path})
            for rule in knowledge()["master_evidence"] + knowledge()["framework_evidence"]:
                if "path" in rule and re.search(rule["path"], path):
                    rows.append({"kind": _evidence_kind(rule), "key": rule["what"], "value": path, "source": path})
        return pl.DataFrame(rows, schema={"kind": pl.String, "key": pl.String, "value": pl.String, "source": pl.String})

    @staticmethod
    def _from_events(events: pl.DataFrame, summary: pl.DataFrame) -> list[pl.DataFrame]:
        """What the members' records say, per member (`source`)."""
        if events.height == 0:
            return []
        data = knowledge()
        # one lazy query per fact kind, all collected at once: a chunk pays one call's overhead, not
        # twenty. Each query filters the records by its own selective test and the record's being
        # read by a format at once, so only the few records it keeps are copied.
        events = events.lazy()
        ok = pl.col("parse_status") == "ok"
        message = pl.col("message").fill_null("")
        eras = data["format_eras"]
        # records per member, host, producer, format and offset (a record a format read is one
        # with a format); hosts, formats, eras, offsets and time spans are all folded from these rows
        producers = set(summary["producer"].drop_nulls().unique().to_list())
        folded = summary.lazy()
        read = folded.filter(pl.col("format").is_not_null())
        # folded once, eagerly: `collect_all` would run this group-by again for each query below
        per_format = read.group_by("source", "host", "producer", "format", "utc_offset") \
            .agg(pl.col("count").sum(), pl.col("first").min(), pl.col("last").max()).collect().lazy()
        frames = [
            per_format.group_by("source", pl.col("host").alias("key")).agg(pl.col("count").sum())
            .with_columns(kind=pl.lit("host")),
            per_format.select("source", pl.col("format").alias("key")).drop_nulls().unique()
            .with_columns(kind=pl.lit("format")),
            per_format.filter(pl.col("format").is_in(list(eras))).group_by(
                "source", pl.col("format").replace_strict(eras, return_dtype=pl.String).alias("key")
            ).agg(pl.col("count").sum()).with_columns(kind=pl.lit("era")),
            per_format.filter(pl.col("utc_offset").is_not_null())
            .group_by("source", pl.col("utc_offset").cast(pl.String).alias("key")).agg(pl.col("count").sum())
            .with_columns(kind=pl.lit("offset")),
            folded.select("source", pl.col("vpool").alias("key")).drop_nulls().unique()
            .with_columns(kind=pl.lit("vpool")),
            per_format.filter(pl.col("first").is_not_null())
            .group_by("source", pl.col("producer").alias("key"), "host", "utc_offset")
            .agg(pl.col("first").min(), pl.col("last").max())
            .unpivot(index=["source", "key", "host", "utc_offset"], on=["first", "last"], variable_name="value",
                     value_name="ts_local")
            .with_columns(kind=pl.lit("span")),
        ]
        for pattern in data["service_patterns"]:
            lines = events.filter(ok & _holding(pattern))
            frames.append(lines.select("source", message.str.extract(pattern["regex"], 1).alias("key")).drop_nulls()
                          .unique().with_columns(kind=pl.lit("service")))
        frames.append(read.select("source", pl.col("service").alias("key")).drop_nulls().unique()
                      .filter(pl.col("key").str.contains(r"^(?:ovs|alba|asd)-|^(?:rabbitmq-server|memcached|nginx)$"))
                      .with_columns(kind=pl.lit("service")))
        # a query for the records of a producer the batch has none of is not run
        if "dpkg" in producers:
            packages = events.filter(ok & (pl.col("producer") == "dpkg")).select(
                message.str.extract_groups(_DPKG).alias("g"), "ts_local", "utc_offset", "host", "source"
            ).unnest("g").drop_nulls("key").filter(pl.col("key").str.contains(data["packages"]))
            frames.append(packages.with_columns(kind=pl.lit("package")))
        if "volumedriver" in producers:
            # the banner's literal picks the few records its multi-line regex has to read
            banner = events.filter(ok & (pl.col("producer") == "volumedriver")
                                   & pl.col("raw").str.contains(_BANNER_LITERAL, literal=True)).select(
                    pl.col("raw").str.extract(_BANNER, 1).alias("value"), "ts_local", "utc_offset", "host", "source"
                ).drop_nulls("value")
            frames.append(banner.with_columns(kind=pl.lit("package"), key=pl.lit("volumedriver (build banner)")))
        for rule in data["master_evidence"] + data["framework_evidence"]:
            if "raw" in rule:  # each member's first record that shows it
                first = events.filter(ok & pl.col("raw").str.contains(rule["raw"])).group_by("source") \
                    .agg(pl.col("line").first())
                frames.append(first.select("source", pl.lit(rule["what"]).alias("key"),
                                           pl.format("{}:{}", "source", "line").alias("value"))
                              .with_columns(kind=pl.lit(_evidence_kind(rule))))
        return pl.collect_all(frames, engine="in-memory")


def _holding(pattern: dict[str, str]) -> pl.Expr:
    """The records whose message a service pattern can match: those starting with its `prefix` or
    holding its `literal` (one test at a few bytes a record), so its regex reads only those."""
    message = pl.col("message")
    if "prefix" in pattern:
        return message.str.starts_with(pattern["prefix"])
    if "literal" in pattern:
        return message.str.contains(pattern["literal"], literal=True)
    return pl.lit(True)


def _evidence_kind(rule: dict[str, str]) -> str:
    return "master" if rule in knowledge()["master_evidence"] else "framework"


def _as_facts(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
                        for c, t in FACTS_SCHEMA.items())


def _keys(facts: pl.DataFrame, kind: str) -> set[str]:
    return set(facts.filter(pl.col("kind") == kind)["key"].drop_nulls().to_list())


def _counted(facts: pl.DataFrame, kind: str) -> dict[str, int]:
    rows = facts.filter(pl.col("kind") == kind).drop_nulls("key").group_by("key").agg(pl.col("count").sum())
    return {k: int(n) for k, n in rows.sort("count", "key", descending=[True, False]).iter_rows()}


def _offset_text(minutes: int) -> str:
    """60 -> `+0100`, -330 -> `-0530`: as the lines write it."""
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _versions(facts: pl.DataFrame) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The latest version each package was installed or upgraded to, and the dated history."""
    rows = facts.filter(pl.col("kind") == "package").sort("ts_local", nulls_last=False)
    changes = rows.filter(pl.col("value") != pl.col("value").shift(1).over("key").fill_null(""))
    history = [{"package": k, "version": v, "local_time": t.isoformat(sep=" ") if t else None}
               for k, v, t in changes.select("key", "value", "ts_local").iter_rows()]
    latest = rows.group_by("key").agg(pl.col("value").last())
    return dict(sorted(latest.iter_rows())), history


def _vpools_of(services: list[str]) -> set[str]:
    pattern = re.compile(knowledge()["vpool_in_service"])
    return {m.group(1) for s in services if (m := pattern.match(s))}


def _role(facts: pl.DataFrame) -> tuple[str, list[str]]:
    """master with the master-only evidence; extra when the framework runs without any; else unknown."""
    services = _keys(facts, "service")
    evidence: dict[str, list[str]] = {"master": [], "framework": []}
    for kind in evidence:
        for what, where in facts.filter(pl.col("kind") == kind).select("key", "value").unique() \
                .sort("key", "value").iter_rows():  # a total order: the same bundle lists the same evidence
            evidence[kind].append(f"{what}: {where}")
    for rule in knowledge()["master_evidence"] + knowledge()["framework_evidence"]:
        if "service" in rule:
            evidence[_evidence_kind(rule)] += [f"{rule['what']}: {s}" for s in sorted(services)
                                              if re.search(rule["service"], s)]
    if evidence["master"]:
        return "master", evidence["master"][:_MAX_EVIDENCE]
    if evidence["framework"]:
        return "extra", ["framework runs but no master-only service or log was found",
                         *evidence["framework"][:_MAX_EVIDENCE - 1]]
    return "unknown", ["no framework service or log in the bundle"]


def _spans(facts: pl.DataFrame, view: BundleView) -> dict[str, dict[str, str | None]]:
    """First and last UTC time each producer (source of log lines) covers."""
    spans = facts.filter(pl.col("kind") == "span")
    if spans.height == 0:
        return {}
    timed = view.to_utc(spans.select("key", "value", "host", "ts_local", "utc_offset"))
    rows = timed.group_by("key").agg(
        pl.col("ts").filter(pl.col("value") == "first").min().alias("first"),
        pl.col("ts").filter(pl.col("value") == "last").max().alias("last"),
    ).sort("key")
    return {k: {"first": iso(f), "last": iso(last)} for k, f, last in rows.iter_rows()}


def _release_floor(facts: pl.DataFrame) -> str | None:
    """The newest 'at least this release' the framework line formats seen prove, if any."""
    floors = knowledge()["format_min_release"]
    seen = [floors[f] for f in _keys(facts, "format") if f in floors]
    return max(seen, key=Version, default=None)


def missing_sources(present: set[str], release: str | None) -> list[dict[str, str]]:
    """Expected sources absent from the bundle, for the release when it is known."""
    version = Version(release) if release and is_version(release) else None
    missing = []
    for source in knowledge()["expected_sources"]:
        bounded = "from" in source or "until" in source
        if bounded and version is None:
            continue
        if version is not None and (("from" in source and version < Version(source["from"]))
                                    or ("until" in source and version >= Version(source["until"]))):
            continue
        if not any(re.search(source["path"], p) for p in present):
            missing.append({"source": source["name"], "why": source["why"]})
    return missing
