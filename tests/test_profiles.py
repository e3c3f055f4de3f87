import pytest

from course_utils import profiles


def test_named_profiles_resolve_to_themselves():
    for name in ("smoke", "fast", "full"):
        resolved = profiles.resolve(name)
        assert resolved.profile is profiles.PROFILES[name]
        assert resolved.requested == name


def test_profiles_grow_from_smoke_to_full():
    smoke, fast, full = (profiles.get(n) for n in ("smoke", "fast", "full"))
    assert smoke.image_size < fast.image_size <= full.image_size == 224
    assert smoke.images_per_class < fast.images_per_class and full.images_per_class is None
    assert smoke.weights is None and fast.weights == full.weights == "imagenet"


def test_unknown_profile_error_lists_the_valid_names():
    with pytest.raises(profiles.UnknownProfileError) as info:
        profiles.resolve("quick")
    for name in ("smoke", "fast", "full", "auto"):
        assert name in str(info.value)


def test_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    assert profiles.resolve().name == "fast"
    monkeypatch.setenv("COURSE_PROFILE", "FULL ")
    assert profiles.resolve().name == "full"
    assert profiles.resolve("smoke").name == "smoke"  # an explicit name wins


def test_auto_gives_fast_when_weights_and_data_are_available():
    resolved = profiles.resolve("auto", weights_ready=lambda: True, dataset_ready=lambda n: True)
    assert resolved.name == "fast" and resolved.meaningful
    assert "not meaningful" not in resolved.banner()


@pytest.mark.parametrize("weights,data,missing", [
    (False, True, "MobileNet (alpha 0.25) ImageNet weights"),
    (True, False, "'cats_vs_dogs' dataset"),
    (False, False, "MobileNet (alpha 0.25) ImageNet weights and the 'cats_vs_dogs' dataset"),
])
def test_auto_falls_back_to_smoke_and_says_why(weights, data, missing):
    resolved = profiles.resolve("auto", weights_ready=lambda: weights, dataset_ready=lambda n: data)
    assert resolved.name == "smoke" and not resolved.meaningful
    assert missing in resolved.reason
    assert "none of them is a result" in resolved.banner()


def test_auto_offline_with_nothing_on_disk_is_smoke(data_home, monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE")
    resolved = profiles.resolve()
    assert resolved.requested == "auto" and resolved.name == "smoke"


@pytest.fixture
def not_binder(monkeypatch):
    from course_utils import env

    for key in env.BINDER_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable,value", [
    ("BINDER_LAUNCH_HOST", "https://mybinder.org/"),
    ("BINDER_REPO_URL", "https://github.com/tl-course/transfer-learning-keras"),
    ("BINDER_REF_URL", "https://github.com/tl-course/transfer-learning-keras/tree/0123abc"),
])
def test_auto_on_binder_picks_the_binder_profile_and_says_why(not_binder, variable, value):
    ready = dict(weights_ready=lambda: True, dataset_ready=lambda n: True)
    assert profiles.resolve("auto", **ready).name == "fast"  # not on Binder
    not_binder.setenv(variable, value)
    resolved = profiles.resolve("auto", **ready)
    assert resolved.name == "binder" and resolved.meaningful
    assert "Binder" in resolved.banner() and "2 GB" in resolved.banner()
    assert profiles.resolve("fast", **ready).name == "fast"  # a profile asked for by name is kept


def test_auto_on_binder_without_the_downloads_is_smoke(not_binder):
    not_binder.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    resolved = profiles.resolve("auto", weights_ready=lambda: False, dataset_ready=lambda n: True)
    assert resolved.name == "smoke"


def test_the_binder_profile_is_fast_in_smaller_batches_and_at_most_its_side():
    fast, binder = profiles.get("fast"), profiles.get("binder")
    assert binder.batch_size < fast.batch_size and binder.weights == "imagenet"
    same = ("val_images", "test_images", "epochs", "fine_tune_epochs", "dataset")
    assert all(getattr(binder, k) == getattr(fast, k) for k in same)
    for name, (px, cap, why) in fast.sizes.items():  # fast's sizes, the side capped for Binder's memory
        b_px, b_cap, b_why = binder.sizes[name]
        assert (b_px, b_cap) == (min(px, profiles.BINDER_MAX_SIDE), cap)
        assert b_why == why or (px > profiles.BINDER_MAX_SIDE and "2 GB" in b_why)
    assert binder.image_size == min(fast.image_size, profiles.BINDER_MAX_SIDE)
    assert binder.backbone == "mobilenet_0.25"  # 2 MB of weights; every notebook measured within 2 GB


def test_a_profile_sized_for_a_backbone_takes_its_measured_size():
    from course_utils import sizes

    fast = profiles.get("fast")
    for name, (px, cap, why) in sizes.SIZES["fast"].items():
        sized = fast.for_backbone(name)
        assert (sized.backbone, sized.image_size, sized.images_per_class) == (name, px, cap)
        assert sized.reason() == why and why
    smoke = profiles.get("smoke").for_backbone("vgg16")
    assert smoke.image_size == 32 and smoke.backbone == "vgg16" and "check" in smoke.reason()


def test_the_committed_sizes_are_what_the_cost_table_derives():
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("derive_profiles", ROOT / "benchmarks" / "derive_profiles.py")
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    assert derive.main(["--check"]) == 0, "run python benchmarks/derive_profiles.py"
    from course_utils import sizes

    assert (sizes.EPOCHS, sizes.FINE_TUNE_EPOCHS) == (profiles.get("fast").epochs, profiles.get("fast").fine_tune_epochs)


def _derive_module():
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("derive_profiles", ROOT / "benchmarks" / "derive_profiles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(name, px, extract, step, top1=0.7):
    return {"backbone": name, "image_size": px, "extract_images_per_second": extract,
            "train_step_images_per_second": step, "published_imagenet_top1": top1, "in_registry": True}


def test_the_rule_native_size_when_it_fits_else_the_largest_that_fits_and_the_default_by_accuracy(monkeypatch):
    derive = _derive_module()
    monkeypatch.setattr(derive, "BUDGET_SECONDS", {"fast": 60.0})  # the synthetic rates below are sized for it
    rows = [_row("cheap", px, 5000 * (96 / px) ** 2, 4000 * (96 / px) ** 2, 0.5) for px in (96, 128, 160, 224)]
    rows += [_row("costly", px, 150 * (96 / px) ** 2, 120 * (96 / px) ** 2, 0.8) for px in (96, 128, 160, 224)]
    rows += [_row("huge", px, 20 * (96 / px) ** 2, 15 * (96 / px) ** 2, 0.9) for px in (96, 128, 160, 224)]
    result = derive.derive({"rows": rows})["fast"]
    budget = result["budget"]
    cheap, costly, huge = (result["sizes"][n] for n in ("cheap", "costly", "huge"))
    assert cheap[0] == 224 and "native" in cheap[2]
    assert derive.base_seconds(rows[3], cheap[1]) <= budget
    # costly does not fit natively with the fewest training images: the largest size that does
    assert costly[0] < 224 and derive.base_seconds(rows[7], derive.MIN_TRAIN) > budget
    fits = [r for r in rows[4:8] if derive.base_seconds(r, derive.MIN_TRAIN) <= budget]
    assert costly[0] == max(r["image_size"] for r in fits)
    assert huge[0] == 96 and "nothing fits" in huge[2]
    # the default: the best published accuracy among those that run at their native size
    assert result["default"] == "cheap"


def test_backbone_and_profile_are_resolved_in_one_place():
    b, resolved = profiles.for_backbone("smoke")
    assert b.name == profiles.get("smoke").backbone and resolved.name == "smoke"
    b, resolved = profiles.for_backbone("auto", "resnet50", weights_ready=lambda net: net.name != "resnet50",
                                        dataset_ready=lambda name: True)
    assert b.name == "resnet50" and resolved.name == "smoke" and "ResNet50 ImageNet weights" in resolved.reason
