"""`make fetch` (python -m course_utils.fetch): offline it fails clearly, keeps nothing, exits 1."""

import urllib.error
import urllib.request

from course_utils import backbones, fetch, profiles


def test_fetch_offline_reports_each_failure_and_exits_non_zero(data_home, monkeypatch, capsys):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert fetch.main(["--datasets", "cats_vs_dogs", "flowers"]) == 1
    err = capsys.readouterr().err
    default = profiles.get("fast").backbone  # make fetch's default: the fast profile's backbone
    assert f"FAIL {default} ImageNet weights" in err and backbones.get(default).weights_file in err
    assert "FAIL dataset cats_vs_dogs" in err and "FAIL dataset flowers" in err
    assert not any(p.is_file() for p in data_home.rglob("*"))  # no partial file left


def test_fetch_generates_the_offline_dataset_without_network(data_home, capsys):
    assert fetch.main(["--no-weights", "--datasets", "shapes"]) == 0
    assert "ok   dataset shapes" in capsys.readouterr().out
    assert (data_home / "cache" / "shapes" / ".complete").exists()


def test_unknown_dataset_is_a_failure_not_a_crash(data_home, capsys):
    assert fetch.main(["--no-weights", "--datasets", "imagenet"]) == 1
    assert "Unknown dataset 'imagenet'" in capsys.readouterr().err


def test_fetch_takes_the_backbones_asked_for_and_names_an_unknown_one(data_home, capsys):
    assert fetch.main(["--datasets", "--backbones", "mobilenet_0.25", "inception"]) == 1
    err = capsys.readouterr().err
    assert "FAIL mobilenet_0.25 ImageNet weights" in err and "mobilenet_2_5_224_tf_no_top.h5" in err
    assert "FAIL inception" in err and "Valid backbones" in err
