"""The assembled linear system of a footprint network: allocation rules and emission sources.

:func:`_assemble` applies the allocation precedence to every edge of a
:class:`FootprintNetwork` and collects every emission source (own Scope 1 + 2 of nodes with
primary data, fixed secondary estimates on edges, and the upstream gap of reporting
suppliers) into a :class:`_Model`. The engine solves it and the hotspot analysis reads it;
both import it from here so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .network import FootprintNetwork

__all__ = [
    "DEFAULT_DQ",
    "DQ_UNCERTAINTY_PCT",
    "GAP_DISCLOSED",
    "GAP_ESTIMATED",
    "GAP_METHODS",
    "GAP_PURCHASED",
    "GAP_UNCERTAINTY_PCT",
    "FootprintInputError",
    "default_uncertainty_pct",
]

#: default ± % (95 % half-width) of an input by data-quality level 1..5
DQ_UNCERTAINTY_PCT = {1: 5.0, 2: 10.0, 3: 25.0, 4: 40.0, 5: 60.0}

#: data-quality score assumed when an input does not state one
DEFAULT_DQ = {
    "primary": 2.0,  # a supplier's own reported Scope 1 + 2
    "product": 2.0,  # supplier-specific product carbon footprint
    "average_data": 4.0,  # quantity × average per-unit factor
    "spend_based": 4.0,  # spend × environmentally extended input-output factor
    # a supplier's own Scope 3 Category 1 figure: itself mostly spend-based, as good as a
    # spend-based estimate with a stated sector (spend_factors DQ 3)
    "disclosed_upstream": 3.0,
    # purchases estimated from the sector's intermediate-input share: the weakest estimate
    "estimated_upstream": 5.0,
}

# gap methods: how the upstream of a reporting supplier outside the network was filled
GAP_DISCLOSED = "disclosed-upstream"
GAP_PURCHASED = "purchased-spend"
GAP_ESTIMATED = "hybrid-estimated-upstream"
GAP_METHODS = (GAP_DISCLOSED, GAP_PURCHASED, GAP_ESTIMATED)

#: ± % of a gap when its input states none: a disclosed upstream figure as a spend-based
#: estimate with a stated sector (spend_factors: DQ 3 -> ±50 %), an estimated upstream as an
#: unclassified spend line (spend_factors: DQ 5 -> ±100 %)
GAP_UNCERTAINTY_PCT = {GAP_DISCLOSED: 50.0, GAP_PURCHASED: 60.0, GAP_ESTIMATED: 100.0}

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
FIXED = (PRODUCT, AVERAGE_DATA, SPEND_BASED)
ALLOCATED = (ALLOCATED_SHARE, ALLOCATED_SPEND_RATIO)

# source roles
OWN = "own"
EDGE = "edge"
GAP = "gap"


class FootprintInputError(ValueError):
    """The network cannot be solved as given (e.g. a supplier allocates more than 100 %)."""


def default_uncertainty_pct(dq: np.ndarray) -> np.ndarray:
    """Default ± % for data-quality scores, interpolated between the integer levels."""
    levels = np.array(sorted(DQ_UNCERTAINTY_PCT))
    pct = np.array([DQ_UNCERTAINTY_PCT[k] for k in levels])
    return np.interp(np.clip(dq, 1, 5), levels, pct)


@dataclass
class _Model:
    """The assembled linear system, its emission sources and the upstream-gap inputs."""

    S: sp.csr_matrix
    own_used: np.ndarray
    primary: np.ndarray
    is_brand: np.ndarray
    edge_status: np.ndarray
    edge_share: np.ndarray  # share used for allocated edges, NaN otherwise
    edge_fixed: np.ndarray  # fixed kg for product/average/spend-based edges, NaN otherwise
    # emission sources: own emissions of primary nodes, fixed edge amounts, upstream gaps
    src_target: np.ndarray  # node whose total the source enters
    src_origin: np.ndarray  # node the emissions are attributed to
    src_amount: np.ndarray
    src_dq: np.ndarray
    src_primary: np.ndarray  # 1.0 when supplier-specific
    src_unc: np.ndarray
    src_role: np.ndarray  # OWN, EDGE or GAP
    src_kind: np.ndarray  # "own", "product", "average_data", "spend_based" or a gap method
    # per node: how its upstream gap is filled ("" none), and the inputs of each rule
    gap_method: np.ndarray
    upstream_disclosed: np.ndarray  # disclosed upstream kg (NaN unless GAP_DISCLOSED)
    gap_fixed: np.ndarray  # precomputed gap kg (NaN unless purchased-spend/estimated)
    gap_dq: np.ndarray
    gap_unc: np.ndarray
    warnings: list[str]

    @property
    def n(self) -> int:
        return self.S.shape[0]

    @property
    def src_is_own(self) -> np.ndarray:
        return self.src_role == OWN

    @property
    def src_is_edge(self) -> np.ndarray:
        return self.src_role == EDGE

    @property
    def src_is_gap(self) -> np.ndarray:
        return self.src_role == GAP

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Sum per-source values (1-D or sources × samples) into node right-hand sides."""
        B = sp.csr_matrix(
            (np.ones(self.src_target.size), (self.src_target, np.arange(self.src_target.size))),
            shape=(self.n, self.src_target.size),
        )
        return B @ values

    def fixed_in(self) -> np.ndarray:
        """Per node: the fixed edge estimates (product, average, spend-based) that enter it."""
        edge = self.src_is_edge
        return np.bincount(self.src_target[edge], weights=self.src_amount[edge], minlength=self.n)

    def allocated_in(self, totals: np.ndarray) -> np.ndarray:
        """Per node: what its known suppliers allocate to it, for given cradle-to-gate totals."""
        return np.asarray(self.S.T @ totals).ravel() + self.fixed_in()

    def with_gaps(self, gap: np.ndarray) -> _Model:
        """The model with one secondary source per node whose upstream gap is positive."""
        idx = np.flatnonzero(np.nan_to_num(gap) > 0)
        n_new = idx.size
        return replace(
            self,
            src_target=np.concatenate([self.src_target, idx]),
            src_origin=np.concatenate([self.src_origin, idx]),
            src_amount=np.concatenate([self.src_amount, gap[idx]]),
            src_dq=np.concatenate([self.src_dq, self.gap_dq[idx]]),
            src_primary=np.concatenate([self.src_primary, np.zeros(n_new)]),
            src_unc=np.concatenate([self.src_unc, self.gap_unc[idx]]),
            src_role=np.concatenate([self.src_role, np.full(n_new, GAP, dtype=object)]),
            src_kind=np.concatenate([self.src_kind, self.gap_method[idx].astype(object)]),
        )


@dataclass
class _EdgeRules:
    """The allocation precedence applied to every edge."""

    status: np.ndarray
    used_share: np.ndarray
    fixed: np.ndarray
    S: sp.csr_matrix
    warnings: list[str]


def _edge_status(network: FootprintNetwork, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status of every edge by the allocation precedence, and its spend / revenue ratio."""
    nodes, edges = network.nodes, network.edges
    n = len(nodes)
    revenue = nodes["revenue"].to_numpy(dtype=float)
    sup = edges["supplier"].to_numpy(dtype=np.int64)
    cus = edges["customer"].to_numpy(dtype=np.int64)
    share = edges["share"].to_numpy(dtype=float)
    spend = edges["spend"].to_numpy(dtype=float)
    has_pcf = np.isfinite(edges["pcf_kg_per_unit"].to_numpy(dtype=float)) & np.isfinite(
        edges["quantity"].to_numpy(dtype=float)
    )
    specific = edges["pcf_supplier_specific"].to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(revenue[sup] > 0, spend / revenue[sup], np.nan)
    status = np.select(
        [
            ~primary[cus],
            has_pcf & specific,
            has_pcf,
            primary[sup] & np.isfinite(share),
            primary[sup] & np.isfinite(ratio),
            np.isfinite(edges["spend_kg_co2e"].to_numpy(dtype=float)),
        ],
        ["covered", PRODUCT, AVERAGE_DATA, ALLOCATED_SHARE, ALLOCATED_SPEND_RATIO, SPEND_BASED],
        default=NO_DATA,
    ).astype(object)
    # an edge into a node that is not expanded is covered by that node's own estimate
    estimate_kind = np.full(n, NOT_USED, dtype=object)
    for kind in FIXED:  # later kinds take precedence
        estimate_kind[np.unique(sup[status == kind])] = (
            COVERED_BY_FACTOR if kind == SPEND_BASED else COVERED_BY_PRODUCT
        )
    covered = status == "covered"
    status[covered] = estimate_kind[cus[covered]]
    return status, ratio


def _edge_rules(network: FootprintNetwork, primary: np.ndarray) -> _EdgeRules:
    """Edge statuses, the share matrix ``S`` and the fixed edge amounts."""
    edges = network.edges
    n = network.n_nodes
    ids = network.nodes["node_id"].to_numpy()
    sup = edges["supplier"].to_numpy(dtype=np.int64)
    cus = edges["customer"].to_numpy(dtype=np.int64)
    status, ratio = _edge_status(network, primary)
    product = edges["pcf_kg_per_unit"].to_numpy(dtype=float) * edges["quantity"].to_numpy(float)
    fixed = np.full(len(edges), np.nan)
    for kind in (PRODUCT, AVERAGE_DATA):
        fixed[status == kind] = product[status == kind]
    spend_based = status == SPEND_BASED
    fixed[spend_based] = edges["spend_kg_co2e"].to_numpy(dtype=float)[spend_based]

    used_share = np.full(len(edges), np.nan)
    by_share = status == ALLOCATED_SHARE
    used_share[by_share] = edges["share"].to_numpy(dtype=float)[by_share]
    by_ratio = status == ALLOCATED_SPEND_RATIO
    used_share[by_ratio] = ratio[by_ratio]
    alloc = by_share | by_ratio
    out_sum = np.bincount(sup[alloc], weights=used_share[alloc], minlength=n)
    over = np.flatnonzero(out_sum > 1.0 + 1e-9)
    if over.size:
        detail = ", ".join(f"{ids[k]} ({out_sum[k]:.4g})" for k in over[:10])
        raise FootprintInputError(
            "suppliers allocate more than 100 % of their emissions (reported shares or "
            f"spend / revenue): {detail}"
        )
    S = sp.csr_matrix((used_share[alloc], (sup[alloc], cus[alloc])), shape=(n, n))
    warnings: list[str] = []
    no_data = np.flatnonzero(status == NO_DATA)
    if no_data.size:
        warnings.append(
            f"{no_data.size} supplier relation(s) have no usable data and add nothing, e.g. "
            + ", ".join(f"{ids[sup[j]]} → {ids[cus[j]]}" for j in no_data[:5])
        )
    return _EdgeRules(status, used_share, fixed, S, warnings)


def _edge_sources(network: FootprintNetwork, rules: _EdgeRules) -> dict[str, np.ndarray]:
    """Data quality, uncertainty and endpoints of the fixed edge amounts."""
    edges = network.edges
    idx = np.flatnonzero(np.isin(rules.status, FIXED))
    kind = rules.status[idx]
    is_pcf = [kind == PRODUCT, kind == AVERAGE_DATA]
    dq = np.select(
        is_pcf,
        [edges["pcf_dq_score"].to_numpy(float)[idx]] * 2,
        default=edges["spend_dq_score"].to_numpy(float)[idx],
    )
    default_dq = np.select(
        is_pcf, [DEFAULT_DQ["product"], DEFAULT_DQ["average_data"]], DEFAULT_DQ["spend_based"]
    )
    dq = np.where(np.isfinite(dq), dq, default_dq)
    unc = np.select(
        is_pcf,
        [edges["pcf_uncertainty_pct"].to_numpy(float)[idx]] * 2,
        default=edges["spend_uncertainty_pct"].to_numpy(float)[idx],
    )
    return {
        "target": edges["customer"].to_numpy(dtype=np.int64)[idx],
        "origin": edges["supplier"].to_numpy(dtype=np.int64)[idx],
        "amount": rules.fixed[idx],
        "dq": dq,
        "primary": (kind == PRODUCT).astype(float),
        "unc": np.where(np.isfinite(unc), unc, default_uncertainty_pct(dq)),
        "kind": kind,
    }


@dataclass
class _GapInputs:
    """Per node: the gap rule that applies, its inputs, DQ and ± %; and warnings."""

    method: np.ndarray
    upstream: np.ndarray
    fixed: np.ndarray
    dq: np.ndarray
    unc: np.ndarray
    warnings: list[str]


def _gap_inputs(network: FootprintNetwork, primary: np.ndarray) -> _GapInputs:
    """Per node: the gap rule that applies, its inputs, DQ and ± %, and warnings.

    Rule order for a supplier with own emissions: disclosed upstream, then a precomputed
    spend-based gap estimate (purchased spend or the sector default, set by the adapter).
    """
    nodes = network.nodes
    ids = nodes["node_id"].to_numpy()
    brand = network.is_brand
    upstream = nodes["upstream_kg_co2e"].to_numpy(dtype=float)
    estimate = nodes["gap_estimate_kg_co2e"].to_numpy(dtype=float)
    label = nodes["gap_estimate_method"].fillna("").astype(str).to_numpy(dtype=object)
    label = np.where(np.isin(label, GAP_METHODS[1:]), label, GAP_PURCHASED)
    eligible = primary & ~brand
    disclosed = eligible & np.isfinite(upstream)
    estimated = eligible & ~disclosed & np.isfinite(estimate)
    method = np.full(len(nodes), "", dtype=object)
    method[disclosed] = GAP_DISCLOSED
    method[estimated] = label[estimated]
    default_dq = np.where(method == GAP_ESTIMATED, DEFAULT_DQ["estimated_upstream"], np.nan)
    default_dq = np.where(method == GAP_DISCLOSED, DEFAULT_DQ["disclosed_upstream"], default_dq)
    default_dq = np.where(method == GAP_PURCHASED, DEFAULT_DQ["spend_based"], default_dq)
    dq = nodes["gap_dq_score"].to_numpy(dtype=float)
    dq = np.where(np.isfinite(dq) & estimated, dq, default_dq)
    default_unc = np.select(
        [method == m for m in GAP_METHODS], [GAP_UNCERTAINTY_PCT[m] for m in GAP_METHODS], np.nan
    )
    unc = nodes["gap_uncertainty_pct"].to_numpy(dtype=float)
    unc = np.where(np.isfinite(unc) & estimated, unc, default_unc)
    warnings = []
    ignored = np.flatnonzero(~eligible & np.isfinite(upstream))
    if ignored.size:
        warnings.append(
            "upstream_kg_co2e is used only for suppliers with own emissions; ignored for "
            + ", ".join(str(ids[k]) for k in ignored[:10])
        )
    defaulted = np.flatnonzero(method == GAP_ESTIMATED)
    if defaulted.size:
        warnings.append(
            f"{defaulted.size} supplier(s) disclose neither upstream emissions nor purchased "
            "spend; their purchases outside the network are estimated from their sector's "
            f"intermediate-input share ({GAP_ESTIMATED}, DQ 5): "
            + ", ".join(str(ids[k]) for k in defaulted[:10])
        )
    unknown = np.flatnonzero(eligible & (method == ""))
    if unknown.size:
        warnings.append(
            f"{unknown.size} supplier(s) report own emissions but nothing about their other "
            "purchases (no upstream_kg_co2e, purchased_spend or sector estimate), so only "
            "their suppliers in the network are counted: "
            + ", ".join(str(ids[k]) for k in unknown[:10])
        )
    return _GapInputs(
        method=method,
        upstream=np.where(disclosed, upstream, np.nan),
        fixed=np.where(estimated, estimate, np.nan),
        dq=dq,
        unc=unc,
        warnings=warnings,
    )


def _assemble(network: FootprintNetwork) -> _Model:
    """Apply the allocation precedence to every edge and collect the emission sources."""
    nodes = network.nodes
    ids = nodes["node_id"].to_numpy()
    brand = network.is_brand
    own = nodes["own_kg_co2e"].to_numpy(dtype=float)
    primary = network.has_primary_data
    warnings = [
        f"brand {ids[b]} has no own emissions; its Scope 1 + 2 is taken as 0"
        for b in np.flatnonzero(brand & np.isnan(own))
    ]
    own_used = np.where(primary, np.nan_to_num(own), 0.0)
    rules = _edge_rules(network, primary)
    warnings += rules.warnings
    gaps = _gap_inputs(network, primary)
    warnings += gaps.warnings

    p_idx = np.flatnonzero(primary)
    own_dq = nodes["dq_score"].to_numpy(dtype=float)
    own_dq = np.where(np.isfinite(own_dq), own_dq, DEFAULT_DQ["primary"])[p_idx]
    own_unc = nodes["uncertainty_pct"].to_numpy(dtype=float)[p_idx]
    own_unc = np.where(np.isfinite(own_unc), own_unc, default_uncertainty_pct(own_dq))
    f = _edge_sources(network, rules)
    n_own, n_edge = p_idx.size, f["target"].size
    return _Model(
        S=rules.S,
        own_used=own_used,
        primary=primary,
        is_brand=brand,
        edge_status=rules.status,
        edge_share=rules.used_share,
        edge_fixed=rules.fixed,
        src_target=np.concatenate([p_idx, f["target"]]),
        src_origin=np.concatenate([p_idx, f["origin"]]),
        src_amount=np.concatenate([own_used[p_idx], f["amount"]]),
        src_dq=np.concatenate([own_dq, f["dq"]]),
        src_primary=np.concatenate([np.ones(n_own), f["primary"]]),
        src_unc=np.concatenate([own_unc, f["unc"]]),
        src_role=np.concatenate(
            [np.full(n_own, OWN, dtype=object), np.full(n_edge, EDGE, dtype=object)]
        ),
        src_kind=np.concatenate([np.full(n_own, "own", dtype=object), f["kind"]]),
        gap_method=gaps.method,
        upstream_disclosed=gaps.upstream,
        gap_fixed=gaps.fixed,
        gap_dq=gaps.dq,
        gap_unc=gaps.unc,
        warnings=warnings,
    )
