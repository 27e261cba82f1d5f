"""Small sparse-matrix helpers shared by the collaborative and content models.

Everything here keeps memory proportional to non-zeros: similarity matrices are built block by
block and pruned to the top-k entries per row, so a million-item catalog never needs an
items x items dense array.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def log1p_weight(x: sp.csr_matrix) -> sp.csr_matrix:
    """log1p of play counts: damps heavy listeners' counts while keeping order."""
    out = x.astype(np.float32, copy=True)
    np.log1p(out.data, out=out.data)
    return out


def bm25_weight(x: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Okapi BM25 weighting of a users x items matrix (items play the role of terms).

    The idf factor down-weights items everyone has, the length normalisation stops users with
    long histories from dominating co-occurrence counts.
    """
    x = x.tocsr().astype(np.float32, copy=True)
    n_users = x.shape[0]
    item_df = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float32)
    idf = np.log(n_users / (1.0 + item_df)).astype(np.float32)
    idf = np.maximum(idf, 0.0)
    row_len = np.diff(x.indptr).astype(np.float32)
    avg = float(row_len.mean()) if row_len.size else 1.0
    length_norm = (1.0 - b) + b * row_len / max(avg, 1e-9)
    row_of = np.repeat(np.arange(n_users), np.diff(x.indptr))
    tf = x.data
    x.data = (tf * (k1 + 1.0) / (k1 * length_norm[row_of] + tf) * idf[x.indices]).astype(np.float32)
    return x


def row_topk(m: sp.csr_matrix, k: int, *, drop_diagonal_offset: int | None = None) -> sp.csr_matrix:
    """Keep the k largest entries of each row (ties: lower column first).

    ``drop_diagonal_offset`` removes entries where ``column == row + offset`` (self-similarity
    when ``m`` is a row block of an items x items product).
    """
    m = m.tocsr()
    m.sum_duplicates()
    n_rows = m.shape[0]
    counts = np.diff(m.indptr)
    rows = np.repeat(np.arange(n_rows), counts)
    data, cols = m.data, m.indices
    keep = data > 0
    if drop_diagonal_offset is not None:
        keep &= cols != rows + drop_diagonal_offset
    rows, cols, data = rows[keep], cols[keep], data[keep]
    order = np.lexsort((cols, -data, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    rank = np.arange(rows.size) - starts[rows]
    sel = rank < k
    out = sp.csr_matrix(
        (data[sel].astype(np.float32), (rows[sel], cols[sel])), shape=m.shape, dtype=np.float32
    )
    out.sort_indices()
    return out


def blockwise_topk(
    left: sp.csr_matrix,
    right: sp.csr_matrix,
    k: int,
    *,
    block: int = 2048,
    transform: object = None,
) -> sp.csr_matrix:
    """Top-k per row of ``left @ right`` computed in row blocks.

    ``transform(block_product, row_offset) -> csr`` may rescale a block (shrinkage, popularity
    penalties) before pruning. Self-pairs are dropped when the product is square.
    """
    left = left.tocsr()
    square = left.shape[0] == right.shape[1]
    parts: list[sp.csr_matrix] = []
    for start in range(0, left.shape[0], block):
        prod = (left[start : start + block] @ right).tocsr()
        if callable(transform):
            prod = transform(prod, start)
        parts.append(row_topk(prod, k, drop_diagonal_offset=start if square else None))
    if not parts:
        return sp.csr_matrix((left.shape[0], right.shape[1]), dtype=np.float32)
    return sp.vstack(parts, format="csr").astype(np.float32)


def l2_normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    m = m.tocsr().astype(np.float32, copy=True)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m, dtype=np.float32)


def scale_rows(m: sp.csr_matrix, factors: np.ndarray) -> sp.csr_matrix:
    """Multiply row i by factors[i] in place-friendly CSR form."""
    m = m.tocsr().copy()
    m.data = (m.data * np.repeat(factors, np.diff(m.indptr))).astype(m.dtype)
    return m
