"""Times in one place: docs/times.md, generated from a measured run; the notebooks' headers point
there instead of typing seconds (they disagreed with the README before: issue 18)."""

import importlib.util
import json
import re

from conftest import NOTEBOOKS, ROOT

TYPED_TIME = re.compile(r"\d+(?:\.\d+)?\s*(?:s|sec|seconds?|min|minutes?)\b|≈")


def _time_paragraph(path):
    first = "".join(json.loads(path.read_text())["cells"][0]["source"])
    return re.search(r"\*\*Time\.\*\*.*?(?=\n\n|\Z)", first, flags=re.DOTALL).group(0)


def test_notebook_headers_point_to_the_times_page_and_type_no_times():
    for path in NOTEBOOKS:
        text = _time_paragraph(path)
        assert "docs/times.md" in text, f"{path.name}: point the **Time.** line to docs/times.md"
        assert not TYPED_TIME.search(text), f"{path.name}: a typed time in the header ({text!r}): docs/times.md holds them"


def test_the_typed_time_pattern_sees_the_old_headers():
    assert TYPED_TIME.search("`smoke` ≈ 20 s; `fast` ≈ 1.5 min with VGG16")
    assert not TYPED_TIME.search("Measured per profile in `docs/times.md` (section 3)")


def _times_table():
    """benchmarks/times_table.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("times_table", ROOT / "benchmarks" / "times_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_times_page_is_generated_from_the_committed_runs():
    times_table = _times_table()
    assert times_table.main(["--check"]) == 0, "docs/times.md is out of date: python benchmarks/times_table.py"
    page = (ROOT / "docs" / "times.md").read_text()
    assert all(f"`{p.name}`" in page for p in NOTEBOOKS), "every notebook has a row"


def test_a_run_with_another_backbone_gets_its_own_table_beside_the_profiles_column(tmp_path, monkeypatch):
    from course_utils import profiles

    times_table = _times_table()
    names = [p.name for p in NOTEBOOKS]

    def run(label, date, seconds, **params):
        notebooks = [{"notebook": n, "seconds": seconds, "peak_rss_gb": 1.5, "error": None,
                      "parameters": {"PROFILE": "fast", **params}} for n in names if not params or n[:2] in ("03", "05")]
        (tmp_path / f"{label}.json").write_text(json.dumps(
            {"date": date, "machine": "test", "command": f"cmd {label}", "profile": "fast", "notebooks": notebooks}))

    run("own", "2026-01-01", 10.0)
    run("vgg", "2026-01-02", 100.0, BACKBONE="vgg16")  # newer, but incomplete: not fast's column
    run("own-backbone", "2026-01-03", 7.0, BACKBONE=profiles.get("fast").backbone)  # the profile's own: no table
    monkeypatch.setattr(times_table, "RESULTS", tmp_path)
    page = times_table.page()
    assert "| all, in order | " + times_table._time(10.0 * len(names)) + " |" in page, "fast's column: the complete run"
    section = page.split("## With another backbone")[1]
    assert "BACKBONE=vgg16" in section and "cmd vgg" in section and "cmd own-backbone" not in section
    assert section.count(f"| {times_table._time(100.0)} (1.50 GB) |") == 2 and "| these notebooks | 20 s | 3.3 min |" in section


def test_the_readmes_vgg16_paragraph_quotes_the_times_page():
    """README says what VGG16 costs in `fast` (why it is not fast's default): the numbers of docs/times.md,
    which are generated from the committed run, not typed twice."""
    page = (ROOT / "docs" / "times.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith("| these notebooks |"))
    own, vgg16 = [cell.strip() for cell in row.strip("|").split("|")[1:3]]
    run = json.loads((ROOT / "benchmarks" / "results" / "notebook_memory_fast_vgg16.json").read_text())
    largest = max(run["notebooks"], key=lambda n: n["peak_rss_gb"])
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"took {vgg16}, against {own} with MobileNet alpha 0.25" in readme, (own, vgg16)
    assert f"{largest['notebook'][:2]} peaked at {largest['peak_rss_gb']:.2f} GB" in readme, largest
