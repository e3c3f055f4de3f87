"""Execute every notebook of the course headless, in order, into an outputs folder.

    python -m course_utils.run_course [--profile auto|smoke|fast|full] [--backbone vgg16|...]
                                      [--data-folder PATH] [--output outputs]

The source notebooks are never written to: executed copies go to <output>/notebooks/.
The profile is resolved once (``auto`` falls back to ``smoke`` offline, and says so) and
passed to every notebook as its PROFILE parameter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import claims, paths, profiles


def _headline(results_md: Path) -> str:
    """The methods table of results.md (its first Markdown table, with the note above it)."""
    lines = results_md.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| method")), None)
    if start is None:
        return ""
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    note = [line for line in lines[:start] if line.startswith("**")]
    return "\n".join(note + lines[start:end])


def notebooks_in(folder: Path) -> list[Path]:
    """The course notebooks of a folder, in reading order (by their numbered names)."""
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def execute(notebook: Path, output: Path, profile: str, progress: bool = True,
            extra: dict | None = None) -> float:
    """Run one notebook with papermill (PROFILE=profile) into `output`; returns seconds.

    `extra` parameters (BACKBONE, DATA_FOLDER, ...) are passed to the notebooks that have
    them. The kernel inherits this process's environment, COURSE_OUTPUT_DIR included, so
    models, results and claims land in the run's output folder.
    """
    import papermill as pm

    known = pm.inspect_notebook(str(notebook))
    parameters = {"PROFILE": profile, **{k: v for k, v in (extra or {}).items() if k in known and v}}
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pm.execute_notebook(
        str(notebook), str(output), parameters=parameters,
        cwd=str(notebook.parent), progress_bar=progress, kernel_name="python3",
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    previous = os.environ.get("COURSE_OUTPUT_DIR")
    try:
        return _main(argv)
    finally:  # the notebooks' output folder was set for this run only
        if previous is None:
            os.environ.pop("COURSE_OUTPUT_DIR", None)
        else:
            os.environ["COURSE_OUTPUT_DIR"] = previous


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description="Run every course notebook headless.")
    parser.add_argument("--profile", default=None, help=f"one of {', '.join(profiles.names())}")
    parser.add_argument("--notebooks", type=Path, default=None, help="folder of notebooks")
    parser.add_argument("--output", type=Path, default=None, help="outputs folder")
    parser.add_argument("--backbone", default="", help="BACKBONE of notebooks 03-05 (default: the profile's, vgg16 in fast and full)")
    parser.add_argument("--data-folder", default="", help="DATA_FOLDER: your folder of class sub-folders")
    parser.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    args = parser.parse_args(argv)

    root = paths.repo_root() or Path.cwd()
    nb_dir = args.notebooks or root / "notebooks"
    if args.data_folder:  # the kernels run in notebooks/: a relative path means the caller's directory
        args.data_folder = str(Path(args.data_folder).expanduser().resolve())
        if not Path(args.data_folder).is_dir():
            print(f"--data-folder {args.data_folder}: no such folder. Give the folder holding one sub-folder "
                  "per class.", file=sys.stderr)
            return 2
    try:
        out_dir = (args.output or paths.outputs_dir()).expanduser()
    except NotADirectoryError as err:
        print(err, file=sys.stderr)
        return 2
    if out_dir.exists() and not out_dir.is_dir():
        print(f"--output {out_dir} is a file, not a folder: give a folder (created if missing).", file=sys.stderr)
        return 2
    os.environ["COURSE_OUTPUT_DIR"] = str(out_dir.resolve())  # notebooks write their files here
    os.environ.setdefault("COURSE_TENSORBOARD", "0")  # headless: 04 writes its logs but starts no TensorBoard server
    _, resolved = profiles.for_backbone(
        args.profile, args.backbone,
        dataset_ready=(lambda _: Path(args.data_folder).expanduser().is_dir()) if args.data_folder else None)
    print(resolved.banner(), flush=True)
    notebooks = notebooks_in(nb_dir)
    if not notebooks:
        print(f"No notebooks found in {nb_dir}.", file=sys.stderr)
        return 2
    if nb_dir.resolve() in {out_dir.resolve(), (out_dir / "notebooks").resolve()}:
        print(f"Refusing to write executed notebooks over the sources in {nb_dir}: "
              "choose another --output folder.", file=sys.stderr)
        return 2

    # Claims and results are this run's alone: clear the previous run's ledger and results.
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (out_dir / "claims.json", out_dir / "results.json", out_dir / "results.md"):
        stale.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    failed = None
    for i, nb in enumerate(notebooks, 1):
        target = out_dir / "notebooks" / nb.name
        print(f"[{i}/{len(notebooks)}] {nb.name} ...", flush=True)
        try:
            timings[nb.name] = execute(nb, target, resolved.name, progress=not args.no_progress,
                                       extra={"BACKBONE": args.backbone, "DATA_FOLDER": args.data_folder})
        except Exception as err:  # papermill raises PapermillExecutionError with the cell
            failed = nb.name
            print(f"[{i}/{len(notebooks)}] {nb.name} FAILED: {err}\n"
                  f"The partly executed notebook is at {target}.", file=sys.stderr, flush=True)
            break
        print(f"[{i}/{len(notebooks)}] {nb.name} done in {timings[nb.name]:.1f} s -> {target}",
              flush=True)

    summary = {"profile": resolved.profile.as_dict(), "requested": resolved.requested,
               "reason": resolved.reason, "meaningful": resolved.meaningful,
               "seconds": timings, "failed": failed}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "run_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\nnotebook                               seconds")
    for name, secs in timings.items():
        print(f"{name:<38} {secs:8.1f}")
    print(f"{'total':<38} {sum(timings.values()):8.1f}")
    results_md = out_dir / "results.md"
    if results_md.exists():
        print("\n" + _headline(results_md))
    print(f"\nexecuted notebooks: {out_dir / 'notebooks'}")
    print(f"results: {results_md if results_md.exists() else '(not written: notebook 05 did not run)'}; "
          f"run summary: {out_dir / 'run_summary.json'}")
    print(claims.summary())
    if not resolved.meaningful:
        print("Profile smoke: the numbers in these notebooks check that the code runs; "
              "they are not results (no pretrained weights).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
