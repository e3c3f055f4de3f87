"""Each CPU profile's image size and training images per backbone: GENERATED, do not edit.

Made by `python benchmarks/derive_profiles.py` from benchmarks/results/cost_table.json
(measured 2026-12-03 with `python benchmarks/cost_table.py` on x86_64, 2 cores,
TensorFlow 2.21.0, Keras 3.15.1). The rule is in that
script's docstring; course_utils/profiles.py reads these numbers. A test fails when this file
differs from what the script derives from the committed table.
"""

SOURCE = 'benchmarks/results/cost_table.json, 2026-12-03'
VAL_FRACTION, TEST_FRACTION = 0.2, 0.3
VAL_IMAGES, TEST_IMAGES = 400, 1000
EPOCHS, FINE_TUNE_EPOCHS = 5, 3

# profile -> default backbone
DEFAULT_BACKBONE = {
    'fast': 'mobilenet_0.5',
}

# profile -> backbone -> (image side in px, training images per class, why)
SIZES = {
    'fast': {
        'vgg16': (96, 100,
            'nothing fits the 60 s budget: the smallest size, 96 px, with 100 training images per class needs 81 s of base work'),
        'resnet50': (128, 100,
            '160 px would need 87 s of base work even with 100 training images per class; 128 px: 54 s (budget 60 s; more than 100 training images per class would not fit)'),
        'mobilenet_0.25': (224, 500,
            'native 224 px fits: 22 s of base work (budget 60 s)'),
        'mobilenet_0.5': (224, 500,
            'native 224 px fits: 56 s of base work (budget 60 s)'),
        'mobilenet_1': (224, 100,
            'native 224 px fits: 38 s of base work (budget 60 s; more than 100 training images per class would not fit)'),
    },
}
