"""One log file given where a bundle was expected is read as a bundle holding only that file."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os

import pytest

from analyzer.errors import UserError
from tests.conftest import SAMPLE, cli, tar_bytes
from tests.reading.test_bundle import PY
from tests.reading.test_hostile_archives import read_all, write

LOG = "".join(PY.format(s=s) for s in range(30)).encode()
ONE_MEMBER = "one log file, not an archive: read as a bundle holding only it"


@pytest.mark.parametrize(("name", "pack", "member"), [
    ("lib.log", bytes, "lib.log"),
    ("volumedriver_vpool1.log.gz", gzip.compress, "volumedriver_vpool1.log.gz"),
    ("ovs-node1-20170314102205-logs.tar.gz", gzip.compress, "ovs-node1-20170314102205-logs.gz"),
    ("ovs-node1-20170314102205-logs.tar.bz2", bz2.compress, "ovs-node1-20170314102205-logs.bz2"),
    ("lib.log.xz", lzma.compress, "lib.log.xz"),
], ids=["plain", "gzip", "gzip-named-as-a-bundle", "bzip2-named-as-a-bundle", "xz"])
def test_a_lone_log_plain_or_compressed_is_one_member_named_after_the_file(tmp_path, name, pack, member):
    bundle, members = read_all(write(tmp_path, pack(LOG), name))
    assert list(members) == [member]
    assert members[member].data == LOG, "inflated like a rotated member"
    assert bundle.warnings == [f"{ONE_MEMBER} (as {member})"]


@pytest.mark.parametrize("data", [os.urandom(1 << 16), gzip.compress(os.urandom(1 << 16)),
                                  b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 64],
                         ids=["random-bytes", "gzip-of-random-bytes", "a-program"])
def test_a_file_that_is_no_text_is_still_not_a_bundle(tmp_path, data):
    with pytest.raises(UserError, match="not a readable bundle"):
        read_all(write(tmp_path, data, "lib.log"))


def test_an_archive_is_never_taken_for_a_lone_log(tmp_path):
    tar = tar_bytes({"var/log/ovs/lib.log": LOG})
    bundle, members = read_all(write(tmp_path, gzip.compress(tar), "lib.log"))
    assert list(members) == ["var/log/ovs/lib.log"] and not bundle.warnings


def test_analyze_of_a_lone_log_finds_what_the_bundle_finds_in_it(tmp_path):
    """The sample's worker log mailed alone: its findings are the bundle's findings from that file."""
    import tarfile

    with tarfile.open(SAMPLE) as tar:
        text = tar.extractfile("var/log/upstart/ovs-workers.log").read()
    alone = tmp_path / "ovs-workers.log.gz"
    alone.write_bytes(gzip.compress(text))
    result = cli("analyze", str(alone), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert ONE_MEMBER in result.stderr
    found = json.loads((tmp_path / "out" / "findings.json").read_text())
    whole = cli("analyze", str(SAMPLE), "-o", str(tmp_path / "whole"))
    assert whole.returncode == 0
    in_bundle = json.loads((tmp_path / "whole" / "findings.json").read_text())
    from_workers = {f["rule_id"] for f in in_bundle["findings"]
                    if f["evidence"] and all(e["source"] == "var/log/upstart/ovs-workers.log" for e in f["evidence"])}
    assert from_workers and from_workers <= {f["rule_id"] for f in found["findings"]}
