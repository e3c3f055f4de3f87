"""NumPy reference implementations of the formulas taught in notebook 02.

Each function is the formula as written on the page, made numerically safe where the page's
version would overflow. Notebook 02 and tests/test_losses.py check them against Keras and
TensorFlow's automatic differentiation.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPSILON", "bce_grad_logit", "binary_cross_entropy", "binary_cross_entropy_from_logits",
    "categorical_cross_entropy", "categorical_cross_entropy_from_logits", "empirical_risk",
    "gd_quadratic", "gd_regime", "l2_sp_grad", "l2_sp_penalty", "log_softmax", "lwf_loss",
    "max_relative_error", "numerical_grads", "sgd_weight_decay_step", "sigmoid", "softmax",
    "softmax_ce_grad_logits", "sparse_categorical_cross_entropy_from_logits",
    "two_layer_forward", "two_layer_grads", "two_layer_loss",
]

EPSILON = 1e-7  # Keras' default fuzz factor, keras.config.epsilon()


# --------------------------------------------------------------------------- activations


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def log_softmax(z, axis: int = -1):
    """log softmax(z), stable: z − max − log Σ exp(z − max)."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis: int = -1):
    """softmax(z)_k = e^{z_k} / Σ_j e^{z_j}.

    Taught (and checked against Keras) in notebook 02, section 3.
    """
    return np.exp(log_softmax(z, axis))


# --------------------------------------------------------------------------- risks and losses


def empirical_risk(per_example_losses) -> float:
    """R̂(f) = (1/n) Σ_i ℓ(f(x_i), y_i): the mean of the per-example losses.

    Taught (and checked against Keras) in notebook 02, section 1.
    """
    return float(np.mean(per_example_losses))


def binary_cross_entropy(y, p, epsilon: float = EPSILON):
    """Per-example BCE from probabilities: −[y log p + (1 − y) log(1 − p)], p clipped like Keras.

    Taught (and checked against Keras) in notebook 02, section 2.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), epsilon, 1 - epsilon)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def binary_cross_entropy_from_logits(y, z):
    """Per-example BCE from logits z, stable: max(z, 0) − z·y + log(1 + e^{−|z|}).

    Taught (and checked against Keras) in notebook 02, section 2.
    """
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def categorical_cross_entropy(y_onehot, p, epsilon: float = EPSILON):
    """Per-example CCE from probabilities: −Σ_k y_k log p_k (rows of p renormalised, clipped).

    Taught (and checked against Keras) in notebook 02, section 3.
    """
    p = np.asarray(p, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, epsilon, 1 - epsilon)
    return -(np.asarray(y_onehot, dtype=np.float64) * np.log(p)).sum(axis=-1)


def categorical_cross_entropy_from_logits(y_onehot, z):
    """Per-example CCE from logits: −Σ_k y_k log softmax(z)_k.

    Taught (and checked against Keras) in notebook 02, section 3.
    """
    return -(np.asarray(y_onehot, dtype=np.float64) * log_softmax(z)).sum(axis=-1)


def sparse_categorical_cross_entropy_from_logits(labels, z):
    """CCE with integer labels: −log softmax(z)_{label}.

    Taught (and checked against Keras) in notebook 02, section 3.
    """
    labels = np.asarray(labels, dtype=int)
    return -np.take_along_axis(log_softmax(z), labels[:, None], axis=-1)[:, 0]


# --------------------------------------------------------------------------- gradients


def bce_grad_logit(y, z):
    """∂ BCE / ∂ z for one example = σ(z) − y (= ŷ − y).

    Taught (and checked against Keras) in notebook 02, section 4.
    """
    return sigmoid(z) - np.asarray(y, dtype=np.float64)


def softmax_ce_grad_logits(y_onehot, z):
    """∂ CCE / ∂ z for one example = softmax(z) − y.

    Taught (and checked against Keras) in notebook 02, section 4.
    """
    return softmax(z) - np.asarray(y_onehot, dtype=np.float64)


def two_layer_forward(params: dict, x):
    """A two-layer network h = relu(x W1 + b1), z = h W2 + b2 (logits); returns (z, cache).

    Taught (and checked against Keras) in notebook 02, section 5.
    """
    a1 = x @ params["W1"] + params["b1"]
    h = np.maximum(a1, 0)
    z = h @ params["W2"] + params["b2"]
    return z, {"x": x, "a1": a1, "h": h}


def two_layer_loss(params: dict, x, y_onehot) -> float:
    """Mean softmax cross-entropy of the two-layer network.

    Taught (and checked against Keras) in notebook 02, section 5.
    """
    z, _ = two_layer_forward(params, x)
    return empirical_risk(categorical_cross_entropy_from_logits(y_onehot, z))


def two_layer_grads(params: dict, x, y_onehot) -> dict:
    """Back-propagation through the two-layer network, by the chain rule.

    δ2 = (softmax(z) − y) / n                 (output: no extra σ' factor with cross-entropy)
    ∂L/∂W2 = hᵀ δ2,   ∂L/∂b2 = Σ_i δ2
    δ1 = (δ2 W2ᵀ) ⊙ relu'(a1)                 (back through W2, then the activation)
    ∂L/∂W1 = xᵀ δ1,   ∂L/∂b1 = Σ_i δ1

    Taught (and checked against Keras) in notebook 02, section 5.
    """
    z, cache = two_layer_forward(params, x)
    n = len(x)
    d2 = softmax_ce_grad_logits(y_onehot, z) / n
    d1 = (d2 @ params["W2"].T) * (cache["a1"] > 0)
    return {"W2": cache["h"].T @ d2, "b2": d2.sum(0), "W1": x.T @ d1, "b1": d1.sum(0)}


def numerical_grads(loss_fn, params: dict, eps: float = 1e-6) -> dict:
    """Central finite differences (L(θ + ε) − L(θ − ε)) / 2ε for every parameter entry.

    Taught (and checked against Keras) in notebook 02, section 5.
    """
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value, dtype=np.float64)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up = loss_fn(params)
            value[idx] = old - eps
            down = loss_fn(params)
            value[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def max_relative_error(a: dict, b: dict) -> float:
    """max over the parameters in `a` of ‖a − b‖ / (‖a‖ + ‖b‖): ~1e-9 when both agree, ~1 when not.

    Taught (and checked against Keras) in notebook 02, section 5.
    """
    worst = 0.0
    for k in a:
        num = np.linalg.norm(np.asarray(a[k]) - np.asarray(b[k]))
        den = max(1e-12, np.linalg.norm(a[k]) + np.linalg.norm(b[k]))
        worst = max(worst, float(num / den))
    return worst


# --------------------------------------------------------------------------- optimisation


def sgd_weight_decay_step(theta, grad, learning_rate: float, weight_decay: float):
    """θ ← θ − η ∇L − η λ θ (decoupled weight decay, as keras.optimizers.SGD applies it).

    Taught (and checked against Keras) in notebook 02, section 6.
    """
    theta = np.asarray(theta, dtype=np.float64)
    return theta - learning_rate * np.asarray(grad) - learning_rate * weight_decay * theta


def gd_quadratic(curvature: float, learning_rate: float, theta0: float = 1.0, steps: int = 30):
    """Gradient descent on f(θ) = ½ a θ²: θ_{t+1} = (1 − η a) θ_t; returns θ_0 … θ_steps.

    Taught (and checked against Keras) in notebook 02, section 6.
    """
    factor = 1.0 - learning_rate * curvature
    return theta0 * factor ** np.arange(steps + 1)


def gd_regime(curvature: float, learning_rate: float) -> str:
    """'converges' (0 < ηa < 1), 'oscillates' (1 < ηa < 2, still converging), 'diverges' (ηa > 2).

    Taught (and checked against Keras) in notebook 02, section 6.
    """
    r = learning_rate * curvature
    if r <= 0:
        return "stalls"
    if r < 1:
        return "converges"
    if r == 1:
        return "converges in one step"
    if r < 2:
        return "oscillates"
    return "diverges" if r > 2 else "oscillates forever"


# --------------------------------------------------------------------------- transfer objectives


def l2_sp_penalty(w, w0, lam: float) -> float:
    """L2-SP: λ/2 ‖w − w0‖², a pull towards the pretrained weights w0 (not towards 0).

    Taught (and checked against Keras) in notebook 02, section 7.
    """
    d = np.asarray(w, dtype=np.float64) - np.asarray(w0, dtype=np.float64)
    return 0.5 * lam * float((d * d).sum())


def l2_sp_grad(w, w0, lam: float):
    """∂/∂w of λ/2 ‖w − w0‖² = λ (w − w0).

    Taught (and checked against Keras) in notebook 02, section 7.
    """
    return lam * (np.asarray(w, dtype=np.float64) - np.asarray(w0, dtype=np.float64))


def lwf_loss(labels_new, logits_new, old_logits_recorded, old_logits_now, lam: float,
             temperature: float = 2.0) -> float:
    """Learning without Forgetting: L_new + λ L_old with L_old a distillation loss.

    L_new  = cross-entropy of the new head on the new labels.
    L_old  = cross-entropy between the old head's softened outputs recorded *before* training
             (the targets) and its softened outputs now, both at temperature T.
    No old-task data is needed: the old head's answers on the new images stand in for it.

    Taught (and checked against Keras) in notebook 02, section 7.
    """
    new = sparse_categorical_cross_entropy_from_logits(labels_new, logits_new).mean()
    targets = softmax(np.asarray(old_logits_recorded) / temperature)
    old = -(targets * log_softmax(np.asarray(old_logits_now) / temperature)).sum(-1).mean()
    return float(new + lam * old)
