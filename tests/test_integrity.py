"""One helper per job: the file digest, the first-seen checksum ledger, the .complete marker."""

import hashlib
import json

import pytest

from course_utils import data, folder_report, integrity, runs


def test_one_digest_serves_downloads_runs_and_duplicate_images(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (3 << 20))  # more than one chunk
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert integrity.file_digest(path) == data.file_digest(path) == expected
    assert runs.file_id(path) == expected[:16]
    assert folder_report.file_digest is integrity.file_digest


def test_the_ledger_keeps_the_first_digest_and_refuses_a_changed_file(tmp_path):
    ledger, path = tmp_path / "weights" / "checksums.json", tmp_path / "w.h5"
    path.write_bytes(b"first")
    digest = integrity.first_seen_digest(ledger, "w.h5", path, retry="fetch it again.")
    integrity.record_digest(ledger, "w.h5", digest)
    assert json.loads(ledger.read_text()) == {"w.h5": digest} and not list(ledger.parent.glob("*.part"))
    path.write_bytes(b"second")
    with pytest.raises(data.ChecksumError, match=r"recorded at the first download .*fetch it again"):
        integrity.first_seen_digest(ledger, "w.h5", path, retry="fetch it again.")
    assert not path.exists(), "a refused file is deleted"


def test_a_corrupt_ledger_is_an_error_that_names_it_and_the_fix(tmp_path):
    ledger, path = tmp_path / "checksums.json", tmp_path / "a.zip"
    ledger.write_text("{not json")
    path.write_bytes(b"a")
    with pytest.raises(data.ChecksumError, match=rf"{ledger}.*Delete it"):
        integrity.first_seen_digest(ledger, "a", path, retry="")
    assert ledger.read_text() == "{not json", "nothing a user has is overwritten"


def test_a_folder_is_complete_only_with_its_marker(tmp_path):
    assert not integrity.is_complete(tmp_path)
    integrity.mark_complete(tmp_path, "what was written\n")
    assert integrity.is_complete(tmp_path)
    assert (tmp_path / integrity.COMPLETE).read_text() == "what was written\n"
