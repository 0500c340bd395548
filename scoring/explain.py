"""Plain-English sentences for scoring items, reasons and actions, outside any web framework.

The engine explains every point with stable codes (item key, reason code, the numbers it quotes
in ``params``). Exports and the JSON API need those explanations as readable English without
Flask, so the texts live here, next to the engine; the console translates the same codes with
Flask-Babel (``web/scoring_labels.py``) and can reuse these English texts as its msgids.

Numbers are printed the way people read them: percentages with at most one decimal, never in
e-notation; a missing number falls back to a sentence that does not quote it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: The 1.5 °C-aligned pace the shipped methodology compares targets and trends with.
DEFAULT_BENCHMARK_PCT = 4.2

DIMENSION_LABELS: dict[str, str] = {
    "emissions": "Emissions performance",
    "targets": "Targets",
    "maturity": "Management maturity",
    "data_quality": "Data quality",
}

ITEM_LABELS: dict[str, str] = {
    "intensity_vs_sector": "Emissions intensity against the sector reference",
    "peer_percentile": "Intensity among the brand's suppliers in the same sector",
    "trend": "Intensity trend against the previous year",
    "renewable_share": "Renewable electricity share",
    "target_status": "Reduction target",
    "target_ambition": "Target ambition against a 1.5 °C-aligned pace",
    "level_disclosure": "Maturity: Disclosure",
    "level_awareness": "Maturity: Awareness",
    "level_management": "Maturity: Management",
    "level_leadership": "Maturity: Leadership",
    "dq_score": "Emission-weighted data quality",
    "completeness": "Completeness of required answers",
    "verification": "Third-party verification",
    "data_source": "Data source",
    # not an engine item: the one action of a supplier that has not responded (scoring.actions)
    "questionnaire_response": "Response to the brand's climate questionnaire",
}

LEVEL_NAMES = {
    "level_disclosure": "Disclosure",
    "level_awareness": "Awareness",
    "level_management": "Management",
    "level_leadership": "Leadership",
}

DATA_SOURCE_NAMES = {
    "production_monthly": "monthly production records",
    "production_daily": "daily production records",
    "finance": "financial records",
    "logistics": "logistics records",
    "derived": "derived estimates",
    "other": "other sources",
    "statistical_average": "statistical-bureau averages",
}

ACTION_TEXTS: dict[str, str] = {
    "reduce_emission_intensity": "Reduce emissions per unit of revenue, at least at the 1.5 °C "
    "pace",
    "report_emissions_and_revenue": "Report Scope 1 and 2 emissions and revenue so that "
    "intensity can be assessed",
    "increase_renewable_electricity": "Raise the share of renewable electricity",
    "report_renewable_share": "Report the share of renewable electricity",
    "report_upstream_emissions": "Report upstream emissions (purchased goods and services) or "
    "purchased spend so that intensity can be compared on a cradle-to-gate basis",
    "set_reduction_target": "Set an emissions reduction target",
    "commit_to_sbti": "Commit to a science-based target with SBTi",
    "get_sbti_validation": "Have the science-based target validated by SBTi",
    "raise_target_ambition": "Raise the target's annual reduction to the 1.5 °C-aligned pace",
    "report_target_details": "Report the target's base year, target year and reduction",
    "improve_disclosure_practices": "Strengthen Disclosure-level practices: measure emissions",
    "improve_awareness_practices": "Strengthen Awareness-level practices: governance of climate "
    "issues",
    "improve_management_practices": "Strengthen Management-level practices: targets and "
    "verification",
    "improve_leadership_practices": "Strengthen Leadership-level practices: reductions, engaging "
    "own suppliers, public disclosure",
    "provide_primary_data": "Replace estimates with measured, primary emissions data",
    "complete_required_answers": "Answer every required question",
    "obtain_third_party_verification": "Have the emissions inventory verified by a third party",
    "obtain_reasonable_assurance": "Move third-party verification from limited to reasonable "
    "assurance",
    "use_metered_production_records": "Base emissions on monthly production records",
    "respond_to_questionnaire": "Respond to the brand's climate questionnaire",
}


def number(value: Any, decimals: int = 1) -> str:
    """A number without e-notation, thousands separated, trailing zeros dropped."""
    text = f"{float(value):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _known(params: Mapping[str, Any], *names: str) -> bool:
    for name in names:
        value = params.get(name)
        if value is None or isinstance(value, bool):
            return False
        try:
            if not math.isfinite(float(value)):
                return False
        except (TypeError, ValueError):
            return False
    return True


#: What an intensity counted, by ``params["basis"]`` (methodology 1.1 on; 1.0 stored none).
BASIS_NAMES = {
    "cradle_to_gate": "cradle-to-gate intensity",
    "own_plus_disclosed_upstream": "Scope 1 + 2 and disclosed upstream intensity",
    "own_only": "Scope 1 + 2 intensity",
}


def _position(ratio: float, what: str) -> str:
    if math.isclose(ratio, 1.0, abs_tol=0.005):
        return f"{what} at the sector reference"
    side = "below" if ratio < 1 else "above"
    return f"{what} {number(abs(1.0 - ratio) * 100.0, 0)} % {side} the sector reference"


def _intensity_ratio(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "ratio"):
        return None
    return _position(float(p["ratio"]), BASIS_NAMES.get(str(p.get("basis")), "intensity"))


def _scope12_only(p: Mapping[str, Any], _bench: float) -> str | None:
    """A Scope 1 + 2-only intensity: what it measured, and that it counts no lower than 1."""
    if not _known(p, "measured_ratio"):
        return "Scope 1 + 2 only, upstream unknown: counted as at least the sector reference"
    measured = float(p["measured_ratio"])
    text = _position(measured, "Scope 1 + 2 intensity")
    if _known(p, "ratio") and float(p["ratio"]) > measured:
        return f"{text}, but upstream unknown: counted as at the sector reference"
    return f"{text} (upstream unknown)"


def _peer_percentile(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "percentile", "peers"):
        return None
    return (
        f"intensity lower than {number(p['percentile'], 0)} % of the "
        f"{number(p['peers'], 0)} suppliers in the same sector"
    )


def _too_few_peers(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "peers"):
        return None
    return (
        f"too few of the brand's suppliers in the same sector to compare ({number(p['peers'], 0)})"
    )


def _trend(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "reduction_pct"):
        return None
    change = round(float(p["reduction_pct"]), 1)
    if change > 0:
        return f"intensity down {number(change)} % on the previous year"
    if change < 0:
        return f"intensity up {number(-change)} % on the previous year"
    return "intensity unchanged on the previous year"


def _share(template: str) -> Callable[[Mapping[str, Any], float], str | None]:
    """A sentence quoting ``params["share_pct"]`` at ``{pct}`` in ``template``."""

    def text(p: Mapping[str, Any], _bench: float) -> str | None:
        return template.format(pct=number(p["share_pct"])) if _known(p, "share_pct") else None

    return text


def _ambition(p: Mapping[str, Any], bench: float) -> str | None:
    if not _known(p, "annual_reduction_pct"):
        return None
    return (
        f"target cuts {number(p['annual_reduction_pct'])} % a year "
        f"(1.5 °C-aligned pace: {number(bench)} % a year)"
    )


def _dq(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "dq_score"):
        return None
    return f"data quality {number(p['dq_score'])} (1 verified primary, 5 spend-based)"


def _completeness(p: Mapping[str, Any], _bench: float) -> str | None:
    if not _known(p, "completeness_pct"):
        return None
    return f"{number(p['completeness_pct'])} % of required answers given"


def _fixed(text: str) -> Callable[[Mapping[str, Any], float], str]:
    return lambda _p, _bench: text


NOT_DISCLOSED = "no accepted disclosure for the year (secondary data only)"

# (item, reason) → sentence; reasons shared by several items are keyed by (None, reason).
_TEXTS: dict[tuple[str | None, str], Callable[[Mapping[str, Any], float], str | None]] = {
    (None, "not_disclosed"): _fixed(NOT_DISCLOSED),
    (None, "intensity_not_reported"): _fixed("emissions intensity not reported"),
    ("intensity_vs_sector", "intensity_ratio"): _intensity_ratio,
    ("intensity_vs_sector", "intensity_ratio_disclosed_upstream"): _intensity_ratio,
    ("intensity_vs_sector", "intensity_ratio_scope12_only"): _scope12_only,
    ("peer_percentile", "peers_need_upstream"): _fixed(
        "not compared with peers: only Scope 1 + 2 known, upstream unknown"
    ),
    ("intensity_vs_sector", "no_sector_reference"): _fixed(
        "no sector reference intensity to compare with"
    ),
    ("peer_percentile", "peer_percentile"): _peer_percentile,
    ("peer_percentile", "too_few_peers"): _too_few_peers,
    ("trend", "no_previous_year"): _fixed("no intensity for the previous year to compare with"),
    ("trend", "intensity_reduced"): _trend,
    ("trend", "intensity_not_reduced"): _trend,
    ("renewable_share", "renewable_share"): _share("renewable electricity {pct} %"),
    ("renewable_share", "not_reported"): _fixed("renewable electricity share not reported"),
    ("target_status", "status_none"): _fixed("no emissions reduction target"),
    ("target_status", "status_own"): _fixed("own reduction target, not science-based"),
    ("target_status", "status_sbti_committed"): _fixed(
        "committed to a science-based target (SBTi)"
    ),
    ("target_status", "status_sbti_validated"): _fixed("science-based target validated by SBTi"),
    ("target_ambition", "no_target"): _fixed("no target, so no ambition to assess"),
    ("target_ambition", "ambition_vs_benchmark"): _ambition,
    ("target_ambition", "sbti_validated_aligned"): _fixed(
        "SBTi-validated target, taken as 1.5 °C-aligned"
    ),
    ("target_ambition", "ambition_unknown"): _fixed("target's annual reduction not stated"),
    ("dq_score", "dq_score"): _dq,
    ("completeness", "completeness"): _completeness,
    ("verification", "verification_none"): _fixed("no third-party verification"),
    ("verification", "verification_limited"): _fixed("limited-assurance third-party verification"),
    ("verification", "verification_reasonable"): _fixed(
        "reasonable-assurance third-party verification"
    ),
    ("verification", "verification_unknown"): _fixed("verification not stated"),
    ("data_source", "source_unknown"): _fixed("data source not stated"),
}
for _key, _name in LEVEL_NAMES.items():
    _TEXTS[(_key, "level_share")] = _share(
        f"{{pct}} % of {_name}-level maturity practices in place"
    )
for _source, _name in DATA_SOURCE_NAMES.items():
    _TEXTS[("data_source", f"source_{_source}")] = _fixed(f"data from {_name}")


def has_text(item: str, reason: str) -> bool:
    """Whether (item, reason) has its own sentence (not only the item's name)."""
    return (item, reason) in _TEXTS or (None, reason) in _TEXTS


def item_text(
    item: str,
    reason: str,
    params: Mapping[str, Any] | None = None,
    *,
    benchmark_pct: float = DEFAULT_BENCHMARK_PCT,
) -> str:
    """Why a supplier earned what it did on one item, as a short English phrase."""
    make = _TEXTS.get((item, reason)) or _TEXTS.get((None, reason))
    text = make(params or {}, benchmark_pct) if make is not None else None
    if text is None:
        text = ITEM_LABELS.get(item, item.replace("_", " ")).lower()
    return text


def action_text(action_code: str) -> str:
    """What a supplier should do, as an English sentence."""
    return ACTION_TEXTS.get(action_code, action_code.replace("_", " ").capitalize())


def explanation(
    top_items: Iterable[Mapping[str, Any]],
    reasons: Mapping[str, tuple[str, Mapping[str, Any] | None]],
    *,
    benchmark_pct: float = DEFAULT_BENCHMARK_PCT,
) -> str:
    """The items that moved a score most, e.g. "raised: intensity 35 % below the sector
    reference; lowered: no third-party verification".

    ``reasons`` maps an item key to its (reason, params) in the same score. A phrase that
    several items share (a supplier without a response) is said once.
    """
    parts: list[str] = []
    for top in top_items:
        reason, params = reasons.get(top["item"], ("", None))
        text = item_text(top["item"], reason, params, benchmark_pct=benchmark_pct)
        part = f"{top['effect']}: {text}"
        if part not in parts:
            parts.append(part)
    return "; ".join(parts)
