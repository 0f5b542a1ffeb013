"""Root causes: findings joined by causal links into chains, and the one to start with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.detection.causes import Link, load_links, root_causes, start_here
from analyzer.detection.loader import default_rule_dirs, links_for, load_pack, pack_links
from analyzer.errors import UserError
from analyzer.pipeline.rule_examples import run_link_examples


def finding(rule_id: str, at: str, severity: str = "high", hosts: tuple[str, ...] = ("n1",),
            last: str | None = None, **entities: str) -> dict:
    """A finding as findings.json holds it, seen from `at` (HH:MM:SS on 2017-03-14) to `last`."""
    return {"rule_id": rule_id, "title": rule_id.title(), "severity": severity, "hosts": list(hosts),
            "first_seen": f"2017-03-14T{at}.000000Z", "last_seen": f"2017-03-14T{last or at}.000000Z",
            "entities": entities, "vpools": [entities["vpool"]] if "vpool" in entities else []}


def link(cause: str, effect: str, join: tuple[str, ...] = ("node",), within: float = 1800,
         where_named: tuple[str, ...] = ()) -> Link:
    return Link(cause, effect, join, where_named, within, f"{cause} brings {effect}", ("https://example.org",),
                (), (), "test")


DISK = [link("DISK", "ASD"), link("ASD", "OSD", join=()), link("OSD", "HALTED", join=())]


def test_the_cause_of_a_cascade_outranks_an_earlier_and_a_more_severe_isolated_finding():
    findings = [finding("NOISE", "08:00:00", "medium"), finding("LOUD", "09:30:00", "critical"),
                finding("DISK", "08:39:12"), finding("ASD", "08:40:00"), finding("OSD", "08:41:00", "medium"),
                finding("HALTED", "09:04:10", hosts=("n2",))]
    chains = root_causes(findings, DISK)
    assert [c.cause["rule_id"] for c in chains] == ["DISK", "LOUD", "NOISE"]
    assert [e.finding["rule_id"] for e in chains[0].effects] == ["ASD", "OSD", "HALTED"]
    here = start_here(chains, findings)
    assert here["rule_id"] == "DISK" and here["index"] == 2 and here["host"] == "n1"
    assert "known to bring 3 of the later findings" in here["why"]


def test_a_chain_s_cause_is_its_earliest_finding_that_nothing_in_it_explains():
    findings = [finding("OSD", "08:41:00"), finding("ASD", "08:40:00"), finding("DISK", "08:45:00")]
    # the disk error was logged after the ASD went down, beyond the minute of slack: it explains nothing here
    chains = root_causes(findings, DISK)
    assert chains[0].cause["rule_id"] == "ASD" and [e.finding["rule_id"] for e in chains[0].effects] == ["OSD"]


def test_an_effect_logged_within_a_minute_before_its_cause_is_still_joined():
    chains = root_causes([finding("ASD", "08:39:40"), finding("DISK", "08:40:00")], DISK)
    assert chains[0].cause["rule_id"] == "DISK" and chains[0].explains == 1


def test_an_effect_later_than_the_window_after_the_cause_s_last_record_is_not_joined():
    cause = finding("DISK", "08:00:00", last="08:30:00")
    assert root_causes([cause, finding("ASD", "08:59:00")], DISK)[0].explains == 1
    assert root_causes([cause, finding("ASD", "09:01:00")], DISK)[0].explains == 0


def test_join_keys_must_be_shared_and_where_named_keys_agree_only_where_both_name_one():
    on_vpool = [link("CRASH", "DTL", join=("node",), where_named=("vpool",))]
    crash = finding("CRASH", "09:16:35", vpool="vpool1")
    assert root_causes([crash, finding("DTL", "09:17:00", vpool="vpool1")], on_vpool)[0].explains == 1
    assert root_causes([crash, finding("DTL", "09:17:00")], on_vpool)[0].explains == 1, "the DTL line named none"
    assert root_causes([crash, finding("DTL", "09:17:00", vpool="vpool2")], on_vpool)[0].explains == 0
    assert root_causes([crash, finding("DTL", "09:17:00", hosts=("n2",), vpool="vpool1")], on_vpool)[0].explains == 0


def test_links_that_form_a_cycle_still_give_one_chain_from_the_earliest():
    both_ways = [link("A", "B"), link("B", "A")]
    chains = root_causes([finding("B", "08:00:05"), finding("A", "08:00:00")], both_ways)
    assert len(chains) == 1 and chains[0].cause["rule_id"] == "A"


def test_start_here_is_null_only_without_findings():
    assert start_here(root_causes([], DISK), []) is None
    lone = [finding("LOUD", "09:30:00", "critical")]
    assert "No known link" in start_here(root_causes(lone, DISK), lone)["why"]
    facts = [finding("STARTED", "07:23:54", "info")]
    assert start_here(root_causes(facts, DISK), facts)["why"].endswith("nothing to fix.")


RULE_IDS = ["DISK", "ASD", "OSD", "HALTED", "NOISE"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(RULE_IDS), st.integers(0, 7200), st.sampled_from(["n1", "n2"]),
                          st.sampled_from(["low", "high", "critical"])), max_size=12),
       st.lists(st.tuples(st.sampled_from(RULE_IDS), st.sampled_from(RULE_IDS), st.booleans()), max_size=8))
def test_every_finding_is_in_exactly_one_chain_and_chains_rank_by_what_they_explain(found, pairs):
    findings = [finding(r, f"{8 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}", sev, (host,))
                for r, s, host, sev in found]
    links = list({(c, e): link(c, e, join=("node",) if same else ()) for c, e, same in pairs if c != e}.values())
    chains = root_causes(findings, links)
    members = [id(f) for c in chains for f in c.findings]
    assert sorted(members) == sorted(id(f) for f in findings)
    assert [c.explains for c in chains] == sorted((c.explains for c in chains), reverse=True)
    for chain in chains:
        for effect in chain.effects:
            assert effect.link.joins(effect.via, effect.finding)


def _links_file(tmp_path: Path, body: dict) -> Path:
    (tmp_path / "links").mkdir(exist_ok=True)
    path = tmp_path / "links" / "mine.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


GOOD = {"cause": "DISK_IO_ERROR_KERNEL", "effect": "ASD_DOWN", "join": ["node"], "within": "30m", "why": "w",
        "references": ["https://github.com/openvstorage/alba/issues/469"], "examples": {"linked": ["x"]}}


@pytest.mark.parametrize("broken, message", [
    ({"links": [{**GOOD, "joined": ["node"]}]}, r"unknown key\(s\) joined"),
    ({"links": [{k: v for k, v in GOOD.items() if k != "references"}]}, r"missing key\(s\) references"),
    ({"links": [{**GOOD, "join": ["rack"]}]}, "join is a list of"),
    ({"links": [{**GOOD, "within": "soon"}]}, "must be a duration"),
    ({"links": [{**GOOD, "examples": {"not_linked": ["x"]}}]}, "examples needs 'linked'"),
    ({"links": [GOOD, GOOD]}, "is already in"),
    ({"link": [GOOD]}, "one key, 'links'"),
])
def test_a_broken_links_file_is_refused_with_the_file_named(tmp_path, broken, message):
    path = _links_file(tmp_path, broken)
    with pytest.raises(UserError, match=message) as err:
        load_links([tmp_path])
    assert str(path) in str(err.value)


def test_a_link_naming_a_rule_the_pack_lacks_fails_its_test_and_is_left_out_of_runs(tmp_path):
    _links_file(tmp_path, {"links": [{**GOOD, "effect": "NO_SUCH_RULE"}]})
    links = load_links([tmp_path])
    rules = load_pack()
    assert [f.why for f in run_link_examples(links, rules)] == ["no rule NO_SUCH_RULE"]
    assert links_for(rules, [tmp_path]) == links_for(rules), "a run joins only what its pack has"


def test_a_links_file_of_a_rules_folder_is_read_anew_at_each_run(tmp_path):
    mine = {**GOOD, "cause": "ASD_DOWN", "effect": "DISK_IO_ERROR_KERNEL"}
    _links_file(tmp_path, {"links": [mine]})
    assert [link.within for link in pack_links((tmp_path,)) if link.source_file.startswith(str(tmp_path))] == [1800]
    _links_file(tmp_path, {"links": [{**mine, "within": "5m"}]})
    assert [link.within for link in pack_links((tmp_path,)) if link.source_file.startswith(str(tmp_path))] == [300]
    assert pack_links() == pack_links(), "the shipped links alone"


def test_every_shipped_link_names_rules_of_the_pack_and_its_examples_pass():
    links = pack_links()
    assert links, "the pack ships causal links"
    assert (default_rule_dirs()[0] / "links").is_dir()
    failures = run_link_examples(links, load_pack())
    assert not failures, "\n".join(f.describe() for f in failures)
