"""Issue 13, third round: iALS as in Rendle et al. 2021 ("Revisiting the performance of iALS on
item recommendation benchmarks"), on the lab's validation carvings.

Usage (from the repository root; scores are cached by ``lab.py`` under /tmp):
    .venv/bin/python bench/quality_lab/ials.py check
    .venv/bin/python bench/quality_lab/ials.py val nu=0.5,lam=1.5 conf=binary,alpha0=0.05,nu=1,lam=0.02
    .venv/bin/python bench/quality_lab/ials.py carvings nu=0.5,lam=1.5   # val, val44, vald + ALS

Every fit is one ``key=value,...`` argument (dim, alpha0, lam, nu, iters, conf, seed, eta); the
figures are in BENCHMARKS.md ("Third round"). Nothing here looks at the protocol test split.

The loss, per user u and item i (``c_ui`` the observed confidence, 0 when unobserved):

    sum_(u,i) observed  c_ui (1 - <w_u, h_i>)^2  +  alpha0 * sum_(all u,i) <w_u, h_i>^2
    + lam * (sum_u (m_u + alpha0 |I|)^nu |w_u|^2  +  sum_i (m_i + alpha0 |U|)^nu |h_i|^2)

with ``m_u``, ``m_i`` the observed confidence mass of the row or column (the counts of Rendle's
paper when ``c`` is binary). ``implicit``'s ALS is the case nu = 0, alpha0 = 1 (one global
regularisation); Rendle's recipe is nu = 1, a small alpha0 and a larger dimension.

Each half-step is exact: in the eigenbasis Q of the fixed side's Gram matrix (``G = Q S Q'``)
every row's system is ``(diag(alpha0 S + lam_r) + Y_r' C_r Y_r) x = Y_r' c_r``, a diagonal plus
a rank ``|row|`` term, solved by Woodbury in ``O(|row|^2 d)`` (most rows hold a few dozen
entries): a sweep at 512 dimensions on the dev half takes ~5 s on this shared host.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab  # the lab's helpers sit beside this file


def _half_step(
    x: sp.csr_matrix,
    fixed: np.ndarray,
    fixed_neg: np.ndarray,
    row_neg: np.ndarray,
    lam: float,
    nu: float,
) -> np.ndarray:
    """Exact least-squares rows given the other side (``x``: rows x fixed-side entries).

    Rows are batched by length (padded to a power of two with zero vectors of confidence 1,
    which leave the solution unchanged) so numpy solves thousands of small systems at once.
    """
    d = fixed.shape[1]
    s, q = scipy.linalg.eigh((fixed.T * fixed_neg) @ fixed, check_finite=False)
    s = np.maximum(s, 0.0)
    fq = np.vstack([fixed @ q, np.zeros((1, d))])  # eigenbasis; last row: the padding vector
    pad = fixed.shape[0]
    mass = np.asarray(x.sum(axis=1)).ravel()
    reg = lam * np.power(mass + row_neg * float(fixed_neg.sum()), nu)
    lengths = np.diff(x.indptr)
    out = np.zeros((x.shape[0], d))
    width = 1
    while True:
        rows = np.flatnonzero((lengths > width // 2) & (lengths <= width))
        if width >= d:
            rows = np.flatnonzero(lengths > width // 2)
        if rows.size:
            chunk = max(1, int(4e6 // (width * d)))
            for a in range(0, rows.size, chunk):
                part = rows[a : a + chunk]
                out[part] = _solve_batch(x, part, width, fq, pad, s, row_neg, reg)
        if width >= d or width >= lengths.max(initial=0):
            break
        width *= 2
    return out @ q.T


def _solve_batch(
    x: sp.csr_matrix,
    rows: np.ndarray,
    width: int,
    fq: np.ndarray,
    pad: int,
    base: np.ndarray,
    row_neg: np.ndarray,
    reg: np.ndarray,
) -> np.ndarray:
    width = max(width, int(np.diff(x.indptr)[rows].max()))
    idx = np.full((rows.size, width), pad)
    conf = np.ones((rows.size, width))
    for j, r in enumerate(rows.tolist()):
        a, b = x.indptr[r], x.indptr[r + 1]
        idx[j, : b - a], conf[j, : b - a] = x.indices[a:b], x.data[a:b]
    conf[idx == pad] = 1.0
    y = fq[idx]  # (B, L, d)
    c = np.where(idx == pad, 0.0, conf)
    rhs = np.einsum("bld,bl->bd", y, c)
    dinv = 1.0 / (row_neg[rows][:, None] * base[None, :] + reg[rows][:, None])  # (B, d)
    if width < fq.shape[1]:  # Woodbury
        t = dinv * rhs
        inner = np.einsum("bld,bmd->blm", y * dinv[:, None, :], y)
        inner[:, np.arange(width), np.arange(width)] += 1.0 / conf
        z = np.linalg.solve(inner, np.einsum("bld,bd->bl", y, t)[..., None])[..., 0]
        return t - dinv * np.einsum("bld,bl->bd", y, z)
    system = np.einsum("bld,bl,ble->bde", y, c, y)
    system[:, np.arange(y.shape[2]), np.arange(y.shape[2])] += 1.0 / dinv
    return np.linalg.solve(system, rhs[..., None])[..., 0]


def ials_fit(
    x: sp.csr_matrix,
    dim: int,
    alpha0: float,
    lam: float,
    nu: float,
    iters: int,
    seed: int = 42,
    eta: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(user factors, item factors); ``x`` holds the observed confidences ``c_ui``.

    ``eta`` > 0 weighs an unobserved item by its popularity (He et al. 2016, eALS): item i's
    missing-data weight is ``alpha0 * n_i^eta`` rescaled to the same mean ``alpha0``."""
    rng = np.random.default_rng(seed)
    x = x.tocsr().astype(np.float64)
    xt = x.T.tocsr()
    h = rng.normal(0.0, 0.1 / np.sqrt(dim), size=(x.shape[1], dim))
    w = np.zeros((x.shape[0], dim))
    pop = np.diff(xt.indptr).astype(np.float64)
    item_neg = np.power(np.maximum(pop, 1.0), eta)
    item_neg *= alpha0 / item_neg.mean()
    user_neg = np.ones(x.shape[0])
    for _ in range(iters):
        w = _half_step(x, h, item_neg, user_neg, lam, nu)
        h = _half_step(xt, w, user_neg, item_neg, lam, nu)
    return w, h


def confidence(stage: lab.Stage, kind: str) -> sp.csr_matrix:
    """Observed confidences from raw plays: binary, log1p, or implicit's bm25 of log1p."""
    from implicit.nearest_neighbours import bm25_weight

    x = lab.log1p(stage.train)
    if kind == "binary":
        x.data[:] = 1.0
    elif kind.startswith("bm25"):
        x = bm25_weight(x, K1=100, B=0.8).tocsr().astype(np.float32)
        scale = float(kind[4:] or 1)
        x.data *= scale
    elif kind.startswith("log1p"):
        x.data *= float(kind[5:] or 1)
    else:
        raise ValueError(kind)
    x.eliminate_zeros()
    return x


def ials_scores(
    stage: lab.Stage,
    dim: int = 256,
    alpha0: float = 1.0,
    lam: float = 100.0,
    nu: float = 0.0,
    iters: int = 16,
    conf: str = "bm25",
    seed: int = 42,
    eta: float = 0.0,
) -> np.ndarray:
    w, h = ials_fit(confidence(stage, conf), dim, alpha0, lam, nu, iters, seed, eta)
    return w[stage.users] @ h.T


def run(stage: lab.Stage, **params: Any) -> tuple[float, float]:
    t0 = time.perf_counter()
    s = lab.cached(stage, "ials", params, ials_scores)
    m = stage.metrics(s)
    ndcg, cov = m["ndcg@10"], m["coverage@10"]
    label = " ".join(f"{k}={v}" for k, v in params.items())
    print(
        f"[{stage.name}] iALS {label:60s} ndcg@10 {ndcg:.4f} coverage@10 {cov:.4f}"
        f" ({time.perf_counter() - t0:.0f}s)",
        flush=True,
    )
    return ndcg, cov


def main() -> None:
    """``check``, or a stage name then settings as ``key=value,key=value`` (one per fit)."""
    what = sys.argv[1] if len(sys.argv) > 1 else "check"
    st = lab.stages()
    if what == "check":  # nu 0, alpha0 1, bm25: implicit's ALS (val: 0.186 at reg 100)
        run(st["val"], dim=256, alpha0=1.0, lam=100.0, nu=0.0, iters=16, conf="bm25")
        return
    names = ["val", "val44", "vald"] if what == "carvings" else [what]
    if what == "carvings":  # the reference on each carving: implicit ALS 256 f, reg 100
        for name in names:
            ref = {"factors": 256, "reg": 100.0, "iters": 30, "seed": 42}
            m = st[name].metrics(lab.cached(st[name], "als", ref, lab.als_scores))
            print(
                f"[{name}] ALS 256 reg 100 ndcg@10 {m['ndcg@10']:.4f} coverage@10 {m['coverage@10']:.4f}"
            )
    types = {"dim": int, "iters": int, "seed": int, "conf": str}
    for spec in sys.argv[2:]:
        params: dict[str, Any] = {"dim": 256, "alpha0": 1.0, "lam": 100.0, "nu": 0.0}
        params |= {"iters": 16, "conf": "bm25"}
        for pair in spec.split(","):
            key, value = pair.split("=")
            params[key] = types.get(key, float)(value)
        for name in names:
            run(st[name], **params)


if __name__ == "__main__":
    main()
