"""The scoring engine: one pandas frame of supplier inputs in, scores with explanations out.

Pure and vectorised: no I/O, no database, no randomness, so the same frame and methodology give
identical results (the service stores the methodology hash and an inputs hash to prove it). Every
point is explained by an item row (dimension, item, points earned and possible, a stable reason
code and the numbers it quotes); the web layer translates the codes. The method is documented,
item by item, in ``docs/scoring-method.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .methodology import (
    DATA_SOURCES,
    DIMENSIONS,
    INTENSITY_BASES,
    MATURITY_LEVELS,
    TARGET_STATUSES,
    VERIFICATION_LEVELS,
    Methodology,
)

#: (dimension, item) in display order; item keys are stable and translated by the web layer.
ITEMS: tuple[tuple[str, str], ...] = (
    ("emissions", "intensity_vs_sector"),
    ("emissions", "peer_percentile"),
    ("emissions", "trend"),
    ("emissions", "renewable_share"),
    ("targets", "target_status"),
    ("targets", "target_ambition"),
    ("maturity", "level_disclosure"),
    ("maturity", "level_awareness"),
    ("maturity", "level_management"),
    ("maturity", "level_leadership"),
    ("data_quality", "dq_score"),
    ("data_quality", "completeness"),
    ("data_quality", "verification"),
    ("data_quality", "data_source"),
)
#: Every reason code an item can give (stable; the web layer and exports translate them).
REASONS: dict[str, tuple[str, ...]] = {
    "intensity_vs_sector": (
        "intensity_ratio",
        "intensity_ratio_disclosed_upstream",
        "intensity_ratio_scope12_only",
        "no_sector_reference",
        "intensity_not_reported",
        "not_disclosed",
    ),
    "peer_percentile": (
        "peer_percentile",
        "too_few_peers",
        "peers_need_upstream",
        "intensity_not_reported",
        "not_disclosed",
    ),
    "trend": (
        "intensity_reduced",
        "intensity_not_reduced",
        "no_previous_year",
        "intensity_not_reported",
        "not_disclosed",
    ),
    "renewable_share": ("renewable_share", "not_reported", "not_disclosed"),
    "target_status": (*(f"status_{s}" for s in TARGET_STATUSES), "not_disclosed"),
    "target_ambition": (
        "ambition_vs_benchmark",
        "sbti_validated_aligned",
        "ambition_unknown",
        "no_target",
        "not_disclosed",
    ),
    **{f"level_{lv}": ("level_share", "not_disclosed") for lv in MATURITY_LEVELS},
    "dq_score": ("dq_score", "not_disclosed"),
    "completeness": ("completeness", "not_disclosed"),
    "verification": (*(f"verification_{v}" for v in VERIFICATION_LEVELS), "not_disclosed"),
    "data_source": (*(f"source_{s}" for s in DATA_SOURCES), "source_unknown", "not_disclosed"),
}
DIMENSION_COLUMNS = {d: f"{d}_score" for d in DIMENSIONS}
REQUIRED_COLUMNS = ("relationship_id", "supplier_id", "responded")
NUMERIC_DEFAULTS: dict[str, float] = {
    "spend": 0.0,
    "spend_share": 0.0,
    "emissions_kg": np.nan,
    "revenue": np.nan,
    "intensity": np.nan,
    "scope12_intensity": np.nan,
    "sector_intensity": np.nan,
    "prev_intensity": np.nan,
    "renewable_share": np.nan,
    "target_annual_reduction_pct": np.nan,
    "maturity_disclosure": np.nan,
    "maturity_awareness": np.nan,
    "maturity_management": np.nan,
    "maturity_leadership": np.nan,
    "dq_score": 5.0,
    "completeness": 0.0,
    "cradle_to_gate_kg": np.nan,
    "contribution_kg": np.nan,
}
CATEGORICAL = {
    "target_status": ("none", TARGET_STATUSES),
    "verification": ("none", VERIFICATION_LEVELS),
    "data_source": (None, DATA_SOURCES),
    "intensity_basis": (None, INTENSITY_BASES),
}


@dataclass
class ScoringResult:
    """Scores per supplier (aligned with the input rows) and the long table of item points."""

    suppliers: pd.DataFrame
    items: pd.DataFrame
    method_version: str


@dataclass
class _Item:
    """One item for every supplier: applicability, share of its points earned, reason, params."""

    applicable: np.ndarray
    fraction: np.ndarray
    reason: np.ndarray
    params: np.ndarray


def assign_band(composite: np.ndarray | float, method: Methodology) -> np.ndarray:
    """Band of each composite; a boundary value belongs to the upper band (70.0 is approved)."""
    c = np.asarray(composite, dtype=float)
    return np.where(
        c >= method.bands["approved_min"],
        "approved",
        np.where(c >= method.bands["conditional_min"], "conditional", "rejected"),
    ).astype(object)


def score_suppliers(frame: pd.DataFrame, method: Methodology) -> ScoringResult:
    """Score every row of ``frame`` (columns as in ``scoring.inputs``) under ``method``.

    Divisions by zero and overflow (absurd intensities) are expected on real data; their NaN
    and infinite results are handled explicitly item by item, so numpy's warnings are silenced.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _score(frame, method)


def _score(frame: pd.DataFrame, method: Methodology) -> ScoringResult:
    f = _prepare(frame)
    n = len(f)
    cfg = method.config
    c = _Columns(f, cfg)
    built = {
        ("emissions", "intensity_vs_sector"): _intensity_vs_sector(c, cfg),
        ("emissions", "peer_percentile"): _peer_percentile(c, f, cfg),
        ("emissions", "trend"): _trend(c, cfg),
        ("emissions", "renewable_share"): _renewable_share(c),
        ("targets", "target_status"): _target_status(c, cfg),
        ("targets", "target_ambition"): _target_ambition(c, cfg),
        **_maturity_items(c),
        ("data_quality", "dq_score"): _dq_score(c),
        ("data_quality", "completeness"): _completeness(c),
        ("data_quality", "verification"): _ladder_item(c, cfg, "verification", "verification"),
        ("data_quality", "data_source"): _ladder_item(c, cfg, "data_source", "source"),
    }

    earned = np.zeros((n, len(ITEMS)))
    possible = np.zeros((n, len(ITEMS)))
    dimension_scores: dict[str, np.ndarray] = {}
    for dim in DIMENSIONS:
        cols = [i for i, (d, _) in enumerate(ITEMS) if d == dim]
        base = np.array([float(cfg["items"][dim][ITEMS[i][1]]["points"]) for i in cols])
        applicable = np.column_stack([built[ITEMS[i]].applicable for i in cols])
        total = (applicable * base).sum(axis=1)
        scale = np.divide(100.0, total, out=np.zeros(n), where=total > 0)
        for j, i in enumerate(cols):
            item = built[ITEMS[i]]
            full = np.where(item.applicable, base[j] * scale, 0.0)
            possible[:, i] = np.round(full, 2)
            earned[:, i] = np.round(full * np.clip(item.fraction, 0.0, 1.0), 2)
        dimension_scores[dim] = np.round(earned[:, cols].sum(axis=1), 2)

    composite = np.round(sum(method.weights[d] * dimension_scores[d] for d in DIMENSIONS), 2)
    composite = np.clip(composite, 0.0, 100.0)
    responded = c.responded
    band = assign_band(composite, method)
    if not method.bands["approve_without_disclosure"]:
        band[~responded & (band == "approved")] = "conditional"
    rank = pd.Series(np.where(responded, composite, np.nan)).rank(method="min", ascending=False)

    level, letter = _maturity_level_and_letter(c, cfg)
    risk_level, risk_points, ratio = _risk(c, f, cfg)
    capability = pd.Series(level).map(cfg["capability"]).to_numpy(dtype=object)
    maturity_fraction = dimension_scores["maturity"] / 100.0
    exposure = np.clip(f["spend"].to_numpy(float), 0.0, None) * c.exposure_intensity
    exposure = np.where(np.isfinite(exposure), exposure, f["contribution_kg"].to_numpy(float))

    suppliers = pd.DataFrame(
        {
            "relationship_id": f["relationship_id"].to_numpy(),
            "supplier_id": f["supplier_id"].to_numpy(),
            "responded": responded,
            "composite": composite,
            **{DIMENSION_COLUMNS[d]: dimension_scores[d] for d in DIMENSIONS},
            "band": band,
            "disclosed_group": np.where(responded, "disclosed", "not_disclosed").astype(object),
            "rank": rank.to_numpy(),
            "maturity_level": level,
            "maturity_letter": letter,
            "risk_level": risk_level,
            "risk_points": risk_points,
            "capability_level": capability,
            "grid_cell": (pd.Series(risk_level) + ":" + pd.Series(capability)).to_numpy(object),
            "engagement_potential_kg": exposure * (1.0 - maturity_fraction),
            "intensity": c.intensity,
            "intensity_basis": c.basis,
            "sector_intensity": c.sector,
            "intensity_ratio": ratio,
            "dq_score": c.dq,
            "spend": f["spend"].to_numpy(float),
            "spend_share": f["spend_share"].to_numpy(float),
            "contribution_kg": f["contribution_kg"].to_numpy(float),
            "target_status": f["target_status"].to_numpy(object),
            "top_items": _top_items(earned, possible, method),
        },
        index=frame.index,
    )
    return ScoringResult(
        suppliers=suppliers,
        items=_items_frame(f, built, earned, possible),
        method_version=method.version,
    )


class _Columns:
    """The input columns the items share, as numpy arrays with derived flags."""

    def __init__(self, f: pd.DataFrame, cfg: dict) -> None:
        self.n = len(f)
        self.responded = f["responded"].to_numpy(bool)
        intensity = f["intensity"].to_numpy(float)
        self.disclosed = self.responded & np.isfinite(intensity) & (intensity >= 0)
        self.intensity = np.where(self.disclosed, intensity, np.nan)
        sector = f["sector_intensity"].to_numpy(float)
        self.has_sector = np.isfinite(sector) & (sector > 0)
        self.sector = np.where(self.has_sector, sector, np.nan)
        self._bases(f, cfg["items"]["emissions"]["intensity_vs_sector"])
        # the trend's intensity: Scope 1 + 2 (version 1.0 trended the intensity it compared)
        scope12 = f["scope12_intensity"].to_numpy(float) if self.upstream_aware else intensity
        self.scope12_known = self.responded & np.isfinite(scope12) & (scope12 >= 0)
        self.scope12 = np.where(self.scope12_known, scope12, np.nan)
        self.prev = f["prev_intensity"].to_numpy(float)
        self.renewable = f["renewable_share"].to_numpy(float)
        self.target_status = f["target_status"].to_numpy(object)
        self.target_pct = f["target_annual_reduction_pct"].to_numpy(float)
        self.maturity = {
            level: np.where(
                self.responded,
                np.clip(np.nan_to_num(f[f"maturity_{level}"].to_numpy(float)), 0.0, 1.0),
                0.0,
            )
            for level in MATURITY_LEVELS
        }
        self.dq = np.clip(np.nan_to_num(f["dq_score"].to_numpy(float), nan=5.0), 1.0, 5.0)
        self.completeness = np.clip(np.nan_to_num(f["completeness"].to_numpy(float)), 0.0, 1.0)
        self.verification = f["verification"].to_numpy(object)
        self.data_source = f["data_source"].to_numpy(object)
        self.benchmark = float(cfg["benchmark"]["annual_reduction_pct"])

    def _bases(self, f: pd.DataFrame, spec: dict) -> None:
        """What each intensity counts, and the ratio to the sector the items use.

        From version 1.1 on (``emissions_basis: cradle_to_gate``) an intensity of Scope 1 + 2
        only is a lower bound of the cradle-to-gate intensity the reference stands for: its
        ratio is raised to at least ``scope12_only_min_ratio``. Version 1.0 compares as given.
        """
        basis = f["intensity_basis"].to_numpy(object)
        basis = np.where(pd.isna(basis), "own_only", basis)
        self.basis = np.where(self.disclosed, basis, None).astype(object)
        self.upstream_aware = spec.get("emissions_basis", "scope1_2") == "cradle_to_gate"
        self.scope12_only = self.upstream_aware & self.disclosed & (self.basis == "own_only")
        self.measured_ratio = self.intensity / self.sector
        floor = float(spec["scope12_only_min_ratio"]) if self.upstream_aware else 0.0
        raised = self.scope12_only & self.has_sector
        self.ratio = np.where(raised, np.fmax(self.measured_ratio, floor), self.measured_ratio)
        # kg per unit of spend behind the exposure: the ratio used, on the sector reference
        self.exposure_intensity = np.where(
            self.disclosed, np.where(raised, self.ratio * self.sector, self.intensity), self.sector
        )


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every column present, numbers as floats and categories checked."""
    missing = [col for col in REQUIRED_COLUMNS if col not in frame.columns]
    if missing:
        raise ValueError(f"scoring inputs lack required columns: {', '.join(missing)}")
    f = frame.reset_index(drop=True).copy()
    f["responded"] = f["responded"].fillna(False).astype(bool)
    for col, default in NUMERIC_DEFAULTS.items():
        if col not in f.columns:
            f[col] = default
        f[col] = pd.to_numeric(f[col], errors="coerce").astype(float)
        if not np.isnan(default):
            f[col] = f[col].fillna(default)
    if "scope12_intensity" not in frame.columns:  # a frame of version 1.0: it is the intensity
        f["scope12_intensity"] = f["intensity"]
    # without an intensity, Scope 1 + 2 over revenue stands in for both, as Scope 1 + 2 only
    derived = f["emissions_kg"] / f["revenue"].where(f["revenue"] > 0)
    filled = f["intensity"].isna() & derived.notna()
    f["intensity"] = f["intensity"].fillna(derived)
    f["scope12_intensity"] = f["scope12_intensity"].fillna(derived)
    for col, (default, allowed) in CATEGORICAL.items():
        if col not in f.columns:
            f[col] = default
        values = f[col].astype(object).where(f[col].notna(), default)
        bad = ~values.isin(list(allowed) + ([None] if default is None else []))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"scoring inputs: {col} has unknown value {values.iloc[row]!r} "
                f"(relationship_id {f['relationship_id'].iloc[row]}); "
                f"allowed: {', '.join(allowed)}"
            )
        f[col] = values
    f.loc[filled, "intensity_basis"] = "own_only"
    if "sector_code" not in f.columns:
        f["sector_code"] = None
    return f


def _params(**columns: np.ndarray) -> np.ndarray:
    """One JSON-able dict per supplier from equal-length arrays (NaN becomes None).

    Dict literals per arity: at 1.4 million item rows they are twice as fast as ``dict(zip())``.
    """
    keys = tuple(columns)
    lists = []
    for values in columns.values():
        arr = np.asarray(values)
        if arr.dtype.kind == "f":
            lists.append(np.where(np.isnan(arr), None, arr).tolist())
        else:
            lists.append(arr.tolist())
    if len(keys) == 1:
        (k0,) = keys
        rows = [{k0: a} for a in lists[0]]
    elif len(keys) == 2:
        k0, k1 = keys
        rows = [{k0: a, k1: b} for a, b in zip(*lists, strict=True)]
    elif len(keys) == 3:
        k0, k1, k2 = keys
        rows = [{k0: a, k1: b, k2: c} for a, b, c in zip(*lists, strict=True)]
    elif len(keys) == 5:  # the intensity item from version 1.1 on
        k0, k1, k2, k3, k4 = keys
        rows = [{k0: a, k1: b, k2: c, k3: d, k4: e} for a, b, c, d, e in zip(*lists, strict=True)]
    else:
        rows = [dict(zip(keys, vals, strict=True)) for vals in zip(*lists, strict=True)]
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def _select(conditions: list[np.ndarray], codes: list[str], default: str) -> np.ndarray:
    """``np.select`` over reason codes, through integer indices (object arrays are slow)."""
    choice = np.select(conditions, list(range(len(codes))), default=len(codes))
    return np.array([*codes, default], dtype=object)[choice]


def _ratio_fraction(ratio: np.ndarray, spec: dict) -> np.ndarray:
    """Linear from all points at ``full_ratio`` to none at ``zero_ratio`` of the sector."""
    full, zero = float(spec["full_ratio"]), float(spec["zero_ratio"])
    return np.clip((zero - ratio) / (zero - full), 0.0, 1.0)


def _intensity_vs_sector(c: _Columns, cfg: dict) -> _Item:
    spec = cfg["items"]["emissions"]["intensity_vs_sector"]
    assumed = float(spec["undisclosed_ratio"])
    compared = c.disclosed & c.has_sector
    used_ratio = np.where(compared, c.ratio, np.where(c.disclosed, 1.0, assumed))
    disclosed_upstream = c.upstream_aware & (c.basis == "own_plus_disclosed_upstream")
    reason = _select(
        [~c.responded, ~c.disclosed, ~c.has_sector, c.scope12_only, disclosed_upstream],
        [
            "not_disclosed",
            "intensity_not_reported",
            "no_sector_reference",
            "intensity_ratio_scope12_only",
            "intensity_ratio_disclosed_upstream",
        ],
        "intensity_ratio",
    )
    fraction = _ratio_fraction(used_ratio, spec)
    if not c.upstream_aware:  # version 1.0: params as they were stored then
        params = _params(
            intensity=c.intensity, sector_intensity=c.sector, ratio=np.round(used_ratio, 4)
        )
        return _Item(np.ones(c.n, bool), fraction, reason, params)
    measured = np.where(c.scope12_only & compared, np.round(c.measured_ratio, 4), np.nan)
    params = _params(
        intensity=c.intensity,
        sector_intensity=c.sector,
        ratio=np.round(used_ratio, 4),
        basis=c.basis,
        measured_ratio=measured,
    )
    return _Item(np.ones(c.n, bool), fraction, reason, params)


def _peer_percentile(c: _Columns, f: pd.DataFrame, cfg: dict) -> _Item:
    min_peers = int(cfg["items"]["emissions"]["peer_percentile"]["min_peers"])
    sector_code = f["sector_code"].astype(object)
    # peers compare cradle-to-gate intensities: a Scope 1 + 2-only one is neither compared nor
    # a peer (version 1.1 on)
    eligible = c.disclosed & ~c.scope12_only & sector_code.notna().to_numpy()
    peers = np.zeros(c.n, dtype=np.int64)
    fraction = np.zeros(c.n)
    if eligible.any():
        sub = pd.DataFrame({"sector": sector_code[eligible].to_numpy(), "x": c.intensity[eligible]})
        groups = sub.groupby("sector", sort=False)["x"]
        count = groups.transform("size").to_numpy(np.int64)
        higher = groups.rank(method="average", ascending=False).to_numpy() - 1.0
        peers[eligible] = count
        fraction[eligible] = np.divide(higher, count - 1, out=np.zeros(len(sub)), where=count > 1)
    applicable = eligible & (peers >= min_peers)
    reason = _select(
        [~c.responded, ~c.disclosed, c.scope12_only, ~applicable],
        ["not_disclosed", "intensity_not_reported", "peers_need_upstream", "too_few_peers"],
        "peer_percentile",
    )
    return _Item(
        applicable=applicable,
        fraction=np.where(applicable, fraction, 0.0),
        reason=reason,
        params=_params(
            percentile=np.where(applicable, np.round(fraction * 100.0, 1), np.nan),
            peers=peers,
        ),
    )


def _trend(c: _Columns, cfg: dict) -> _Item:
    """Scope 1 + 2 intensity against the year before: the same boundary both years, whatever
    the basis of the intensity compared with the sector."""
    known = c.scope12_known
    has_prev = np.isfinite(c.prev) & (c.prev > 0)
    reduction = np.where(known & has_prev, (1.0 - c.scope12 / c.prev) * 100.0, np.nan)
    applicable = ~known | has_prev
    fraction = np.clip(np.nan_to_num(reduction) / c.benchmark, 0.0, 1.0)
    reason = _select(
        [~c.responded, ~known, ~has_prev, reduction > 0],
        ["not_disclosed", "intensity_not_reported", "no_previous_year", "intensity_reduced"],
        "intensity_not_reduced",
    )
    return _Item(
        applicable=applicable,
        fraction=np.where(known & has_prev, fraction, 0.0),
        reason=reason,
        params=_params(
            reduction_pct=np.round(reduction, 2),
            intensity=c.scope12,
            previous_intensity=np.where(has_prev, c.prev, np.nan),
        ),
    )


def _renewable_share(c: _Columns) -> _Item:
    known = c.responded & np.isfinite(c.renewable)
    share = np.where(known, np.clip(np.nan_to_num(c.renewable), 0.0, 1.0), 0.0)
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=share,
        reason=_select(
            [~c.responded, ~known], ["not_disclosed", "not_reported"], "renewable_share"
        ),
        params=_params(share_pct=np.where(known, np.round(share * 100.0, 1), np.nan)),
    )


def _target_status(c: _Columns, cfg: dict) -> _Item:
    spec = cfg["items"]["targets"]["target_status"]
    ladder = pd.Series(c.target_status).map(spec["ladder"]).to_numpy(float)
    status_reason = np.char.add("status_", c.target_status.astype(str)).astype(object)
    reason = np.where(~c.responded & (c.target_status == "none"), "not_disclosed", status_reason)
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=ladder / float(spec["points"]),
        reason=reason.astype(object),
        params=_params(status=c.target_status),
    )


def _target_ambition(c: _Columns, cfg: dict) -> _Item:
    has_target = c.target_status != "none"
    known = has_target & np.isfinite(c.target_pct)
    assumed = has_target & ~known & (c.target_status == "sbti_validated")
    fraction = np.where(
        known, np.clip(np.nan_to_num(c.target_pct) / c.benchmark, 0.0, 1.0), assumed * 1.0
    )
    reason = _select(
        [~has_target & ~c.responded, ~has_target, known, assumed],
        ["not_disclosed", "no_target", "ambition_vs_benchmark", "sbti_validated_aligned"],
        "ambition_unknown",
    )
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=fraction,
        reason=reason,
        params=_params(annual_reduction_pct=np.where(known, np.round(c.target_pct, 2), np.nan)),
    )


def _maturity_items(c: _Columns) -> dict[tuple[str, str], _Item]:
    """Points per level for the share of its maturity points; the letter is the cumulative read."""
    items = {}
    for level in MATURITY_LEVELS:
        share = c.maturity[level]
        items[("maturity", f"level_{level}")] = _Item(
            applicable=np.ones(c.n, bool),
            fraction=share,
            reason=_select([~c.responded], ["not_disclosed"], "level_share"),
            params=_params(share_pct=np.where(c.responded, np.round(share * 100.0, 1), np.nan)),
        )
    return items


def _maturity_level_and_letter(c: _Columns, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """Walk the levels in order: the last letter earned names the level (F: no response)."""
    level = np.where(c.responded, "disclosure", "none").astype(object)
    letter = np.where(c.responded, cfg["maturity_letters"]["disclosure"]["letters"][0], "F")
    letter = letter.astype(object)
    walking = c.responded.copy()
    for name in MATURITY_LEVELS:
        spec = cfg["maturity_letters"][name]
        share = c.maturity[name]
        earns = walking & (share >= float(spec["minus"]))
        full = share >= float(spec["full"])
        letter = np.where(earns, np.where(full, spec["letters"][1], spec["letters"][0]), letter)
        level = np.where(earns, name, level)
        walking = earns & full
    return level.astype(object), letter.astype(object)


def _dq_score(c: _Columns) -> _Item:
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=(5.0 - c.dq) / 4.0,
        reason=_select([~c.responded], ["not_disclosed"], "dq_score"),
        params=_params(dq_score=np.round(c.dq, 2)),
    )


def _completeness(c: _Columns) -> _Item:
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=np.where(c.responded, c.completeness, 0.0),
        reason=_select([~c.responded], ["not_disclosed"], "completeness"),
        params=_params(completeness_pct=np.round(c.completeness * 100.0, 1)),
    )


def _ladder_item(c: _Columns, cfg: dict, item: str, prefix: str) -> _Item:
    """An item whose points come from a named choice (verification level, data source).

    Only a response can vouch for either, so a non-responder earns nothing here.
    """
    spec = cfg["items"]["data_quality"][item]
    values = getattr(c, item)
    points = pd.Series(values).map(spec["ladder"]).fillna(0.0).to_numpy(float)
    named = pd.Series(values).map({v: f"{prefix}_{v}" for v in spec["ladder"]})
    named = named.fillna(f"{prefix}_unknown").to_numpy(object)
    reason = np.where(c.responded, named, "not_disclosed").astype(object)
    return _Item(
        applicable=np.ones(c.n, bool),
        fraction=np.where(c.responded, points / float(spec["points"]), 0.0),
        reason=reason,
        params=_params(value=values),
    )


def _risk(c: _Columns, f: pd.DataFrame, cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Risk level from intensity ratio, spend concentration and data gaps (see the doc)."""
    spec = cfg["risk"]
    assumed = float(cfg["items"]["emissions"]["intensity_vs_sector"]["undisclosed_ratio"])
    ratio = np.where(c.disclosed, c.ratio, np.where(c.has_sector, assumed, np.nan))
    ir = spec["intensity_ratio"]
    ratio_points = np.where(
        np.isnan(ratio),
        float(spec["unknown_sector_points"]),
        np.where(ratio >= ir["high"], 2.0, np.where(ratio >= ir["medium"], 1.0, 0.0)),
    )
    spend = np.clip(np.nan_to_num(f["spend"].to_numpy(float)), 0.0, None)
    order = np.lexsort((f["relationship_id"].to_numpy(), -spend))
    total = spend.sum()
    larger = np.empty(c.n)
    larger[order] = np.cumsum(spend[order]) - spend[order]
    larger_share = larger / total if total > 0 else np.ones(c.n)
    sc = spec["spend_concentration"]
    spend_points = np.where(
        spend <= 0,
        0.0,
        np.where(larger_share < sc["high"], 2.0, np.where(larger_share < sc["medium"], 1.0, 0.0)),
    )
    gaps = spec["data_gaps"]
    gap_points = np.where(
        ~c.responded,
        2.0,
        np.where(
            (c.dq >= gaps["dq_medium"]) | (c.completeness < gaps["completeness_medium"]), 1.0, 0.0
        ),
    )
    points = ratio_points + spend_points + gap_points
    levels = spec["levels"]
    level = np.where(
        points >= levels["high"], "high", np.where(points >= levels["medium"], "medium", "low")
    )
    return level.astype(object), points, ratio


def _top_items(earned: np.ndarray, possible: np.ndarray, method: Methodology) -> list:
    """Up to three items that moved the composite most from earning half their points.

    An item's effect is its weighted distance from half its points, in composite points;
    ties keep the ``ITEMS`` order.
    """
    weights = np.array([method.weights[d] for d, _ in ITEMS])
    delta = weights * (earned - possible / 2.0)
    magnitude = np.where((possible > 0) & (delta != 0), np.abs(delta), -1.0)
    top = np.argsort(-magnitude, axis=1, kind="stable")[:, :3]
    rows = np.arange(len(earned))[:, None]
    count = (magnitude[rows, top] >= 0).sum(axis=1).tolist()
    dims = np.array([d for d, _ in ITEMS], dtype=object)[top]
    keys = np.array([i for _, i in ITEMS], dtype=object)[top]
    got = earned[rows, top]
    out_of = possible[rows, top]
    effect = np.where(delta[rows, top] > 0, "raised", "lowered").astype(object)
    slots = [
        [
            {"dimension": d, "item": k, "earned": e, "possible": p, "effect": x}
            for d, k, e, p, x in zip(
                dims[:, j].tolist(),
                keys[:, j].tolist(),
                got[:, j].tolist(),
                out_of[:, j].tolist(),
                effect[:, j].tolist(),
                strict=True,
            )
        ]
        for j in range(top.shape[1])
    ]
    return [[a, b, c][:m] for a, b, c, m in zip(*slots, count, strict=True)]


def _items_frame(
    f: pd.DataFrame, built: dict, earned: np.ndarray, possible: np.ndarray
) -> pd.DataFrame:
    """Long form, supplier by supplier in input order, items in ``ITEMS`` order."""
    n, k = earned.shape
    rel = np.repeat(f["relationship_id"].to_numpy(), k)
    reasons = np.column_stack([built[key].reason for key in ITEMS]).ravel()
    params = np.column_stack([built[key].params for key in ITEMS]).ravel()
    return pd.DataFrame(
        {
            "relationship_id": rel,
            "dimension": np.tile(np.array([d for d, _ in ITEMS], dtype=object), n),
            "item": np.tile(np.array([i for _, i in ITEMS], dtype=object), n),
            "earned": earned.ravel(),
            "possible": possible.ravel(),
            "reason": reasons,
            "params": params,
        }
    )


def _example_bases(
    rng: np.random.Generator, responded: np.ndarray, cradle: np.ndarray, prev: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Basis, compared intensity, Scope 1 + 2 intensity and its previous year, from
    cradle-to-gate intensities (``prev`` is the cradle-to-gate one of the year before)."""
    n = len(responded)
    own_share = rng.uniform(0.1, 0.6, n)  # Scope 1 + 2 share of the cradle-to-gate total
    bases = np.array(INTENSITY_BASES, object)
    basis = np.where(responded, rng.choice(bases, n, p=[0.7, 0.15, 0.15]), None).astype(object)
    scope12 = cradle * own_share
    compared = np.where(basis == "own_only", scope12, cradle)
    return basis, compared, scope12, prev * own_share


def example_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A realistic random input frame of ``n`` suppliers (tests and the benchmark).

    About 60 % responded; cradle-to-gate intensities spread log-normally around 30 sector
    references, with Scope 1 + 2 a tenth to six tenths of them; a responder's intensity is
    cradle-to-gate (70 %), Scope 1 + 2 plus disclosed upstream (15 %) or Scope 1 + 2 only
    (15 %); maturity falls off level by level; non-responders carry only secondary data.
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    sectors = np.array([f"{311000 + 37 * i}" for i in range(30)], dtype=object)
    sector_ref = dict(zip(sectors, rng.lognormal(np.log(0.4), 0.7, len(sectors)), strict=True))
    sector_code = sectors[rng.integers(0, len(sectors), n)]
    sector_intensity = pd.Series(sector_code).map(sector_ref).to_numpy(float, copy=True)
    sector_intensity[rng.random(n) < 0.03] = np.nan
    responded = rng.random(n) < 0.6
    spend = np.round(rng.lognormal(11.0, 1.5, n), 2)
    revenue = np.round(spend * rng.uniform(5.0, 200.0, n), 2)
    base = np.where(np.isnan(sector_intensity), 0.4, sector_intensity)
    intensity = np.where(responded, base * rng.lognormal(0.0, 0.45, n), np.nan)
    has_prev = responded & (rng.random(n) < 0.7)
    prev = np.where(has_prev, intensity * rng.lognormal(0.03, 0.06, n), np.nan)
    statuses = np.array(TARGET_STATUSES, dtype=object)
    target_status = np.where(
        responded,
        rng.choice(statuses, n, p=[0.4, 0.3, 0.15, 0.15]),
        rng.choice(statuses, n, p=[0.95, 0.0, 0.03, 0.02]),
    )
    target_pct = np.where(
        (target_status != "none") & (rng.random(n) < 0.8), np.round(rng.gamma(4, 1.0, n), 2), np.nan
    )
    ability = rng.beta(3.0, 2.0, n)
    maturity = {
        level: np.where(
            responded, np.clip(ability - 0.08 * i + rng.normal(0, 0.12, n), 0.0, 1.0), np.nan
        )
        for i, level in enumerate(MATURITY_LEVELS)
    }
    sources = np.array(DATA_SOURCES[:-1], dtype=object)
    basis, compared, scope12, prev = _example_bases(rng, responded, intensity, prev)
    exposure = spend * np.where(responded, compared, sector_intensity)
    return pd.DataFrame(
        {
            "relationship_id": ids,
            "supplier_id": ids + 1000,
            "supplier_code": [f"S{i:06d}" for i in ids],
            "supplier_name": [f"Supplier {i}" for i in ids],
            "tier": rng.choice([1, 2, 3], n, p=[0.8, 0.15, 0.05]),
            "category": rng.choice(
                np.array(["textiles", "packaging", "electronics", "logistics", None], object), n
            ),
            "country": rng.choice(np.array(["CN", "VN", "IN", "DE", "US", "BD"], object), n),
            "sector_code": sector_code,
            "responded": responded,
            "spend": spend,
            "spend_share": spend / spend.sum() if n else spend,
            "emissions_kg": scope12 * revenue,
            "revenue": np.where(responded, revenue, np.nan),
            "intensity": compared,
            "intensity_basis": basis,
            "scope12_intensity": scope12,
            "sector_intensity": sector_intensity,
            "prev_intensity": prev,
            "renewable_share": np.where(responded, np.round(rng.beta(1.5, 3.0, n), 3), np.nan),
            "target_status": target_status,
            "target_annual_reduction_pct": target_pct,
            **{f"maturity_{level}": values for level, values in maturity.items()},
            "dq_score": np.where(responded, np.round(1.0 + 3.0 * rng.beta(2, 2, n), 2), 5.0),
            "completeness": np.where(responded, np.round(rng.uniform(0.7, 1.0, n), 3), 0.0),
            "verification": np.where(
                responded, rng.choice(np.array(VERIFICATION_LEVELS), n, p=[0.6, 0.3, 0.1]), "none"
            ).astype(object),
            "data_source": np.where(
                responded, rng.choice(sources, n), "statistical_average"
            ).astype(object),
            "cradle_to_gate_kg": np.where(responded, intensity * revenue, exposure),
            "contribution_kg": exposure,
        }
    )
