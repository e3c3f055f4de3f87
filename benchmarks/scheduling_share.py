"""How much of the cores the real tier's halves keep when the rest of `make test` runs beside them, by the
rest's priority (``tests/run_tests.NICE``). Linux only: it measures autogroup scheduling.

`make test` runs the real tier's two halves beside the rest (tests/run_tests.py). Their work is done in
Jupyter kernels, each in a session of its own at nice 0; the rest's pytest processes and kernels each lead a
session whose process and autogroup nice is ``NICE``. This script rebuilds that layout with busy loops: two
"halves" (a fixed amount of work each, sessions of their own, nice 0) beside four "rest" processes (sessions
of their own, process and autogroup nice N, spinning), and times the halves, alone and for each N. The
rounds alternate, so a change in the machine's speed during the run reaches every N alike.

    python benchmarks/scheduling_share.py                # writes benchmarks/results/scheduling_share.md
    python benchmarks/scheduling_share.py --rounds 1 --loops 1000000 --out -   # a quick look, printed
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUTOGROUP = Path("/proc/self/autogroup")
HALF = "import time\nt = time.perf_counter()\nx = 0\nfor i in range({loops}): x += i\nprint(time.perf_counter() - t)"
sys.path.insert(0, str(ROOT / "tests"))
from run_tests import kernel_startup  # noqa: E402  the code the rest's kernels start with in `make test`


def rest(nice: int) -> str:
    """A rest process: its nice, its session's autogroup at the same nice (the startup code of the rest's
    kernels, retries on EAGAIN included), then it spins until it is killed."""
    return f"import os\nos.nice({nice})\n{kernel_startup(nice)}\nwhile True:\n    pass\n"


def halves_seconds(nice: int | None, loops: int, rests: int = 4) -> list[float]:
    """The two halves' wall times, beside ``rests`` spinning processes at ``nice`` (None: nothing beside)."""
    beside = [subprocess.Popen([sys.executable, "-c", rest(nice)], start_new_session=True)
              for _ in range(rests if nice is not None else 0)]
    try:
        time.sleep(1.0)  # their priority set before the halves start; checked: a layout not built is not timed
        for process in beside:
            group = Path(f"/proc/{process.pid}/autogroup").read_text().split()
            if group[-2:] != ["nice", str(nice)]:
                raise SystemExit(f"scheduling_share: a rest process's autogroup is {' '.join(group)!r}, not "
                                 f"nice {nice}: this system refused the change")
        halves = [subprocess.Popen([sys.executable, "-c", HALF.format(loops=loops)], start_new_session=True,
                                   stdout=subprocess.PIPE, text=True) for _ in range(2)]
        return [float(half.communicate()[0]) for half in halves]
    finally:
        for process in beside:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nice", type=int, nargs="+", default=[10, 19], help="the rest's nice values to compare")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each times every setting once")
    parser.add_argument("--loops", type=int, default=200_000_000, help="each half's work (~13 s idle, 2 cores)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scheduling_share.md"),
                        help="the Markdown file to write, or - to print only")
    args = parser.parse_args(argv)
    if not AUTOGROUP.exists() or not hasattr(os, "setsid"):
        print("scheduling_share: Linux autogroups only; nothing to measure here", file=sys.stderr)
        return 2
    settings: list[int | None] = [None, *args.nice]
    seconds: dict[int | None, list[float]] = {setting: [] for setting in settings}
    for round_ in range(args.rounds):
        for setting in settings:
            seconds[setting] += halves_seconds(setting, args.loops)
            print(f"round {round_ + 1}: rest at nice {setting if setting is not None else '-'}: halves "
                  + ", ".join(f"{s:.1f} s" for s in seconds[setting][-2:]), flush=True)
    alone = statistics.mean(seconds[None])
    rows = ["| the rest beside the halves | halves' mean wall time | against alone |", "|---|---:|---:|"]
    for setting in settings:
        mean = statistics.mean(seconds[setting])
        label = "nothing (the halves alone)" if setting is None else f"4 busy processes at nice {setting}"
        rows.append(f"| {label} | {mean:.1f} s (n={len(seconds[setting])}, "
                    f"{min(seconds[setting]):.1f}-{max(seconds[setting]):.1f}) | {mean / alone - 1:+.0%} |")
    command = "python benchmarks/scheduling_share.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "# The real tier's share of the cores, by the rest's priority",
        "",
        f"Run on {datetime.now(timezone.utc).isoformat(timespec='seconds')} (UTC), {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}. Command: `{command.strip()}`.",
        "",
        "Two halves (a fixed busy loop each, sessions of their own at nice 0, as the real tier's kernels) beside "
        "four spinning processes in sessions of their own at process and autogroup nice N (as the rest's "
        "pytest processes and kernels in `make test`); generated by the script, not typed.",
        "",
        *rows,
        ""])
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
