"""Which head and which fine-tuning recipe, measured on real photos with real ImageNet weights.

    COURSE_REAL_ASSETS=../shared/assets python benchmarks/transfer_study.py [--datasets cats_dogs flowers]

Needs a folder with ``weights/mobilenet_2_5_224_tf_no_top.h5`` (Keras' MobileNet alpha 0.25
ImageNet file) and ``datasets/<name>/<class>/*.jpg``. On each dataset, split as the ``fast``
profile splits it, at MobileNet's native 224 px, it measures on the test split:

- a logistic-regression probe (scikit-learn) on globally pooled features: the sanity bar;
- the GAP head trained with Keras two ways: SGD(1e-3, momentum 0.9) for 4×epochs with patience 3
  (the course's recipe before this study) and Adam(1e-3) with enough optimizer steps;
- fine-tuning the last two blocks (``conv_pad_12`` on) on cached ``conv_pw_11_relu`` features,
  BatchNorm in inference mode, from the trained head, at several learning rates;
- the gain of the best fine-tuning over feature extraction against training images per class.

Every difference is paired (the same test images) and printed with its resolution (twice its
standard error). Results: ``benchmarks/results/transfer_study.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_utils import backbones, claims, data, evaluate, features, models, profiles  # noqa: E402

SIZE = 224


def _paired(a: np.ndarray, b: np.ndarray) -> str:
    ev = claims.evidence(a, b)
    return f"{ev.margin:+.3f} (resolution {ev.resolution:.3f})"


def head_fit(x_tr, y_tr, x_va, y_va, k, optimizer: str, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input(x_tr.shape[1:])
    model = keras.Model(inp, models.gap_head(k)(inp))
    if optimizer == "sgd":  # the recipe before this study
        opt, epochs, stop = keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9), 20, \
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    else:  # the course's schedule when this study ran (2026-12-03); models.head_schedule now also repeats a
        # training set smaller than 8 full batches within an epoch (the same steps, fewer validation passes)
        steps = max(1, -(-len(x_tr) // 32))
        epochs = max(20, -(-models.HEAD_MIN_STEPS // steps))
        opt = keras.optimizers.Adam(learning_rate=1e-3)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True,
                                             start_from_epoch=min(epochs - 1, -(-models.HEAD_MIN_STEPS // steps) // 2))
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=32, callbacks=[stop], verbose=0)
    return model


def fine_tune(base, head, cache_at, first, x_tr, y_tr, x_va, y_va, lr: float, epochs: int, start_weights, seed):
    base.set_weights(start_weights)
    models.unfreeze_from(base, first)
    top = models.top_of_base(base, cache_at)
    h = keras.models.clone_model(head)
    h.set_weights(head.get_weights())
    inp = keras.Input(x_tr.shape[1:])
    model = keras.Model(inp, h(top(inp, training=False)))
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=32, verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)])
    return model


def fine_tune_full(base, head, first: str, ds, size: int, lr: float, epochs: int, start_weights, seed: int):
    """Fine-tuning through the whole model on images, with augmentation (notebook 04's form)."""
    base.set_weights(start_weights)
    models.unfreeze_from(base, first)
    h = keras.models.clone_model(head)
    h.set_weights(head.get_weights())
    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 3))
    x = models.augmentation(seed)(inp)
    x = models.preprocessing("mobilenet_0.25")(x)
    model = keras.Model(inp, h(base(x, training=False)))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    train = data.to_dataset(ds.train, size, 32, shuffle=True, seed=seed)
    val = data.to_dataset(ds.val, size, 32)
    model.fit(train, validation_data=val, epochs=epochs, verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)])
    return model.predict(data.to_dataset(ds.test, size, 32), verbose=0).argmax(1) == np.asarray(ds.test.labels)


def study(name: str, folder: Path, weights: Path, seed: int = 0) -> dict:
    prof = profiles.get("fast").for_backbone("mobilenet_0.25")
    ds = data.load("folder", path=folder, profile=prof, seed=seed)
    b = backbones.get("mobilenet_0.25")
    keras.backend.clear_session()
    base = b.build(None, (SIZE, SIZE, 3))
    base.load_weights(weights)
    base.trainable = False
    start_weights = base.get_weights()
    k = ds.num_classes
    feats, t0 = {}, time.perf_counter()
    for role in ("train", "val", "test"):
        split = ds.splits()[role]
        x_mid, y, _ = features.extract(base, b.name, split, SIZE, dataset_name=name, role=role, layer=b.cache_at)
        x_out = models.top_of_base(base, b.cache_at).predict(x_mid, verbose=0, batch_size=64)
        feats[role] = (x_mid, x_out, y)
    extract_s = time.perf_counter() - t0
    (m_tr, o_tr, y_tr), (m_va, o_va, y_va), (m_te, o_te, y_te) = feats["train"], feats["val"], feats["test"]
    out = {"dataset": name, "classes": k, "train": len(y_tr), "val": len(y_va), "test": len(y_te),
           "extract_seconds": round(extract_s, 1)}
    correct = {}
    probe = evaluate.probe(o_tr, y_tr, o_te, y_te)
    correct["probe"] = probe.correct
    for opt in ("sgd", "adam"):
        t = time.perf_counter()
        head = head_fit(o_tr, y_tr, o_va, y_va, k, opt, seed)
        correct[f"head_{opt}"] = head.predict(o_te, verbose=0).argmax(1) == y_te
        out[f"head_{opt}_seconds"] = round(time.perf_counter() - t, 1)
        if opt == "adam":
            adam_head = head.layers[-1]
    for lr in (1e-3, 1e-4, 1e-5):
        t = time.perf_counter()
        m = fine_tune(base, adam_head, b.cache_at, b.fine_tune_from, m_tr, y_tr, m_va, y_va, lr, 10, start_weights, seed)
        correct[f"fine_tune_{lr:g}"] = m.predict(m_te, verbose=0).argmax(1) == y_te
        out[f"fine_tune_{lr:g}_seconds"] = round(time.perf_counter() - t, 1)
    # Through the whole model on images, with augmentation: the last block, then the last seven blocks.
    for first, label in (("conv_pad_12", "full_last_block"), ("conv_dw_7", "full_last_seven_blocks")):
        t = time.perf_counter()
        correct[f"{label}_1e-4"] = fine_tune_full(base, adam_head, first, ds, SIZE, 1e-4, 8, start_weights, seed)
        out[f"{label}_1e-4_seconds"] = round(time.perf_counter() - t, 1)
    out["accuracy"] = {key: round(float(v.mean()), 4) for key, v in correct.items()}
    out["vs_probe"] = {key: _paired(v, correct["probe"]) for key, v in correct.items() if key != "probe"}
    out["vs_head"] = {key: _paired(v, correct["head_adam"]) for key, v in correct.items() if key != "head_adam"}
    best_ft = max((key for key in correct if key.startswith("fine_tune")), key=lambda key: correct[key].mean())
    out["best_fine_tune"] = best_ft
    lr = float(best_ft.split("_")[-1])
    curve = {}
    for per_class in (10, 30, 100, None):
        idx = np.concatenate([np.flatnonzero(y_tr == c)[:per_class] for c in range(k)])
        head = head_fit(o_tr[idx], y_tr[idx], o_va, y_va, k, "adam", seed)
        fe = head.predict(o_te, verbose=0).argmax(1) == y_te
        m = fine_tune(base, head.layers[-1], b.cache_at, b.fine_tune_from, m_tr[idx], y_tr[idx], m_va, y_va, lr, 10,
                      start_weights, seed)
        ft = m.predict(m_te, verbose=0).argmax(1) == y_te
        ev = claims.evidence(ft, fe)
        curve[str(per_class or int(len(idx) / k))] = {"feature_extraction": round(float(fe.mean()), 4),
                                                       "fine_tuned": round(float(ft.mean()), 4),
                                                       "gain": round(ev.margin, 4), "resolution": round(ev.resolution, 4)}
    out["gain_curve"] = curve
    return out


LABELS = {"probe": "logistic regression on pooled features (scikit-learn)",
          "head_sgd": "GAP head, SGD(1e-3, momentum 0.9), 20 epochs, patience 3 (the old recipe)",
          "head_adam": "GAP head, Adam(1e-3), at least HEAD_MIN_STEPS steps (the course's recipe)",
          "fine_tune_0.001": "fine-tuned blocks 12-13 on cached features, Adam 1e-3",
          "fine_tune_0.0001": "fine-tuned blocks 12-13 on cached features, Adam 1e-4",
          "fine_tune_1e-05": "fine-tuned blocks 12-13 on cached features, Adam 1e-5",
          "full_last_block_1e-4": "fine-tuned blocks 12-13 through the model, augmentation, Adam 1e-4",
          "full_last_seven_blocks_1e-4": "fine-tuned blocks 7-13 through the model, augmentation, Adam 1e-4"}


def markdown(info: dict) -> str:
    """The study as a page: accuracies, differences against the head with their resolution, the gain curve."""
    lines = [f"# Which head, which fine-tuning: measured ({info['date']})", "",
             f"`{info['command']}`: {info['backbone']} with Keras' ImageNet weights at {info['image_size']} px, the "
             "`fast` profile's splits. Differences are paired (the same test images): difference ± resolution "
             "(twice its standard error).", ""]
    for r in info["results"]:
        lines += [f"## {r['dataset']} ({r['classes']} classes; {r['train']} train / {r['val']} val / {r['test']} test)", "",
                  "| model | test accuracy | minus the Adam head |", "|---|---|---|"]
        for key, acc in r["accuracy"].items():
            lines.append(f"| {LABELS.get(key, key)} | {acc:.3f} | {r.get('vs_head', {}).get(key, '–')} |")
        lines += ["", f"Gain of the best fine-tuning on cached features ({r['best_fine_tune']}) over feature extraction, "
                  "by training images per class:", "", "| images per class | feature extraction | fine-tuned | "
                  "difference ± resolution |", "|---|---|---|---|"]
        for n, g in r["gain_curve"].items():
            lines.append(f"| {n} | {g['feature_extraction']:.3f} | {g['fine_tuned']:.3f} | "
                         f"{g['gain']:+.3f} ± {g['resolution']:.3f} |")
        lines.append("")
        better = [k for k, v in r.get("vs_head", {}).items() if k.startswith(("fine_tune", "full_"))
                  and float(v.split()[0]) - float(v.split()[-1].rstrip(")")) > 0]
        gains = [n for n, g in r["gain_curve"].items() if g["gain"] - g["resolution"] > 0]
        losses = [n for n, g in r["gain_curve"].items() if g["gain"] + g["resolution"] < 0]
        if not r.get("vs_head"):
            variants = "the variants were not compared with the head on the same test images in this run"
        elif better:
            variants = "fine-tuning beat the feature-extraction head beyond its resolution with " + ", ".join(
                LABELS[k] for k in better)
        else:
            variants = "no fine-tuning variant beat the feature-extraction head beyond its resolution"

        def _counts(ns):
            return ", ".join(ns) + " images per class" if ns else "no number of images per class"

        lines += [f"Read from the numbers: {variants}; on the curve fine-tuning gained beyond its resolution at "
                  f"{_counts(gains)} and lost beyond it at {_counts(losses)}.", ""]
    if info.get("note"):
        lines += [f"Note: {info['note']}.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", default=["cats_dogs", "flowers"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the .json in --out")
    args = parser.parse_args(argv)
    if args.render:
        info = json.loads((args.out / "transfer_study.json").read_text())
        (args.out / "transfer_study.md").write_text(markdown(info))
        return 0
    assets = Path(os.environ["COURSE_REAL_ASSETS"])
    weights = assets / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
    results = []
    for name in args.datasets:
        r = study(name, assets / "datasets" / name, weights)
        print(json.dumps(r, indent=1), flush=True)
        results.append(r)
    args.out.mkdir(parents=True, exist_ok=True)
    info = {"date": dt.date.today().isoformat(), "command": "COURSE_REAL_ASSETS=... python benchmarks/transfer_study.py",
            "backbone": "mobilenet_0.25", "image_size": SIZE, "results": results}
    (args.out / "transfer_study.json").write_text(json.dumps(info, indent=2) + "\n")
    (args.out / "transfer_study.md").write_text(markdown(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
