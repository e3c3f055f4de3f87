"""The training settings the course's methods share, written once (internal plumbing).

Notebooks 03 and 04 write these numbers out in their Keras calls, where a learner reads them
(``learning_rate=1e-3``); ``recipes`` repeats those methods for notebook 05 with these names;
tests/test_training.py checks that the notebooks' numbers are these.
"""

from __future__ import annotations

__all__ = [
    "FINE_TUNE_EPOCHS_FACTOR", "FINE_TUNE_LR", "FINE_TUNE_PATIENCE", "FROZEN_HEAD_LR", "HEAD_EPOCHS_FACTOR",
    "HEAD_LR", "HEAD_MOMENTUM", "HEAD_PATIENCE", "L2_SP", "PATIENCE",
]

# A new head, or a small convnet from scratch (notebook 03, sections 4-6).
HEAD_LR = 1e-3  # Adam's for the GAP head on cached features (at least models.HEAD_MIN_STEPS steps) and the
#                 scratch convnet, and the articles' SGD's
HEAD_MOMENTUM = 0.9  # the articles' SGD (their head on cached features, section 4)
HEAD_EPOCHS_FACTOR = 4  # the articles' head: 4 x the profile's epochs, a fixed budget as in article 000
HEAD_PATIENCE = 5  # EarlyStopping of a head on cached features
FROZEN_HEAD_LR = 1e-2  # Adam's for a head behind the frozen base (workflow B): a few steps per epoch
PATIENCE = 2  # EarlyStopping of a model that runs the base (frozen base + augmentation, scratch)

# Fine-tuning the last block (notebook 04).
FINE_TUNE_LR = 1e-5  # notebook 04's default FINE_TUNE_LR
FINE_TUNE_EPOCHS_FACTOR = 3  # on cached features: 3 x the profile's fine_tune_epochs
FINE_TUNE_PATIENCE = 2
L2_SP = 0.1  # the L2-SP strength notebooks 04 and 05 compare
