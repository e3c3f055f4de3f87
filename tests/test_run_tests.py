"""tests/run_tests.py (``make test``): the real tier's halves beside the rest, every failure counted,
every report printed, the halves' real-tier reports merged in order. Fake pytest commands: no notebook runs."""

import errno
import json
import os
import subprocess
import sys

import pytest

import run_tests

# A stand-in for `python -m pytest ARGS`: says which part it is, writes a report entry when asked to, and
# exits with the status the test chose for that part.
FAKE = """
import json, os, sys
args = sys.argv[1:]
part = args[args.index("-k") + 1] if "-k" in args else "beside" if "tests/test_solutions.py" in args else "rest"
autogroup = "-"  # no autogroups (macOS, Windows)
if os.path.exists("/proc/self/autogroup"):  # its nice, or "root": the boot session's group reads empty
    autogroup = (open("/proc/self/autogroup").read().split() or ["root"])[-1]
print("FAKE-PYTEST", part.replace(" ", "_"), "nice", os.nice(0) if hasattr(os, "nice") else 0,
      "threads", os.environ.get("TF_NUM_INTRAOP_THREADS", "default"), "ipython", os.environ.get("IPYTHONDIR", "-"),
      "startup", ",".join(sorted(os.listdir(os.path.join(os.environ["IPYTHONDIR"], "profile_default", "startup"))))
      if "IPYTHONDIR" in os.environ else "-",
      "session", "leader" if hasattr(os, "getsid") and os.getsid(0) == os.getpid() else "member",
      "autogroup", autogroup)
waits_for = os.environ.get("FAKE_REST_WAITS_FOR")
if part == "rest" and waits_for:  # ends only once run_tests has said the halves ended
    import time
    deadline = time.time() + 20
    while not os.path.exists(waits_for) and time.time() < deadline:
        time.sleep(0.05)
    if not os.path.exists(waits_for):
        sys.exit(3)
report = os.environ.get("COURSE_REAL_TIER_REPORT")
if report and part not in ("rest", "beside"):
    with open(report, "w") as f:
        json.dump([{"part": part}], f)
sys.exit(int(os.environ.get("FAKE_EXIT_" + part.replace(" ", "_"), "0")))
"""


# Whether a new session may set its autogroup's nice: it writes the value a new group has (0), no change.
# EAGAIN (another write in the last 100 ms) means it is allowed.
AUTOGROUP_PROBE = """
import errno, sys
try:
    with open("/proc/self/autogroup", "w") as f:
        f.write("0")
except OSError as error:
    print(error)
    sys.exit(error.errno != errno.EAGAIN)
"""


@pytest.fixture
def fake_pytest(monkeypatch, tmp_path):
    script = tmp_path / "fake_pytest.py"
    script.write_text(FAKE)
    monkeypatch.setattr(run_tests, "_pytest", lambda *args: [sys.executable, str(script), *args])
    report = tmp_path / "real_tier.json"
    monkeypatch.setenv("COURSE_REAL_TIER_REPORT", str(report))
    monkeypatch.delenv("COURSE_REAL_TIER_DONE", raising=False)  # CI's own (.ci/run): never created by a test
    return report


def test_all_four_parts_run_and_the_halves_reports_are_merged_in_order(fake_pytest, capfd):
    assert run_tests.main([]) == 0
    out = capfd.readouterr().out
    assert out.count("FAKE-PYTEST") == 4, out
    for label in ("real tier 03-05", "real tier 06-08", "solutions, exercises and subprocess tests"):
        assert f"{label} (ran beside the rest)" in out
    assert [e["part"] for e in json.loads(fake_pytest.read_text())] == ["03_to_05", "not 03_to_05"]
    assert "the rest passed" in out and "solutions, exercises and subprocess tests passed" in out


@pytest.mark.skipif(not hasattr(os, "nice"), reason="os.nice is POSIX only")
def test_the_rest_yields_the_cores_to_the_real_tier(fake_pytest, capfd):
    base = os.nice(0)
    assert run_tests.main([]) == 0
    nice = {line.split()[1]: int(line.split()[3]) for line in capfd.readouterr().out.splitlines()
            if line.startswith("FAKE-PYTEST")}
    lower = min(base + run_tests.NICE, 19)
    assert nice == {"rest": lower, "beside": lower, "03_to_05": base, "not_03_to_05": base}, nice


@pytest.mark.skipif(not run_tests.AUTOGROUP.exists(), reason="Linux autogroups")
def test_the_rest_runs_in_sessions_of_its_own_whose_scheduling_group_yields_too(fake_pytest, capfd):
    """Its own unit tests run in those processes: the caller's session would share the cores with the real
    tier's kernels as an equal. The halves stay in the caller's session (Ctrl-C reaches them directly)."""
    # The caller's nice, or "root": a process whose session was never left since boot (PID 1's, where CI's
    # commands run) is in Linux's root autogroup, whose file reads empty and whose nice cannot be set.
    base = (run_tests.AUTOGROUP.read_text().split() or ["root"])[-1]
    probe = subprocess.run([sys.executable, "-c", AUTOGROUP_PROBE], start_new_session=True, capture_output=True,
                           text=True)
    if probe.returncode:
        pytest.skip(f"this system refuses autogroup changes: {probe.stdout.strip()}")
    assert run_tests.main([]) == 0
    seen = {line.split()[1]: line.split()[11:14:2] for line in capfd.readouterr().out.splitlines()
            if line.startswith("FAKE-PYTEST")}
    assert seen["rest"] == seen["beside"] == ["leader", str(run_tests.NICE)], seen
    assert seen["03_to_05"] == seen["not_03_to_05"] == ["member", base], seen


def test_ci_learns_when_the_real_tier_has_ended(fake_pytest, monkeypatch, tmp_path, capfd):
    """While the rest still runs (CI starts the oldest-pair tests then), a failing half included; the parts
    never see the variable."""
    done = tmp_path / "real-tier-done"
    monkeypatch.setenv("COURSE_REAL_TIER_DONE", str(done))
    monkeypatch.setenv("FAKE_REST_WAITS_FOR", str(done))
    monkeypatch.setenv("FAKE_EXIT_03_to_05", "1")  # a failing half ends the real tier all the same
    assert run_tests.main([]) == 1
    out = capfd.readouterr().out
    assert "the rest passed" in out and "real tier 03-05 FAILED" in out, out
    assert done.exists()
    done.unlink()
    monkeypatch.setattr(run_tests, "parts", lambda: 1 / 0)  # a run that fails before anything started
    with pytest.raises(ZeroDivisionError):
        run_tests.main([])
    assert done.exists(), "CI waits for this file: it is written whatever happened"


def test_the_rests_kernels_start_by_lowering_their_sessions_priority(fake_pytest, capfd, tmp_path, monkeypatch):
    """Jupyter starts each kernel in a session of its own: the rest's kernels yield through IPython's startup."""
    monkeypatch.delenv("IPYTHONDIR", raising=False)  # (make test's own, when this test runs in its rest)
    monkeypatch.setattr(run_tests, "AUTOGROUP", tmp_path)  # as on Linux
    assert run_tests.main([]) == 0
    seen = {line.split()[1]: line.split()[7:10:2] for line in capfd.readouterr().out.splitlines()
            if line.startswith("FAKE-PYTEST")}
    assert seen["03_to_05"] == seen["not_03_to_05"] == ["-", "-"], seen
    assert seen["rest"] == seen["beside"] and seen["rest"][1] == "00-yield-to-the-real-tier.py", seen
    # The startup code, run as a session leader and not: it writes only in the first case.
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("/autogroup-1 nice 0")
    code = compile(run_tests.KERNEL_STARTUP.replace("/proc/self/autogroup", autogroup.as_posix()), "startup", "exec")
    monkeypatch.setattr(os, "getsid", lambda pid: 1, raising=False)
    monkeypatch.setattr(os, "getpid", lambda: 2)
    namespace = {}
    exec(code, namespace)
    assert autogroup.read_text() == "/autogroup-1 nice 0", "another session's priority is left alone"
    monkeypatch.setattr(os, "getpid", lambda: 1)
    exec(code, namespace)
    assert autogroup.read_text() == str(run_tests.NICE)
    assert set(namespace) == {"__builtins__"}, "nothing left in the kernel's namespace"


def test_a_callers_ipythondir_and_a_system_without_autogroups_are_left_alone(fake_pytest, capfd, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(run_tests, "AUTOGROUP", tmp_path / "none")  # macOS, Windows, or no autogroup
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    assert run_tests.main([]) == 0
    assert all(line.split()[7] == "-" for line in capfd.readouterr().out.splitlines() if line.startswith("FAKE-PYTEST"))


def test_each_half_gets_its_share_of_the_cores_for_tensorflow_and_the_rest_the_default(fake_pytest, monkeypatch,
                                                                                      capfd):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert run_tests.intra_op_threads() == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert run_tests.intra_op_threads() == 1, "at least one"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert run_tests.main([]) == 0
    threads = {line.split()[1]: line.split()[5] for line in capfd.readouterr().out.splitlines()
               if line.startswith("FAKE-PYTEST")}
    assert threads == {"rest": "default", "beside": "default", "03_to_05": "1", "not_03_to_05": "1"}, threads
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")  # the caller's choice is kept
    assert run_tests.main([]) == 0
    base = os.nice(0) if hasattr(os, "nice") else 0
    assert f"03_to_05 nice {base} threads 3" in capfd.readouterr().out


@pytest.mark.parametrize("failing", ["rest", "beside", "03_to_05", "not_03_to_05"])
def test_a_failure_in_any_part_fails_the_run_and_is_named(fake_pytest, monkeypatch, capfd, failing):
    monkeypatch.setenv(f"FAKE_EXIT_{failing}", "1")
    assert run_tests.main([]) == 1
    out = capfd.readouterr().out
    label = {"rest": "the rest", "beside": "solutions, exercises and subprocess tests", "03_to_05": "real tier 03-05",
             "not_03_to_05": "real tier 06-08"}[failing]
    assert f"{label} FAILED (exit 1)" in out and out.count("FAILED") == 1, out
    assert out.count("FAKE-PYTEST") == 4, "every part still runs and its report is shown"


def test_the_files_beside_the_rest_read_nothing_of_nbvals_run_and_hold_no_real_tier_test():
    """They run in a pytest of their own: nbval's run of the notebooks (tests/notebook_runs.py) is not there."""
    for path in run_tests.BESIDE_REST:
        text = (run_tests.ROOT / path).read_text()
        assert "executed_" "notebooks" not in text and "pytest.mark." "real" not in text, path  # (split: this file is one)
    rest, beside = run_tests.parts()[:2]
    assert [f"--ignore={p}" for p in run_tests.BESIDE_REST] == [a for a in rest[1] if a.startswith("--ignore=")]
    assert rest[1][:2] == beside[1][-2:] == ["-m", "not real and not browser"]


def test_serial_runs_one_pytest_with_every_test(fake_pytest, capfd):
    assert run_tests.main(["--serial"]) == 0
    out = capfd.readouterr().out
    assert out.count("FAKE-PYTEST") == 1 and "FAKE-PYTEST rest" in out


def test_without_a_report_file_nothing_is_written(fake_pytest, monkeypatch):
    monkeypatch.delenv("COURSE_REAL_TIER_REPORT")
    assert run_tests.main([]) == 0
    assert not fake_pytest.exists()


def test_a_k_or_m_option_is_refused_as_it_would_replace_the_split(fake_pytest, capsys):
    with pytest.raises(SystemExit):
        run_tests.main(["-k", "notebook_06"])
    assert "--serial" in capsys.readouterr().err


@pytest.mark.slow  # seven pytest collections (~15 s)
def test_the_halves_select_the_real_tier_exactly_once_and_the_rest_none_of_it():
    """The real split, collected (nothing runs): each real-tier test in exactly one half, none in the rest."""
    import subprocess

    def collected(*args, real_tier_only=True):
        done = subprocess.run(run_tests._pytest(*args, "--collect-only", "-q", "-p", "no:cacheprovider"),
                              cwd=run_tests.ROOT, capture_output=True, text=True, check=False)
        ids = {line for line in done.stdout.splitlines() if "::" in line}
        return {i.split("::")[1] for i in ids if i.startswith(run_tests.REAL_TIER + "::")} if real_tier_only else ids

    halves = [collected(run_tests.REAL_TIER, "-m", "real", "-k", k) for k in run_tests.HALVES.values()]
    everything = collected(run_tests.REAL_TIER)
    assert len(everything) >= 4 and all(halves), halves
    assert not halves[0] & halves[1] and halves[0] | halves[1] == everything
    assert not collected(run_tests.REAL_TIER, "-m", "not real and not browser"), "the rest runs no real-tier test"
    # The rest and the solutions-and-exercises process: together every other test, none twice.
    rest, beside = (collected(*args, real_tier_only=False) for _, args, real in run_tests.parts() if not real)
    assert rest and beside and not rest & beside
    assert rest | beside == collected("-m", "not real and not browser", real_tier_only=False)


def test_stopping_terminates_what_still_runs_and_kills_what_ignores_it():
    import subprocess
    import time

    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stubborn = subprocess.Popen([sys.executable, "-c",
                                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE, text=True)
    stubborn.stdout.readline()  # its handler is set
    start = time.perf_counter()
    run_tests._stop([polite, stubborn, None], grace=1.0)
    assert polite.poll() is not None and stubborn.poll() is not None and time.perf_counter() - start < 10


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_stopping_sends_sigterm_again_before_it_kills():
    """As when nbclient's handler took the first SIGTERM (it shuts its kernel down, the test fails) and the
    next one meets end_on_sigterm's."""
    import signal
    import subprocess
    import time

    first_one_taken = subprocess.Popen([sys.executable, "-c",
                                        "import signal, time\n"
                                        "signal.signal(signal.SIGTERM, lambda *a: signal.signal(signal.SIGTERM, signal.SIG_DFL))\n"
                                        "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    first_one_taken.stdout.readline()
    start = time.perf_counter()
    run_tests._stop([first_one_taken], grace=20.0, every=0.5)
    assert first_one_taken.returncode == -signal.SIGTERM, "ended by the second SIGTERM, not killed"
    assert time.perf_counter() - start < 5


# A pytest run whose fixture stands in for a Jupyter kernel: its teardown takes a moment and leaves a mark.
STOPPED_CONFTEST = """
import sys
sys.path.insert(0, {tests!r})
from run_tests import end_on_sigterm
end_on_sigterm()

def pytest_runtest_setup(item):
    end_on_sigterm()
"""
STOPPED_TEST = """
import pathlib, time
import pytest

@pytest.fixture
def kernel(tmp_path_factory):
    yield
    time.sleep(1.0)  # a kernel's shutdown; a SIGTERM that arrives now must not cut it short
    pathlib.Path({mark!r}).write_text("shut down")

def test_a_notebook_ran_before():  # as papermill's nbclient leaves the process
    import asyncio, signal
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: None)
    loop.remove_signal_handler(signal.SIGTERM)
    loop.close()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL

def test_long(kernel):
    pathlib.Path({ready!r}).write_text("ready")
    time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals: Windows' terminate is immediate")
@pytest.mark.parametrize("signals", [("SIGTERM",), ("SIGINT", "SIGTERM")], ids=["sigterm", "ctrl-c-then-stop"])
def test_a_stopped_pytest_still_tears_down_what_its_tests_started(tmp_path, signals):
    """CI's timeout or `_stop` (SIGTERM), or the terminal's Ctrl-C followed by `_stop`'s SIGTERM half a second
    later: pytest ends as interrupted (exit 2) after its teardown ran to the end, where kernels are shut down."""
    import signal
    import subprocess
    import time

    mark, ready = tmp_path / "teardown.txt", tmp_path / "ready.txt"
    (tmp_path / "conftest.py").write_text(STOPPED_CONFTEST.format(tests=str(run_tests.ROOT / "tests")))
    (tmp_path / "test_stopped.py").write_text(STOPPED_TEST.format(mark=str(mark), ready=str(ready)))
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    try:
        deadline = time.perf_counter() + 60
        while not ready.exists() and time.perf_counter() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=60)[0]
        for name in signals:
            proc.send_signal(getattr(signal, name))
            time.sleep(0.5)  # the second arrives during the teardown
        output = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()  # (a no-op once it has ended)
    assert proc.returncode == 2, output  # pytest's "interrupted"
    assert mark.read_text() == "shut down", output
    assert "KeyboardInterrupt" in output


def test_every_pytest_process_of_the_suite_ends_on_sigterm_as_on_ctrl_c():
    import signal

    import conftest

    handler = signal.getsignal(signal.SIGTERM)
    assert getattr(handler, "__self__", None) is run_tests._HANDLER  # set by conftest.py
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as papermill's nbclient leaves it
    try:
        conftest.pytest_runtest_setup(None)  # before the next test
        assert signal.getsignal(signal.SIGTERM) == run_tests._HANDLER.on_sigterm
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_priority_write_refused_for_the_100_ms_limit_is_tried_again_and_others_are_not(monkeypatch):
    class Autogroup:
        def __init__(self, errors):
            self.errors, self.written = list(errors), []

        def write_text(self, text):
            if self.errors:
                raise OSError(self.errors.pop(0), "refused")
            self.written.append(text)

    monkeypatch.setattr(run_tests.time, "sleep", lambda s: None)
    busy = Autogroup([errno.EAGAIN, errno.EAGAIN])
    monkeypatch.setattr(run_tests, "AUTOGROUP", busy)
    run_tests._set_autogroup_nice()
    assert busy.written == [str(run_tests.NICE)]
    denied = Autogroup([errno.EACCES, errno.EAGAIN])
    monkeypatch.setattr(run_tests, "AUTOGROUP", denied)
    run_tests._set_autogroup_nice()
    assert denied.written == [] and denied.errors == [errno.EAGAIN], "one try, then left alone"
