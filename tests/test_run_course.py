"""The main job: every notebook executed into an outputs folder, sources untouched."""

import hashlib
import json

import nbformat
import pytest

from course_utils import run_course


def tiny_notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.ipynb")}


@pytest.mark.slow  # starts two notebook kernels (~5 s on 2 cores)
def test_runs_every_notebook_in_order_into_outputs(tmp_path, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    tiny_notebook(src / "00_a.ipynb", "print('profile is', PROFILE)")
    tiny_notebook(src / "01_b.ipynb", "x = 6 * 7\nprint(x)")
    before = digest(src)
    code = run_course.main(["--profile", "smoke", "--notebooks", str(src),
                            "--output", str(tmp_path / "out"), "--no-progress"])
    assert code == 0
    assert digest(src) == before
    executed = nbformat.read(tmp_path / "out" / "notebooks" / "00_a.ipynb", as_version=4)
    assert "profile is smoke" in executed.cells[-1].outputs[0]["text"]
    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())
    assert list(summary["seconds"]) == ["00_a.ipynb", "01_b.ipynb"] and summary["failed"] is None
    out = capsys.readouterr().out
    assert "[1/2] 00_a.ipynb" in out and "[2/2] 01_b.ipynb" in out and "not results" in out


def test_a_failing_notebook_stops_the_run_with_an_error_code(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    tiny_notebook(src / "00_ok.ipynb", "pass")
    tiny_notebook(src / "01_bad.ipynb", "raise ValueError('boom')")
    tiny_notebook(src / "02_never.ipynb", "pass")
    code = run_course.main(["--profile", "smoke", "--notebooks", str(src),
                            "--output", str(tmp_path / "out"), "--no-progress"])
    assert code == 1
    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())
    assert summary["failed"] == "01_bad.ipynb" and "02_never.ipynb" not in summary["seconds"]


def test_sources_are_never_the_output(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    tiny_notebook(src / "00_a.ipynb", "pass")
    before = digest(src)
    for output in (src, tmp_path):  # tmp_path/notebooks/ would be the sources themselves
        assert run_course.main(["--profile", "smoke", "--notebooks", str(src),
                                "--output", str(output)]) == 2
    assert digest(src) == before and not (tmp_path / "run_summary.json").exists()


@pytest.mark.slow
def test_the_run_ends_with_the_headline_table_and_the_claims_count(tmp_path, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    tiny_notebook(src / "00_results.ipynb", "\n".join([
        "from course_utils import claims, evaluate, paths",
        "claims.compare('00', 'transfer helps', 0.9, 0.5, pretrained=False)",
        "evaluate.write_results({'profile': PROFILE, 'meaningful': False, 'claims': claims.summary(),",
        "    'methods': [{'method': 'm', 'name': 'm', 'accuracy_mean': 0.5, 'accuracy_std': 0.0, 'f1_mean': 0.5,",
        "                 'train_seconds_mean': 1.0, 'repeats': 1}], 'data_efficiency': {}},",
        "    paths.outputs_dir())",
    ]))
    assert run_course.main(["--profile", "smoke", "--notebooks", str(src), "--output", str(tmp_path / "out"),
                            "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| m | 0.500 ± 0.000 | 0.500 | 1.0 | 1 |" in out
    assert "claims checked: 0 of 1 (0 hold, 0 inconclusive, 0 do not hold); 1 not checked" in out
    assert (tmp_path / "out" / "results.json").exists()
