"""Thread counts for small NumPy problems: one BLAS thread, so a busy machine does not slow them down.

Notebook 01's experiment multiplies matrices of 64 columns thousands of times. Split over
several BLAS threads, each product is too small to gain anything, and on a loaded machine
(a classroom server, Binder, CI) the threads wait for each other: the experiment took 38-41 s
there instead of 4-6 s. ``small_problem`` runs a function with NumPy's BLAS limited to
``SMALL_PROBLEM_THREADS`` thread(s), through threadpoolctl, and puts the previous limits back
afterwards. TensorFlow's own thread pools are left alone: its convolutions are large.
"""

from __future__ import annotations

import functools

SMALL_PROBLEM_THREADS = 1



def limited(threads: int = SMALL_PROBLEM_THREADS):
    """Context manager: every BLAS loaded now (NumPy's, SciPy's) uses at most `threads` threads inside it.

    The libraries are looked up at each call (about a millisecond), so one loaded later
    (SciPy's, by scikit-learn) is limited too.
    """
    import numpy  # noqa: F401  (loads its BLAS first, so the limit reaches it)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


def small_problem(fn):
    """Decorator: run `fn` with NumPy's BLAS limited to ``SMALL_PROBLEM_THREADS`` thread(s)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with limited():
            return fn(*args, **kwargs)

    return wrapper
