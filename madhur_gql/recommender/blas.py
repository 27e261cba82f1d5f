"""One BLAS thread for processes that serve recommendations.

A request is a handful of small matrix-vector products (factors, audio vectors). With a
multi-threaded BLAS each one pays a thread hand-off: on a busy 2-core host a 28k x 128 product
took 25 ms with two OpenBLAS threads and 0.5 ms with one. Builds lose little (the factor model
runs its own threads; EASE's inverse is a few thousand items).
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def single_threaded_blas() -> None:
    """Limit every BLAS library loaded in this process to one thread, for good."""
    threadpool_limits(1, "blas")
