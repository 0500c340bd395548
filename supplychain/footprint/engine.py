"""Multi-tier Scope 3 propagation: allocation rules, data quality, primary share, uncertainty.

Turns a :class:`FootprintNetwork` into the linear system ``(I - Sᵀ) T = e`` (see
``docs/footprint-method.md``), solves it once for the totals, the data-quality-weighted
emissions and the supplier-specific emissions together, runs a vectorised Monte Carlo on
the same solve plan, and derives hotspots and top paths for every brand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .network import FootprintNetwork
from .solver import PropagationPlan, plan_propagation, solve_with_plan

__all__ = [
    "DEFAULT_DQ",
    "DQ_UNCERTAINTY_PCT",
    "FootprintInputError",
    "FootprintResult",
    "default_uncertainty_pct",
    "solve_footprint",
]

#: default ± % (95 % half-width) of an input by data-quality level 1..5
DQ_UNCERTAINTY_PCT = {1: 5.0, 2: 10.0, 3: 25.0, 4: 40.0, 5: 60.0}

#: data-quality score assumed when an input does not state one
DEFAULT_DQ = {
    "primary": 2.0,  # a supplier's own reported Scope 1 + 2
    "product": 2.0,  # supplier-specific product carbon footprint
    "average_data": 4.0,  # quantity × average per-unit factor
    "spend_based": 4.0,  # spend × environmentally extended input-output factor
}

# edge statuses
PRODUCT = "product"
AVERAGE_DATA = "average_data"
ALLOCATED_SHARE = "allocated_share"
ALLOCATED_SPEND_RATIO = "allocated_spend_ratio"
SPEND_BASED = "spend_based"
COVERED_BY_FACTOR = "covered_by_factor"
COVERED_BY_PRODUCT = "covered_by_product"
NOT_USED = "not_used"
NO_DATA = "no_data"
_FIXED = (PRODUCT, AVERAGE_DATA, SPEND_BASED)
_ALLOCATED = (ALLOCATED_SHARE, ALLOCATED_SPEND_RATIO)

# node methods
SUPPLIER_SPECIFIC = "supplier_specific"
HYBRID = "hybrid"
SCOPE3_CAT1 = "scope3_cat1"


class FootprintInputError(ValueError):
    """The network cannot be solved as given (e.g. a supplier allocates more than 100 %)."""


def default_uncertainty_pct(dq: np.ndarray) -> np.ndarray:
    """Default ± % for data-quality scores, interpolated between the integer levels."""
    levels = np.array(sorted(DQ_UNCERTAINTY_PCT))
    pct = np.array([DQ_UNCERTAINTY_PCT[k] for k in levels])
    return np.interp(np.clip(dq, 1, 5), levels, pct)


@dataclass
class _Model:
    """The assembled linear system and its emission sources."""

    S: sp.csr_matrix
    own_used: np.ndarray
    primary: np.ndarray
    edge_status: np.ndarray
    edge_share: np.ndarray  # share used for allocated edges, NaN otherwise
    edge_fixed: np.ndarray  # fixed kg for product/average/spend-based edges, NaN otherwise
    # emission sources: own emissions of primary nodes, then fixed edge amounts
    src_target: np.ndarray  # node whose total the source enters
    src_origin: np.ndarray  # node the emissions are attributed to
    src_amount: np.ndarray
    src_dq: np.ndarray
    src_primary: np.ndarray  # 1.0 when supplier-specific
    src_unc: np.ndarray
    src_is_own: np.ndarray
    src_kind: np.ndarray  # "own", "product", "average_data" or "spend_based"
    warnings: list[str]

    @property
    def n(self) -> int:
        return self.S.shape[0]

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Sum per-source values (1-D or sources × samples) into node right-hand sides."""
        B = sp.csr_matrix(
            (np.ones(self.src_target.size), (self.src_target, np.arange(self.src_target.size))),
            shape=(self.n, self.src_target.size),
        )
        return B @ values


def _assemble(network: FootprintNetwork) -> _Model:
    """Apply the allocation precedence to every edge and collect the emission sources."""
    nodes, edges = network.nodes, network.edges
    n = len(nodes)
    warnings: list[str] = []
    ids = nodes["node_id"].to_numpy()
    brand = network.is_brand
    own = nodes["own_kg_co2e"].to_numpy(dtype=float)
    primary = network.has_primary_data
    for b in np.flatnonzero(brand & np.isnan(own)):
        warnings.append(f"brand {ids[b]} has no own emissions; its Scope 1 + 2 is taken as 0")
    own_used = np.where(primary, np.nan_to_num(own), 0.0)
    revenue = nodes["revenue"].to_numpy(dtype=float)

    sup = edges["supplier"].to_numpy(dtype=np.int64)
    cus = edges["customer"].to_numpy(dtype=np.int64)
    share = edges["share"].to_numpy(dtype=float)
    spend = edges["spend"].to_numpy(dtype=float)
    spend_kg = edges["spend_kg_co2e"].to_numpy(dtype=float)
    pcf = edges["pcf_kg_per_unit"].to_numpy(dtype=float)
    qty = edges["quantity"].to_numpy(dtype=float)
    specific = edges["pcf_supplier_specific"].to_numpy(dtype=bool)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(revenue[sup] > 0, spend / revenue[sup], np.nan)
    has_pcf = np.isfinite(pcf) & np.isfinite(qty)
    expanded = primary[cus]
    status = np.select(
        [
            ~expanded,
            has_pcf & specific,
            has_pcf,
            primary[sup] & np.isfinite(share),
            primary[sup] & np.isfinite(ratio),
            np.isfinite(spend_kg),
        ],
        ["covered", PRODUCT, AVERAGE_DATA, ALLOCATED_SHARE, ALLOCATED_SPEND_RATIO, SPEND_BASED],
        default=NO_DATA,
    ).astype(object)

    fixed = np.full(len(edges), np.nan)
    fixed[status == PRODUCT] = (pcf * qty)[status == PRODUCT]
    fixed[status == AVERAGE_DATA] = (pcf * qty)[status == AVERAGE_DATA]
    fixed[status == SPEND_BASED] = spend_kg[status == SPEND_BASED]

    # an edge into a node that is not expanded is covered by that node's own estimate
    estimate_kind = np.full(n, NOT_USED, dtype=object)
    for kind in (PRODUCT, AVERAGE_DATA, SPEND_BASED):  # later kinds take precedence
        estimate_kind[np.unique(sup[status == kind])] = (
            COVERED_BY_FACTOR if kind == SPEND_BASED else COVERED_BY_PRODUCT
        )
    covered = status == "covered"
    status[covered] = estimate_kind[cus[covered]]

    used_share = np.full(len(edges), np.nan)
    used_share[status == ALLOCATED_SHARE] = share[status == ALLOCATED_SHARE]
    used_share[status == ALLOCATED_SPEND_RATIO] = ratio[status == ALLOCATED_SPEND_RATIO]
    alloc = np.isin(status, _ALLOCATED)
    out_sum = np.bincount(sup[alloc], weights=used_share[alloc], minlength=n)
    over = np.flatnonzero(out_sum > 1.0 + 1e-9)
    if over.size:
        detail = ", ".join(f"{ids[k]} ({out_sum[k]:.4g})" for k in over[:10])
        raise FootprintInputError(
            "suppliers allocate more than 100 % of their emissions (reported shares or "
            f"spend / revenue): {detail}"
        )
    S = sp.csr_matrix((used_share[alloc], (sup[alloc], cus[alloc])), shape=(n, n))

    no_data = np.flatnonzero(status == NO_DATA)
    if no_data.size:
        warnings.append(
            f"{no_data.size} supplier relation(s) have no usable data and add nothing, e.g. "
            + ", ".join(f"{ids[sup[j]]} → {ids[cus[j]]}" for j in no_data[:5])
        )

    # sources: own emissions of primary nodes
    p_idx = np.flatnonzero(primary)
    own_dq = nodes["dq_score"].to_numpy(dtype=float)
    own_dq = np.where(np.isfinite(own_dq), own_dq, DEFAULT_DQ["primary"])
    own_unc = nodes["uncertainty_pct"].to_numpy(dtype=float)
    own_unc = np.where(np.isfinite(own_unc), own_unc, default_uncertainty_pct(own_dq))

    # sources: fixed edge amounts
    f_idx = np.flatnonzero(np.isin(status, _FIXED))
    f_status = status[f_idx]
    f_dq = np.select(
        [f_status == PRODUCT, f_status == AVERAGE_DATA],
        [edges["pcf_dq_score"].to_numpy(float)[f_idx]] * 2,
        default=edges["spend_dq_score"].to_numpy(float)[f_idx],
    )
    f_default_dq = np.select(
        [f_status == PRODUCT, f_status == AVERAGE_DATA],
        [DEFAULT_DQ["product"], DEFAULT_DQ["average_data"]],
        default=DEFAULT_DQ["spend_based"],
    )
    f_dq = np.where(np.isfinite(f_dq), f_dq, f_default_dq)
    f_unc = np.select(
        [f_status == PRODUCT, f_status == AVERAGE_DATA],
        [edges["pcf_uncertainty_pct"].to_numpy(float)[f_idx]] * 2,
        default=edges["spend_uncertainty_pct"].to_numpy(float)[f_idx],
    )
    f_unc = np.where(np.isfinite(f_unc), f_unc, default_uncertainty_pct(f_dq))

    return _Model(
        S=S,
        own_used=own_used,
        primary=primary,
        edge_status=status,
        edge_share=used_share,
        edge_fixed=fixed,
        src_target=np.concatenate([p_idx, cus[f_idx]]),
        src_origin=np.concatenate([p_idx, sup[f_idx]]),
        src_amount=np.concatenate([own_used[p_idx], fixed[f_idx]]),
        src_dq=np.concatenate([own_dq[p_idx], f_dq]),
        src_primary=np.concatenate([np.ones(p_idx.size), (f_status == PRODUCT).astype(float)]),
        src_unc=np.concatenate([own_unc[p_idx], f_unc]),
        src_is_own=np.concatenate([np.ones(p_idx.size, bool), np.zeros(f_idx.size, bool)]),
        src_kind=np.concatenate([np.full(p_idx.size, "own", dtype=object), f_status]),
        warnings=warnings,
    )


@dataclass
class FootprintResult:
    """Everything one propagation run produces, per node, per edge and per brand."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    brands: pd.DataFrame
    hotspots: pd.DataFrame
    paths: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    samples: int = 0
    seed: int | None = None
    residual: float = 0.0

    def total(self, brand_id: str | None = None) -> float:
        """Scope 3 Category 1 of one brand (the only brand when not given)."""
        frame = self.brands if brand_id is None else self.brands[self.brands.brand_id == brand_id]
        if len(frame) != 1:
            raise KeyError(f"brand {brand_id!r} not unique in result")
        return float(frame["scope3_cat1_kg_co2e"].iloc[0])

    def node(self, node_id: str) -> pd.Series:
        return self.nodes.set_index("node_id").loc[node_id]

    def result_table(self) -> pd.DataFrame:
        """The RESULT.csv layout: one row per node plus one ``scope3_cat1`` row per brand."""
        cols = [
            "node_id",
            "method",
            "cradle_to_gate_kg_co2e",
            "dq_score",
            "primary_share",
            "ci95_low",
            "ci95_high",
        ]
        brand_rows = pd.DataFrame(
            {
                "node_id": self.brands["brand_id"],
                "method": SCOPE3_CAT1,
                "cradle_to_gate_kg_co2e": self.brands["scope3_cat1_kg_co2e"],
                "dq_score": self.brands["dq_score"],
                "primary_share": self.brands["primary_share"],
                "ci95_low": self.brands["ci95_low"],
                "ci95_high": self.brands["ci95_high"],
            }
        )
        return pd.concat([self.nodes[cols], brand_rows], ignore_index=True)


def _tiers(network: FootprintNetwork) -> np.ndarray:
    """Tier of every node: fewest supplier hops to the nearest brand (NaN if unreachable)."""
    n = network.n_nodes
    brands = np.flatnonzero(network.is_brand)
    if brands.size == 0 or n == 0:
        return np.full(n, np.nan)
    e = network.edges
    upstream = sp.csr_matrix(
        (np.ones(len(e)), (e["customer"].to_numpy(), e["supplier"].to_numpy())), shape=(n, n)
    )
    dist = dijkstra(upstream, directed=True, indices=brands, unweighted=True, min_only=True)
    return np.where(np.isfinite(dist), dist, np.nan)


def _safe_ratio(num: np.ndarray, den: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), fallback)


def _draw_sources(model: _Model, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Mean-preserving lognormal draws (sources × samples) from the ± % of each source."""
    amount = model.src_amount
    sigma = np.log1p(np.maximum(model.src_unc, 0.0) / 100.0) / 1.959963984540054
    mu = np.log(np.where(amount > 0, amount, 1.0)) - 0.5 * sigma**2
    z = rng.standard_normal((amount.size, samples))
    draws = np.exp(mu[:, None] + sigma[:, None] * z)
    draws[amount <= 0] = 0.0
    return draws


def _monte_carlo(
    model: _Model,
    plan: PropagationPlan,
    brand_idx: np.ndarray,
    samples: int,
    seed: int | None,
    tol: float,
    chunk_cells: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """95 % intervals per node and per brand from a matrix right-hand side (nodes × samples)."""
    n = model.n
    rng = np.random.default_rng(seed)
    own_src_of = np.full(n, -1)
    own_src_of[model.src_target[model.src_is_own]] = np.flatnonzero(model.src_is_own)
    fixed = ~model.src_is_own
    report_out = sp.csr_matrix(  # non-primary nodes report what they sell into the network
        (
            np.ones(int(fixed.sum())),
            (model.src_origin[fixed], np.flatnonzero(fixed)),
        ),
        shape=(n, model.src_target.size),
    )
    report_out = sp.diags((~model.primary).astype(float)) @ report_out
    chunk = max(1, min(samples, chunk_cells // max(n, 1)))
    node_vals = np.empty((n, samples))
    brand_vals = np.empty((brand_idx.size, samples))
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        draws = _draw_sources(model, m, rng)
        totals = solve_with_plan(plan, np.asarray(model.aggregate(draws)), tol=tol)
        node_vals[:, done : done + m] = totals + np.asarray(report_out @ draws)
        own_b = np.where(
            own_src_of[brand_idx, None] >= 0, draws[np.maximum(own_src_of[brand_idx], 0)], 0.0
        )
        brand_vals[:, done : done + m] = totals[brand_idx] - own_b
        done += m
    node_pct = np.percentile(node_vals, [2.5, 97.5], axis=1)
    brand_pct = np.percentile(brand_vals, [2.5, 97.5], axis=1)
    return node_pct[0], node_pct[1], brand_pct[0], brand_pct[1]


def solve_footprint(
    network: FootprintNetwork,
    samples: int = 1000,
    seed: int | None = 0,
    top_paths: int = 20,
    tol: float = 1e-9,
) -> FootprintResult:
    """Propagate supplier emissions through all tiers and attribute every tonne.

    ``samples`` Monte Carlo draws (0 disables the uncertainty run) with generator ``seed``;
    ``top_paths`` paths are kept per brand.
    """
    from .hotspots import brand_hotspots
    from .hotspots import top_paths as find_top_paths

    model = _assemble(network)
    n = model.n
    ids = network.nodes["node_id"].to_numpy()
    plan = plan_propagation(model.S)

    weights = np.column_stack(
        [model.src_amount, model.src_amount * model.src_dq, model.src_amount * model.src_primary]
    )
    rhs = np.asarray(model.aggregate(weights))
    solved = solve_with_plan(plan, rhs, tol=tol)
    residual = plan.residual(solved, rhs)
    T, D, P = solved[:, 0], solved[:, 1], solved[:, 2]

    # nodes without primary data: report what the network buys from them (fixed estimates)
    fixed = ~model.src_is_own
    origin = model.src_origin[fixed]
    out_T = np.bincount(origin, weights=model.src_amount[fixed], minlength=n)
    out_D = np.bincount(origin, weights=(model.src_amount * model.src_dq)[fixed], minlength=n)
    out_P = np.bincount(origin, weights=(model.src_amount * model.src_primary)[fixed], minlength=n)
    has_estimate = np.bincount(origin, minlength=n) > 0
    value = np.where(model.primary, T, np.where(has_estimate, out_T, np.nan))
    own_dq_default = np.full(n, np.nan)
    own_src = model.src_is_own
    own_dq_default[model.src_target[own_src]] = model.src_dq[own_src]
    dq = np.where(
        model.primary, _safe_ratio(D, T, own_dq_default), _safe_ratio(out_D, out_T, np.nan)
    )
    pshare = np.where(
        model.primary, _safe_ratio(P, T, np.ones(n)), _safe_ratio(out_P, out_T, np.nan)
    )

    edges = network.edges
    status = model.edge_status
    sup = edges["supplier"].to_numpy()
    method = np.full(n, NO_DATA, dtype=object)
    for kind, label in (
        (COVERED_BY_PRODUCT, COVERED_BY_PRODUCT),
        (COVERED_BY_FACTOR, COVERED_BY_FACTOR),
        (PRODUCT, SUPPLIER_SPECIFIC),
        (AVERAGE_DATA, AVERAGE_DATA),
        (SPEND_BASED, SPEND_BASED),
    ):  # later rows take precedence for a node selling several ways
        method[np.unique(sup[status == kind])] = label
    method[model.primary] = np.where(pshare[model.primary] >= 1 - 1e-9, SUPPLIER_SPECIFIC, HYBRID)

    allocated = np.where(np.isin(status, _ALLOCATED), model.edge_share * T[sup], model.edge_fixed)
    edge_frame = pd.DataFrame(
        {
            "supplier_id": edges["supplier_id"],
            "customer_id": edges["customer_id"],
            "status": status,
            "share_used": model.edge_share,
            "allocated_kg_co2e": allocated,
        }
    )

    brand_idx = np.flatnonzero(network.is_brand)
    cat1 = T[brand_idx] - model.own_used[brand_idx]
    cat1_D = D[brand_idx] - model.own_used[brand_idx] * own_dq_default[brand_idx]
    cat1_P = P[brand_idx] - model.own_used[brand_idx]

    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    b_lo = np.full(brand_idx.size, np.nan)
    b_hi = np.full(brand_idx.size, np.nan)
    if samples and samples > 0:
        lo, hi, b_lo, b_hi = _monte_carlo(model, plan, brand_idx, samples, seed, tol)
        unknown = np.isnan(value)
        lo[unknown] = np.nan
        hi[unknown] = np.nan

    node_frame = pd.DataFrame(
        {
            "node_id": ids,
            "kind": network.nodes["kind"].to_numpy(),
            "tier": _tiers(network),
            "method": method,
            "own_kg_co2e": network.nodes["own_kg_co2e"].to_numpy(),
            "cradle_to_gate_kg_co2e": value,
            "dq_score": dq,
            "primary_share": pshare,
            "ci95_low": lo,
            "ci95_high": hi,
        }
    )
    brand_frame = pd.DataFrame(
        {
            "brand_id": ids[brand_idx],
            "scope3_cat1_kg_co2e": cat1,
            "dq_score": _safe_ratio(cat1_D, cat1, np.full(brand_idx.size, np.nan)),
            "primary_share": _safe_ratio(cat1_P, cat1, np.full(brand_idx.size, np.nan)),
            "ci95_low": b_lo,
            "ci95_high": b_hi,
        }
    )
    hotspots = brand_hotspots(model, ids, brand_idx, method, node_frame["tier"].to_numpy())
    paths = find_top_paths(model, ids, brand_idx, T, cat1, limit=top_paths)
    return FootprintResult(
        nodes=node_frame,
        edges=edge_frame,
        brands=brand_frame,
        hotspots=hotspots,
        paths=paths,
        warnings=list(model.warnings),
        samples=int(samples or 0),
        seed=seed,
        residual=residual,
    )
