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
    'fast': 'mobilenet_0.25',
}

# profile -> backbone -> (image side in px, training images per class, why)
SIZES = {
    'fast': {
        'vgg16': (96, 100,
            'nothing fits the 9 s budget: the smallest size, 96 px, with 100 training images per class needs 81 s of base work'),
        'resnet50': (96, 100,
            'nothing fits the 9 s budget: the smallest size, 96 px, with 100 training images per class needs 50 s of base work'),
        'mobilenet_0.25': (224, 150,
            'native 224 px fits: 8 s of base work (budget 9 s; more than 150 training images per class would not fit)'),
        'mobilenet_0.5': (160, 150,
            '224 px would need 15 s of base work even with 100 training images per class; 160 px: 9 s (budget 9 s; more than 150 training images per class would not fit)'),
        'mobilenet_1': (96, 100,
            '128 px would need 13 s of base work even with 100 training images per class; 96 px: 9 s (budget 9 s; more than 100 training images per class would not fit)'),
    },
}
