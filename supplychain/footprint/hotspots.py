"""Hotspots and top supply paths: where in the network a brand's Scope 3 comes from.

A node's contribution is the emissions that originate there (own Scope 1 + 2, its upstream
gap, or a fixed secondary estimate on one of its sales) times the total allocation
multiplier from it to the brand, obtained from the adjoint system ``(I - S) v = S[:, brand]``.
The brand's own emissions never count towards its own Category 1, even where a supplier
cycle carries them back.  Paths are found by a bounded best-first search from the brand
upstream; a path's bound is its multiplier times the cradle-to-gate total of its last node,
so the first paths emitted are the largest.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .model import _Model
from .solver import propagate

__all__ = ["brand_hotspots", "top_paths"]

PATH_COLUMNS = [
    "brand_id",
    "rank",
    "path",
    "depth",
    "source",
    "contribution_kg_co2e",
    "share_of_total",
]


def _contributions(model: _Model, brand_idx: np.ndarray) -> np.ndarray:
    """Per-source contribution (sources × brands) to each brand's Scope 3 Category 1."""
    if brand_idx.size == 0:
        return np.zeros((model.src_target.size, 0))
    s_b = model.S[:, brand_idx].toarray()
    multiplier = np.asarray(propagate(model.S.T, s_b, check_shares=False))  # (I - S) v = S[:, b]
    multiplier = multiplier.reshape(model.n, brand_idx.size)
    at_brand = model.src_target[:, None] == brand_idx[None, :]
    direct = model.src_is_edge[:, None] & at_brand
    contrib = model.src_amount[:, None] * (multiplier[model.src_target] + direct)
    contrib[model.src_is_own[:, None] & at_brand] = 0.0  # the brand's own, back via a cycle
    return contrib


def brand_hotspots(
    model: _Model, ids: np.ndarray, brand_idx: np.ndarray, method: np.ndarray, tier: np.ndarray
) -> pd.DataFrame:
    """Contribution of every upstream node to every brand's total, largest first."""
    contrib = _contributions(model, brand_idx)
    frames = []
    for j, b in enumerate(brand_idx):
        per_node = np.bincount(model.src_origin, weights=contrib[:, j], minlength=model.n)
        total = per_node.sum()
        keep = np.flatnonzero(per_node > 0)
        keep = keep[np.argsort(-per_node[keep], kind="stable")]
        frames.append(
            pd.DataFrame(
                {
                    "brand_id": ids[b],
                    "node_id": ids[keep],
                    "method": method[keep],
                    "tier": tier[keep],
                    "contribution_kg_co2e": per_node[keep],
                    "share_of_total": per_node[keep] / total if total > 0 else np.nan,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=[
                "brand_id",
                "node_id",
                "method",
                "tier",
                "contribution_kg_co2e",
                "share_of_total",
            ]
        )
    return pd.concat(frames, ignore_index=True)


def _by_target(model: _Model, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive sources selected by ``mask``, grouped by target node (order and CSR pointer)."""
    chosen = np.flatnonzero(mask & (model.src_amount > 0))
    order = chosen[np.argsort(model.src_target[chosen], kind="stable")]
    ptr = np.zeros(model.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(model.src_target[order], minlength=model.n), out=ptr[1:])
    return order, ptr


def top_paths(
    model: _Model,
    ids: np.ndarray,
    brand_idx: np.ndarray,
    totals: np.ndarray,
    cat1: np.ndarray,
    limit: int = 20,
    max_expansions: int = 100_000,
) -> pd.DataFrame:
    """The ``limit`` largest simple paths brand ← tier 1 ← tier 2 … for each brand.

    Best-first search: heap items are either a finished path (exact contribution) or a
    partial path to expand (upper bound = multiplier × cradle-to-gate total of its end).
    Nodes are not repeated within a path and at most ``max_expansions`` partial paths are
    expanded, so supplier cycles cannot make the search loop.
    """
    S_csc = sp.csc_matrix(model.S)
    edge_src, edge_ptr = _by_target(model, model.src_is_edge)  # fixed estimates into a node
    local_src, local_ptr = _by_target(model, ~model.src_is_edge)  # its own emissions and gap
    rows: list[dict] = []
    counter = itertools.count()

    def push_upstream(heap: list, path: tuple[int, ...], mult: float) -> None:
        j = path[-1]
        start, end = S_csc.indptr[j], S_csc.indptr[j + 1]
        for k, share in zip(S_csc.indices[start:end], S_csc.data[start:end], strict=True):
            k = int(k)
            if k in path or share <= 0:
                continue
            m = mult * float(share)
            bound = m * float(totals[k])
            if bound > 0:
                heapq.heappush(heap, (-bound, next(counter), "expand", (*path, k), m, ""))
        for src in edge_src[edge_ptr[j] : edge_ptr[j + 1]]:
            k = int(model.src_origin[src])
            if k in path:
                continue
            value = mult * float(model.src_amount[src])
            label = str(model.src_kind[src])
            heapq.heappush(heap, (-value, next(counter), "leaf", (*path, k), value, label))

    for b_pos, b in enumerate(brand_idx):
        heap: list[tuple[float, int, str, tuple[int, ...], float, str]] = []
        push_upstream(heap, (int(b),), 1.0)
        expansions = 0
        found = 0
        while heap and found < limit:
            neg, _, kind, path, mult, label = heapq.heappop(heap)
            if kind == "leaf":
                found += 1
                rows.append(
                    {
                        "brand_id": ids[b],
                        "rank": found,
                        "path": " <- ".join(str(ids[p]) for p in path),
                        "depth": len(path) - 1,
                        "source": label,
                        "contribution_kg_co2e": -neg,
                        "share_of_total": -neg / cat1[b_pos] if cat1[b_pos] > 0 else np.nan,
                    }
                )
                continue
            if expansions >= max_expansions:
                continue
            expansions += 1
            j = path[-1]
            for src in local_src[local_ptr[j] : local_ptr[j + 1]]:
                value = mult * float(model.src_amount[src])
                label = str(model.src_kind[src])
                heapq.heappush(heap, (-value, next(counter), "leaf", path, value, label))
            push_upstream(heap, path, mult)
    return pd.DataFrame(rows, columns=PATH_COLUMNS)
