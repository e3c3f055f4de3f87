"""Peak memory (RSS) of every notebook's kernel, in one profile: Binder kills a kernel at 2 GB.

    python benchmarks/notebook_memory.py --profile smoke
    python benchmarks/notebook_memory.py --profile binder --param WEIGHTS=random \\
        --param DATA_FOLDER=/path/to/cats_vs_dogs_folder --label after
    python benchmarks/notebook_memory.py --profile smoke --only 04 05   # some notebooks only

Executes notebooks/*.ipynb in order (04 and 05 reuse what 03 saved, as in ``make course``)
with papermill, each in a fresh kernel, into a temporary outputs folder, and records the
kernel's peak resident memory: ``VmHWM`` of /proc/<pid>/status (the kernel's high-water mark,
read until it exits), polled for every child process of this script. Writes
``benchmarks/results/notebook_memory_<profile>[_<label>].json`` and ``.md``: the table, the
command line that made it, the machine and the limit (2 GB), each notebook marked as within it
or not. It measures memory, not speed: the seconds are printed for orientation only.

RSS does not depend on the values of the weights, so ``--param WEIGHTS=random`` measures a
profile's memory without downloading them (say so with ``--note``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_GB = 2.0  # mybinder.org's memory limit per user pod
GB = 1024**3


def vm_hwm(pid: int) -> int | None:
    """The high-water mark of a process's resident memory, in bytes (None once it is gone).

    The larger of VmHWM and VmRSS: Linux updates VmHWM lazily, so a read can find the current
    VmRSS above it.
    """
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        values = [int(line.split()[1]) * 1024 for line in lines if line.startswith(("VmHWM:", "VmRSS:"))]  # kB
    except (OSError, ValueError):
        return None
    return max(values, default=None)


class PeakWatcher:
    """Polls VmHWM of every descendant process of this one; keeps the largest seen per pid."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _children(self) -> list[int]:
        import psutil

        try:
            return [p.pid for p in psutil.Process().children(recursive=True)]
        except psutil.Error:
            return []

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid in self._children():
                hwm = vm_hwm(pid)
                if hwm is not None and hwm > self.peaks.get(pid, 0):
                    self.peaks[pid] = hwm
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        """The largest VmHWM of one process (the kernel: the only big child)."""
        return max(self.peaks.values(), default=0)


def run_notebook(path: Path, out_dir: Path, parameters: dict, timeout: int) -> dict:
    """Execute one notebook; its kernel's peak RSS, seconds and error (if any)."""
    import papermill as pm

    known = pm.inspect_notebook(str(path))
    params = {k: v for k, v in parameters.items() if k in known}
    (out_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    error = None
    with PeakWatcher() as watch:
        try:
            pm.execute_notebook(str(path), str(out_dir / "notebooks" / path.name), parameters=params,
                                cwd=str(path.parent), kernel_name="python3", progress_bar=False,
                                execution_timeout=timeout)
        except Exception as err:  # papermill raises PapermillExecutionError naming the cell
            error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    return {"notebook": path.name, "peak_rss_gb": round(watch.peak / GB, 3), "seconds": round(time.perf_counter() - start, 1),
            "parameters": params, "error": error, "within_limit": watch.peak / GB <= LIMIT_GB}


def table(results: dict) -> str:
    lines = [
        f"# Peak RSS per notebook, profile `{results['profile']}`"
        + (f" ({results['label']})" if results["label"] else ""),
        "",
        f"Run on {results['date']} (UTC), {results['machine']}. Limit: {LIMIT_GB:g} GB (mybinder.org).",
        "",
        f"Command: `{results['command']}`",
        "",
    ]
    if results["note"]:
        lines += [results["note"], ""]
    lines += ["| notebook | peak RSS (GB) | ≤ 2 GB | seconds (machine loaded: not a speed figure) | error |",
              "|---|---|---|---|---|"]
    for r in results["notebooks"]:
        lines.append(f"| {r['notebook']} | {r['peak_rss_gb']:.2f} | {'yes' if r['within_limit'] else '**no**'} | "
                     f"{r['seconds']:.0f} | {r['error'] or ''} |")
    worst = max(results["notebooks"], key=lambda r: r["peak_rss_gb"], default=None)
    if worst:
        lines += ["", f"Largest: {worst['notebook']}, {worst['peak_rss_gb']:.2f} GB."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke", help="PROFILE given to every notebook")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="another notebook parameter (given to the notebooks that have it)")
    parser.add_argument("--only", nargs="*", default=None, help="notebook name prefixes, e.g. 03 04 05")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--label", default="", help="suffix of the results files, e.g. before / after")
    parser.add_argument("--note", default="", help="a line for the results file (how it was measured)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    parameters = {"PROFILE": args.profile}
    for item in args.param:
        key, _, value = item.partition("=")
        parameters[key.strip()] = value
    notebooks = sorted(p for p in args.notebooks.glob("*.ipynb") if not p.name.startswith("."))
    if args.only:
        notebooks = [p for p in notebooks if any(p.name.startswith(o) for o in args.only)]
    if not notebooks:
        print(f"no notebooks in {args.notebooks}", file=sys.stderr)
        return 2

    # The kernels inherit this environment: offline, quiet, headless, and their own outputs folder.
    os.environ.setdefault("COURSE_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MPLBACKEND", "Agg")
    rows = []
    with tempfile.TemporaryDirectory(prefix="notebook-memory-") as tmp:
        os.environ["COURSE_OUTPUT_DIR"] = tmp
        for path in notebooks:
            r = run_notebook(path, Path(tmp), parameters, args.timeout)
            rows.append(r)
            print(f"{r['notebook']:<40} {r['peak_rss_gb']:6.2f} GB {r['seconds']:7.0f} s {r['error'] or ''}",
                  flush=True)

    import psutil

    results = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                   f"{psutil.virtual_memory().total / GB:.0f} GB RAM, Python {platform.python_version()}",
        "command": "python benchmarks/notebook_memory.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "profile": args.profile, "label": args.label, "note": args.note, "limit_gb": LIMIT_GB,
        "notebooks": rows,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    stem = f"notebook_memory_{args.profile}" + (f"_{args.label}" if args.label else "")
    (args.results / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.results / f"{stem}.md").write_text(table(results))
    print(table(results))
    print(f"written: {args.results / stem}.md and .json")
    return 0 if all(r["within_limit"] and not r["error"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
