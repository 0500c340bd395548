"""Corrective actions: every item a supplier lost points on becomes one thing to do.

An action names what to do (a stable ``action_code`` the web layer translates), why (the item
and its reason's numbers in ``params``) and what it is worth: the composite points at stake,
i.e. the item's lost points weighted by its dimension's weight. The service keeps one open
action per supplier and item across runs and closes it when the item earns full points.

A supplier that has not answered the questionnaire loses (almost) every item for the same
reason, and the one thing it can do about all of them is answer. Those items become a single
action on the pseudo-item ``questionnaire_response`` worth their points together, rather than a
dozen identical rows; the service closes it once the supplier has responded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import ScoringResult
from .methodology import Methodology

#: Action for an item when its reason has no more specific one below.
ITEM_ACTIONS: dict[str, str] = {
    "intensity_vs_sector": "reduce_emission_intensity",
    "peer_percentile": "reduce_emission_intensity",
    "trend": "reduce_emission_intensity",
    "renewable_share": "increase_renewable_electricity",
    "target_status": "set_reduction_target",
    "target_ambition": "raise_target_ambition",
    "level_disclosure": "improve_disclosure_practices",
    "level_awareness": "improve_awareness_practices",
    "level_management": "improve_management_practices",
    "level_leadership": "improve_leadership_practices",
    "dq_score": "provide_primary_data",
    "completeness": "complete_required_answers",
    "verification": "obtain_third_party_verification",
    "data_source": "use_metered_production_records",
}
#: (item, reason) pairs that call for a different action than the item's default.
REASON_ACTIONS: dict[tuple[str, str], str] = {
    ("intensity_vs_sector", "intensity_not_reported"): "report_emissions_and_revenue",
    ("intensity_vs_sector", "no_sector_reference"): "report_emissions_and_revenue",
    ("intensity_vs_sector", "intensity_ratio_scope12_only"): "report_upstream_emissions",
    ("peer_percentile", "intensity_not_reported"): "report_emissions_and_revenue",
    ("trend", "intensity_not_reported"): "report_emissions_and_revenue",
    ("renewable_share", "not_reported"): "report_renewable_share",
    ("target_status", "status_own"): "commit_to_sbti",
    ("target_status", "status_sbti_committed"): "get_sbti_validation",
    ("target_ambition", "no_target"): "set_reduction_target",
    ("target_ambition", "ambition_unknown"): "report_target_details",
    ("verification", "verification_limited"): "obtain_reasonable_assurance",
}
#: A supplier that has not answered can do one thing for every item: answer.
NOT_DISCLOSED_ACTION = "respond_to_questionnaire"
#: The item key of that one action (not an engine item: it stands for every not-disclosed item).
NOT_DISCLOSED_ITEM = "questionnaire_response"
#: Its dimension: answering replaces secondary estimates with the supplier's own data.
NOT_DISCLOSED_DIMENSION = "data_quality"
ACTION_CODES = (
    frozenset(ITEM_ACTIONS.values()) | frozenset(REASON_ACTIONS.values()) | {NOT_DISCLOSED_ACTION}
)


def corrective_actions(result: ScoringResult, method: Methodology) -> pd.DataFrame:
    """One row per supplier and item that earned less than its possible points, except that a
    supplier's not-disclosed items are one ``questionnaire_response`` row (``params``:
    ``{"items": n}``) worth their points at stake together.

    Columns: relationship_id, dimension, item, points_at_stake (composite points),
    action_code, params. Sorted by supplier (input order) then points at stake, largest first.
    """
    items = result.items
    lost = items["possible"].to_numpy(float) - items["earned"].to_numpy(float)
    rows = items.loc[lost > 0.0]
    weights = rows["dimension"].map(method.weights).to_numpy(float)
    stake = weights * (rows["possible"] - rows["earned"]).to_numpy(float)
    item_keys = rows["item"].to_numpy(object)
    codes = _action_codes(item_keys, rows["reason"].to_numpy(object))
    actions = pd.DataFrame(
        {
            "relationship_id": rows["relationship_id"].to_numpy(),
            "dimension": rows["dimension"].to_numpy(object),
            "item": item_keys,
            "points_at_stake": stake,
            "action_code": codes,
            "params": [dict(p) for p in rows["params"]],  # not shared with the items
            "_order": np.arange(len(rows)),
            "_supplier": pd.factorize(rows["relationship_id"])[0],  # input order
        }
    )
    actions = _one_response_action(actions)
    # rounded once, after the not-disclosed points were added up unrounded
    actions["points_at_stake"] = np.round(actions["points_at_stake"].to_numpy(float), 2)
    actions = actions.sort_values(
        ["_supplier", "points_at_stake", "_order"], ascending=[True, False, True], kind="stable"
    )
    return actions.drop(columns=["_supplier", "_order"]).reset_index(drop=True)


def _one_response_action(actions: pd.DataFrame) -> pd.DataFrame:
    """Each supplier's ``respond_to_questionnaire`` rows folded into one, in the place of its
    first; the supplier's other actions (e.g. a public target status) stay as they are."""
    silent = actions["action_code"].to_numpy(object) == NOT_DISCLOSED_ACTION
    if not silent.any():
        return actions
    grouped = actions.loc[silent].groupby("relationship_id", sort=False)
    merged = grouped.agg(
        points_at_stake=("points_at_stake", "sum"),
        count=("item", "size"),
        _order=("_order", "min"),
        _supplier=("_supplier", "first"),
    ).reset_index()
    response = pd.DataFrame(
        {
            "relationship_id": merged["relationship_id"].to_numpy(),
            "dimension": NOT_DISCLOSED_DIMENSION,
            "item": NOT_DISCLOSED_ITEM,
            "points_at_stake": merged["points_at_stake"].to_numpy(float),
            "action_code": NOT_DISCLOSED_ACTION,
            "params": [{"items": int(n)} for n in merged["count"]],
            "_order": merged["_order"].to_numpy(),
            "_supplier": merged["_supplier"].to_numpy(),
        }
    )
    return pd.concat([actions.loc[~silent], response], ignore_index=True)


def action_code(item: str, reason: str) -> str:
    """The action for an item that lost points for ``reason``."""
    if reason == "not_disclosed":
        return NOT_DISCLOSED_ACTION
    return REASON_ACTIONS.get((item, reason), ITEM_ACTIONS[item])


def _action_codes(items: np.ndarray, reasons: np.ndarray) -> np.ndarray:
    """``action_code`` for every row, looked up once per distinct (item, reason) pair."""
    item_index, item_keys = pd.factorize(items)
    reason_index, reason_keys = pd.factorize(reasons)
    table = np.array(
        [[action_code(item, reason) for reason in reason_keys] for item in item_keys],
        dtype=object,
    ).reshape(len(item_keys), len(reason_keys))
    return table[item_index, reason_index]
