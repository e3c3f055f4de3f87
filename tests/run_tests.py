"""``make test``: the whole pytest suite in four processes, the real tier's two halves first.

One ``pytest`` runs everything in one process (``python -m pytest``: the same tests, the same checks).
This script runs the same tests in four processes instead, because on the 2-core build machine one
process leaves a core idle most of the time: the rest of the suite (ruff, unit tests, the smoke tier
through nbval and papermill) kept about one core busy (measured 2026-12-04: 656 s of CPU in 666 s),
and the real tier is two long, independent runs of notebooks:

* the foreground: ``pytest -m "not real and not browser"`` without the files of ``BESIDE_REST``, its
  report streamed as it runs;
* in the background: those files (the solutions and the exercises: kernels of their own, nothing read
  from nbval's run), and the real tier (``tests/test_real_tier.py``) in two halves of about equal time
  (03-05; 06, 07 and 08), each its own pytest, their reports printed after the foreground's.

The two processes of the rest run at a lower priority (``os.nice``, POSIX): the real tier's halves are
the longest, and the rest fills the time they leave a core idle. Where Linux groups processes by session
for scheduling (autogroups), they run in a session of their own whose group is lowered too
(``own_session``, ``_lower_priority``), and so do their kernels, which Jupyter starts in sessions of their
own (``KERNEL_STARTUP``). ``COURSE_REAL_TIER_DONE``: a file created when the halves have ended (CI starts the
oldest-pair unit tests then). Each half's TensorFlow gets its share of
the cores (``TF_NUM_INTRAOP_THREADS``, ``intra_op_threads``). Measured idle on 2 cores: see
docs/testing.md and README's times line.

Each process has its own temporary and outputs folders (conftest.py, ``--basetemp``). With
``COURSE_REAL_ASSETS`` (CI) each real-tier test has its own data folder too; after ``make fetch`` they share
the course's data folder, whose files are written under per-process temporary names and renamed.
``-k`` and ``-m`` are refused (they would replace the split): use ``--serial`` to choose tests.
Ctrl-C or SIGTERM stops the four (each pytest ends as interrupted, teardown and summary included,
``end_on_sigterm``; killed after ``GRACE_S``) and still prints the background logs. The real-tier reports of the
two halves (``COURSE_REAL_TIER_REPORT``) are merged into the file that variable names, 03-05 first.
The exit status is non-zero when any of the four fails. ``--serial``: one pytest process, as
``python -m pytest``. Any other argument is passed to every pytest.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_TIER = "tests/test_real_tier.py"
# The real tier's tests in two halves of about equal time: label -> pytest -k expression.
HALVES = {"real tier 03-05": "03_to_05", "real tier 06-08": "not 03_to_05"}


# Tests that read nothing of nbval's run, most of them starting kernels or subprocesses of their own: a process
# of their own beside the rest (measured 2026-12-04: with the solutions and exercises alone it ended at 491 s,
# the rest at 897 s; these slow unit tests moved over to even them out; with the rest in sessions of its own,
# the rest ended at 899 s and this process at 714 s: test_output_checks and test_predict, ~50 s, moved too).
BESIDE_REST = ("tests/test_solutions.py", "tests/test_exercises_run.py", "tests/test_kit.py", "tests/test_run_course.py",
               "tests/test_benchmark.py", "tests/test_portability.py", "tests/test_quiet.py", "tests/test_run_tests.py",
               "tests/test_output_checks.py", "tests/test_predict.py")
# The rest's two processes yield the cores to the real tier's halves: those are the longest, and the rest fills
# the time they leave a core idle (POSIX nice; elsewhere all four run at the same priority). 19, the lowest:
# beside four busy processes at nice 10 the halves took 19-22 % longer than alone, at 19 7-9 % (two runs)
# (benchmarks/scheduling_share.py; in CI on fresh clones the halves took 643 and 656 s at 10, 591 and 612 s
# at 19, make test 987 and 1,002 s: the rest catches up once the halves have ended).
NICE = 19
BESIDE = ("03-05 and 06-08 ran as two processes beside the rest of `make test` (two more processes, at lower "
          "priority) on the same cores, TensorFlow on {threads} intra-op thread(s) each: tests/run_tests.py")


def _pytest(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *args]


def parts() -> list[tuple[str, list[str], bool]]:
    """(label, pytest arguments, a real-tier half?) of each process; the first runs in the foreground."""
    selection = ["-m", "not real and not browser"]
    return [("the rest", [*selection, *(f"--ignore={path}" for path in BESIDE_REST)], False),
            ("solutions, exercises and subprocess tests", [*BESIDE_REST, *selection], False),
            *((label, [REAL_TIER, "-m", "real", "-k", expression], True) for label, expression in HALVES.items())]


# Jupyter starts every kernel in a session of its own, and Linux (with autogroup scheduling, the default on
# most distributions) shares the cores between sessions before it looks at a process's nice value: a kernel
# of the rest would get as much as a real-tier kernel. IPython runs this at each kernel's start in the rest's
# processes (their IPYTHONDIR), so their kernels' sessions yield too. (benchmarks/scheduling_share.py runs it
# at other nice values: it measures what this layout leaves the halves.)
def kernel_startup(nice: int = NICE) -> str:
    return f"""# Written by tests/run_tests.py for a kernel of the rest of `make test`: it yields the cores to the
# real tier's kernels. Linux only, and only for a kernel that leads its own session (Jupyter starts them so):
# another session (the terminal's) is left alone.
def _yield_to_the_real_tier():
    import errno, os, time
    if os.getsid(0) != os.getpid():
        return
    for _ in range(5):  # as _set_autogroup_nice: one such write per 100 ms without CAP_SYS_ADMIN (EAGAIN)
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write("{nice}")
            return
        except OSError as error:
            if error.errno != errno.EAGAIN:
                return
            time.sleep(0.11)


_yield_to_the_real_tier()
del _yield_to_the_real_tier
"""


KERNEL_STARTUP = kernel_startup()
AUTOGROUP = Path("/proc/self/autogroup")  # Linux's per-session scheduling group, where it has one


def _lower_priority() -> None:
    """In the child, before it runs pytest: nice ``NICE``, and where Linux has autogroups, the scheduling group
    of the session it leads (``own_session``) at ``NICE`` too. Its own unit tests run in that process: in the
    caller's session they would share the cores with the real tier's kernels as equals (docs/testing.md has
    the times)."""
    os.nice(NICE)
    if os.getsid(0) == os.getpid():
        _set_autogroup_nice()


def _set_autogroup_nice(tries: int = 5) -> None:
    """Writes ``NICE`` to this process's autogroup. Without CAP_SYS_ADMIN (a learner, most containers) Linux
    accepts one such write per 100 ms, system-wide, and answers EAGAIN to the others: the rest's two processes
    start together, so the second one waits and tries again. Any other refusal leaves the priority as it is.
    (``KERNEL_STARTUP`` writes the same loop out: a kernel cannot import this file.)"""
    for _ in range(tries):
        try:
            AUTOGROUP.write_text(str(NICE))
            return
        except OSError as error:
            if error.errno != errno.EAGAIN:
                return
            time.sleep(0.11)


def own_session(real: bool) -> bool:
    """Whether a part starts a session of its own: the rest's two processes, where autogroups exist. The
    terminal's Ctrl-C then reaches only the real tier's halves and this script, which stops the rest with
    SIGTERM (``_stop``; pytest ends as interrupted, ``end_on_sigterm``)."""
    return not real and hasattr(os, "setsid") and AUTOGROUP.exists()


def _ipython_dir(work: Path) -> Path:
    """An IPYTHONDIR whose kernels start with ``KERNEL_STARTUP`` (IPython's profile_default/startup/)."""
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-yield-to-the-real-tier.py").write_text(KERNEL_STARTUP)
    return work / "ipython"


def intra_op_threads() -> int:
    """Each real-tier half's share of the cores, for TensorFlow's intra-op thread pool.

    By default every TensorFlow process splits each operation over all the cores: two halves doing so
    on the same 2 cores wait for each other's threads. Measured on 2 cores (2026-12-04), beside the
    rest: 795 and 798 s with TensorFlow's default, see docs/testing.md for one thread each. (``main`` keeps a
    ``TF_NUM_INTRAOP_THREADS`` the caller set.)"""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // len(HALVES))


def merge_reports(parts: list[Path], target: Path) -> int:
    """The real tier's report entries of every half, in order, into `target`; how many entries."""
    entries = []
    for part in parts:
        if part.exists() and part.stat().st_size:
            entries += json.loads(part.read_text())
    if entries:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(entries, indent=2) + "\n")
        os.replace(tmp, target)
    return len(entries)


def _real_tier_done() -> None:
    """Creates the file ``COURSE_REAL_TIER_DONE`` names, if set, once the real tier's halves have ended: CI
    (.ci/run) starts the oldest-pair unit tests then, on cores the halves no longer need."""
    done = os.environ.get("COURSE_REAL_TIER_DONE")
    if done and not os.path.exists(done):
        try:
            Path(done).touch()
        except OSError as error:  # CI's waiter stops when make test ends anyway
            print(f"run_tests: could not create COURSE_REAL_TIER_DONE: {error}", flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class _EndOnSigterm:
    """A pytest process's SIGTERM ends it as Ctrl-C does: its teardown runs (kernels shut down, temporary
    folders removed) and it prints which test it was in and the summary, where SIGTERM's default ends it at
    once. The rest of ``make test`` runs in a session of its own (``own_session``), out of reach of the
    terminal's Ctrl-C: ``_stop``'s SIGTERM is how it is interrupted. Once the process has been interrupted
    (Ctrl-C, or a first SIGTERM), later SIGTERMs are ignored: the terminal's Ctrl-C reached every process of
    its group, then ``_stop`` terminates what still runs, and that teardown goes on. Every Ctrl-C still
    interrupts, as with Python's default handler, which this replaces only where it is installed (an ignored
    SIGINT stays ignored). Replaced, it no longer lets ``asyncio.run`` (3.11+) install its own Ctrl-C
    handling: a Ctrl-C raises KeyboardInterrupt where the event loop stands, as before Python 3.11."""

    def __init__(self):
        self.interrupted = False

    def on_sigint(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def on_sigterm(self, signum, frame):
        if self.interrupted:
            return
        self.interrupted = True
        raise KeyboardInterrupt


_HANDLER = _EndOnSigterm()  # one per process: its flag outlives a reinstall


def end_on_sigterm() -> None:
    """Called by tests/conftest.py in every pytest process, at its start and before each test: papermill's
    nbclient sets handlers of its own for SIGINT and SIGTERM while it executes a notebook in the pytest
    process, and leaves SIGTERM at the system default when it ends (POSIX; Windows' terminate is immediate).
    Signal handlers belong to the main thread: a pytest started in another thread keeps Python's."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # an ignored SIGINT stays ignored
        signal.signal(signal.SIGINT, _HANDLER.on_sigint)
    signal.signal(signal.SIGTERM, _HANDLER.on_sigterm)


# How long a stopped pytest gets to tear down (shut its kernels down) and print its report before it is killed.
GRACE_S = 30.0


def _show(background: list) -> None:
    """Each background process's log, after a header (UTF-8 bytes: a Windows console's code page may lack some)."""
    for label, _, log_path in background:
        print(f"\n{'=' * 30} {label} (ran beside the rest) {'=' * 30}", flush=True)
        sys.stdout.buffer.write(log_path.read_bytes())
        sys.stdout.flush()


def _stop(procs: list, grace: float = GRACE_S, every: float = 5.0) -> None:
    """Terminate what still runs (its pytest ends as on Ctrl-C: ``end_on_sigterm``), again every `every`
    seconds, and kill what still runs after `grace` seconds. Again: a SIGTERM that lands while nbclient
    executes a notebook only makes nbclient shut that kernel down (its own handler); the next one, once the
    test has failed, meets ``end_on_sigterm``'s. A pytest already interrupted ignores the repeats."""
    alive = [p for p in procs if p is not None and p.poll() is None]
    deadline = time.perf_counter() + grace
    while alive:
        for proc in alive:
            proc.terminate()
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        end = time.perf_counter() + min(every, left)
        while time.perf_counter() < end and any(p.poll() is None for p in alive):
            time.sleep(0.05)
        alive = [p for p in alive if p.poll() is None]
    for proc in alive:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serial", action="store_true", help="one pytest process (python -m pytest)")
    args, extra = parser.parse_known_args(argv)
    if args.serial:
        return subprocess.call(_pytest(*extra), cwd=ROOT)
    chosen = [a for a in extra if a[:2] in ("-k", "-m")]
    if chosen:  # pytest keeps the last -k/-m: it would replace the split between the four processes
        parser.error(f"{' '.join(chosen)}: choose tests with --serial (one pytest), or run pytest itself")
    # A CI timeout or a killed make sends SIGTERM: end as on Ctrl-C (children stopped, their logs shown).
    previous = signal.signal(signal.SIGTERM, _interrupt)

    work = Path(tempfile.mkdtemp(prefix="course-real-tier-"))
    report = os.environ.get("COURSE_REAL_TIER_REPORT")
    background, rest = [], None
    start = time.perf_counter()
    try:
        halves, ipython_dir = 0, _ipython_dir(work)
        for n, (label, args, real) in enumerate(parts()):
            env = dict(os.environ)
            env.pop("COURSE_REAL_TIER_DONE", None)  # this script's to create, not a test's (test_run_tests.py)
            if real:
                env.setdefault("TF_NUM_INTRAOP_THREADS", str(intra_op_threads()))
                env["COURSE_REAL_TIER_BESIDE"] = BESIDE.format(threads=env["TF_NUM_INTRAOP_THREADS"])
                if report:
                    env["COURSE_REAL_TIER_REPORT"] = str(work / f"report-{halves}.json")
                halves += 1
            cache = [] if n == 0 else ["-p", "no:cacheprovider"]  # the rest keeps pytest's cache (--lf)
            command = _pytest(*args, *cache, f"--basetemp={work / f'tmp-{n}'}", *extra)
            lower = None if real or not hasattr(os, "nice") else _lower_priority  # os.nice: POSIX only
            if not real and AUTOGROUP.exists() and "IPYTHONDIR" not in os.environ:  # a caller's own is kept
                env["IPYTHONDIR"] = str(ipython_dir)
            if n == 0:  # the rest, its report streamed as it runs
                rest = subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=lower,
                                        start_new_session=own_session(real))
                continue
            log_path = work / f"log-{n}.txt"
            with open(log_path, "w") as log:
                proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=lower, start_new_session=own_session(real))
            background.append((label, proc, log_path))
        print(f"run_tests: {', '.join(label for label, _, _ in background)} started in the background "
              "(their reports follow this one)", flush=True)
        running = {"the rest": rest, **{label: proc for label, proc, _ in background}}
        codes, times = {}, {}
        while len(codes) < len(running):  # each one's own time, whichever ends first
            for label, proc in running.items():
                if label not in codes and proc.poll() is not None:
                    codes[label], times[label] = proc.returncode, time.perf_counter() - start
            if set(HALVES) <= set(codes):
                _real_tier_done()
            time.sleep(0.1)
        _show(background)
        if report:
            merged = merge_reports([work / f"report-{n}.json" for n in range(len(HALVES))], Path(report))
            print(f"run_tests: {merged} real-tier report entries in {report}")
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the children, then show what the background ones logged
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop (a CI timeout after a Ctrl-C) waits too
        _stop([rest, *(proc for _, proc, _ in background)])
        _show(background)
        print("run_tests: interrupted", flush=True)
        return 130
    finally:
        _real_tier_done()  # whatever happened: nobody waits for it in vain
        _stop([rest, *(proc for _, proc, _ in background)], grace=0)
        shutil.rmtree(work, ignore_errors=True)
        if previous is not None:  # (None: a handler not set from Python) the tests call main in their own process
            signal.signal(signal.SIGTERM, previous)
    print("run_tests: " + "; ".join(f"{label} {'passed' if code == 0 else f'FAILED (exit {code})'} in {times[label]:.0f} s"
                                    for label, code in codes.items()), flush=True)
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
