"""Issue 13, third round: Mult-DAE (Liang et al. 2018, "Variational autoencoders for collaborative
filtering", the denoising variant) in numpy, on the lab's validation carvings.

Usage (from the repository root):
    .venv/bin/python bench/quality_lab/dae.py [val|val44|vald] [hidden] [epochs] [l2] [lr]

One hidden tanh layer over the L2-normalised, dropped-out (p 0.5) binary history, a softmax
over the catalog and the multinomial log-likelihood, trained with Adam (two batches of users an
epoch). No training library: torch's wheel pulls GBs of CUDA, and the model is
small enough that numpy's matrix products do (a few seconds an epoch on the dev half).
Validation ndcg@10 is printed every 25 epochs; the ALS reference on the same carving is in
``ials.py carvings``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab  # the lab's helpers sit beside this file


class Adam:
    """Adam over a list of arrays (updated in place)."""

    def __init__(self, params: list[np.ndarray], lr: float = 1e-3) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = 0.9, 0.999
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mhat = m / (1 - b1**self.t)
            vhat = v / (1 - b2**self.t)
            p -= self.lr * mhat / (np.sqrt(vhat) + 1e-8)


def _normalise(x: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


def train_dae(
    stage: lab.Stage,
    hidden: int = 200,
    epochs: int = 200,
    l2: float = 0.01,
    dropout: float = 0.5,
    batch: int = 500,
    seed: int = 42,
    lr: float = 1e-3,
) -> None:
    rng = np.random.default_rng(seed)
    x = lab.log1p(stage.train)
    x.data[:] = 1.0
    x = x.astype(np.float32)
    n_items = x.shape[1]
    scale1 = np.sqrt(6.0 / (n_items + hidden))  # Xavier, as the paper's code
    w1 = rng.uniform(-scale1, scale1, (n_items, hidden)).astype(np.float32)
    b1 = np.zeros(hidden, dtype=np.float32)
    w2 = rng.uniform(-scale1, scale1, (hidden, n_items)).astype(np.float32)
    b2 = np.zeros(n_items, dtype=np.float32)
    opt = Adam([w1, b1, w2, b2], lr)
    users = np.flatnonzero(np.diff(x.indptr) > 0)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(users)
        for a in range(0, order.size, batch):
            rows = x[order[a : a + batch]]
            keep = rows.copy()
            keep.data = (rng.random(keep.nnz) >= dropout).astype(np.float32)
            keep.eliminate_zeros()
            inp = _normalise(keep)
            act = np.tanh(inp @ w1 + b1)
            logits = act @ w2 + b2
            logits -= logits.max(axis=1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(axis=1, keepdims=True)
            counts = np.asarray(rows.sum(axis=1)).ravel()[:, None].astype(np.float32)
            # d(-sum x log softmax)/dlogits = n * softmax - x, averaged over the batch
            g = (prob * counts - rows.toarray()) / rows.shape[0]
            gw2 = act.T @ g + l2 * w2
            gb2 = g.sum(axis=0)
            gh = (g @ w2.T) * (1.0 - act * act)
            gw1 = np.asarray(inp.T @ gh) + l2 * w1
            gb1 = gh.sum(axis=0)
            opt.step([gw1, gb1, gw2, gb2])
        if epoch % 25 == 0 or epoch == epochs:
            inp = _normalise(x[stage.users])
            scores = np.tanh(inp @ w1 + b1) @ w2 + b2
            m = stage.metrics(scores)
            print(
                f"[{stage.name}] Mult-DAE {hidden} l2 {l2} lr {lr} epoch {epoch}: ndcg@10 "
                f"{m['ndcg@10']:.4f} coverage@10 {m['coverage@10']:.4f}"
                f" ({time.perf_counter() - t0:.0f}s)",
                flush=True,
            )


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "val"
    hidden = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    l2 = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
    lr = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3
    train_dae(lab.stages()[name], hidden=hidden, epochs=epochs, l2=l2, lr=lr)


if __name__ == "__main__":
    main()
