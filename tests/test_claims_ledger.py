"""The claims ledger: atomic, locked, never read as empty when damaged, no notebook wipes another's."""

import json
import multiprocessing
import os
import time

import pytest

from course_utils import claims, storage


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "out"))
    return tmp_path / "out"


def _record(notebook, claim, backbone="vgg16"):
    return claims.compare(notebook, claim, 0.9, 0.5, n=100, pretrained=True,
                          run={"profile": "fast", "backbone": backbone})


def test_a_truncated_ledger_is_an_error_naming_the_file_and_is_left_as_it_was(out):
    _record("03", "a")
    _record("04", "b")
    ledger = claims.ledger_path()
    damaged = ledger.read_text()[:40]
    ledger.write_text(damaged)
    with pytest.raises(claims.LedgerError, match=r"claims\.json is damaged.*Move it aside"):
        claims.load()
    with pytest.raises(claims.LedgerError, match=str(ledger)):
        _record("05", "c")  # never overwrites what it could not read
    assert ledger.read_text() == damaged


def test_a_ledger_that_is_not_a_list_of_claims_is_an_error(out):
    claims.ledger_path().parent.mkdir(parents=True)
    claims.ledger_path().write_text('{"notebook": "03"}')
    with pytest.raises(claims.LedgerError, match="damaged"):
        claims.summary()


def test_fields_added_or_removed_since_the_ledger_was_written_are_tolerated(out):
    _record("03", "a")
    entries = json.loads(claims.ledger_path().read_text())
    entries[0]["probe"] = 0.93  # a field a later version of the course records
    claims.ledger_path().write_text(json.dumps(entries))
    assert [c.claim for c in claims.load()] == ["a"]


def _writer(args):
    out_dir, worker = args
    os.environ["COURSE_OUTPUT_DIR"] = out_dir
    for i in range(20):
        claims.compare(f"nb{worker}", f"claim {i}", 0.9, 0.5, n=100, pretrained=True, run={})


def test_concurrent_writers_keep_every_claim(out):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_writer, [(str(out), w) for w in range(4)])
    assert len(claims.load()) == 80
    assert not list(out.glob("*.part")) and not (out / "claims.json.lock").exists()


def test_an_interrupted_write_leaves_the_previous_ledger(out, monkeypatch):
    _record("03", "a")
    before = claims.ledger_path().read_text()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(storage.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        _record("04", "b")
    assert claims.ledger_path().read_text() == before
    assert not list(out.glob("*.part")) and not (out / "claims.json.lock").exists()


def test_another_notebooks_backbone_does_not_wipe_the_claims_of_the_notebook_before(out):
    # make course: 05 runs with VGG16, then 06 starts with MobileNet (its default)
    for c in ("fe beats scratch", "ft at least fe", "few-shot"):
        _record("05", c, backbone="vgg16")
    claims.keep_only({"profile": "fast", "backbone": "mobilenet_0.25"}, notebook="06")
    _record("06", "sigmoid beats softmax", backbone="mobilenet_0.25")
    assert sorted(c.notebook for c in claims.load()) == ["05", "05", "05", "06"]
    assert claims.summary().startswith("claims checked: 4 of 4")
    # 05 run again with MobileNet: its VGG16 claims are stale, 06's stay
    claims.keep_only({"profile": "fast", "backbone": "mobilenet_0.25"}, notebook="05")
    assert [c.notebook for c in claims.load()] == ["06"]


def test_runs_start_drops_only_its_own_notebooks_claims_of_another_configuration(out, tmp_path, monkeypatch):
    from course_utils import runs

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    first = runs.start("05", "smoke", backbone="vgg16", progress=False)
    first.claim("fe beats scratch", 0.9, 0.5, n=100)
    second = runs.start("06", "smoke", backbone="mobilenet_0.25", progress=False)
    second.claim("sigmoid beats softmax", 0.9, 0.5, n=100)
    assert sorted(c.notebook for c in claims.load()) == ["05", "06"]
    runs.start("05", "smoke", backbone="mobilenet_0.25", progress=False)
    assert [c.notebook for c in claims.load()] == ["06"]


def test_an_unwritable_outputs_folder_is_an_error_naming_course_output_dir(out, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(storage, "write_text", denied)
    with pytest.raises(claims.LedgerError, match="COURSE_OUTPUT_DIR"):
        _record("03", "a")


def test_a_lock_left_by_a_killed_writer_is_taken_over(out):
    out.mkdir()
    lock = out / "claims.json.lock"
    lock.write_text("999999999\n")  # no such process
    _record("03", "a")
    lock.write_text("not a pid\n")
    old = time.time() - 1000
    os.utime(lock, (old, old))  # older than `stale`
    _record("03", "b")
    assert len(claims.load()) == 2 and not lock.exists()


def test_a_lock_held_past_the_timeout_names_the_lock_file(tmp_path):
    target = tmp_path / "ledger.json"
    with storage.locked(target), pytest.raises(storage.LockTimeout, match=r"ledger\.json\.lock.*delete that file"), \
            storage.locked(target, timeout=0.2):
        pass
