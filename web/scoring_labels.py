"""Words for supplier scores: every stable key the scoring engine emits, translated (en, zh).

The engine (``scoring.engine``, ``scoring.actions``) explains each point with stable codes and
the numbers behind them; people never see those codes. This module is the one place that turns
them into sentences with the numbers formatted for the reader's locale: the console, the
insight pages, the supplier portal (in the supplier's language) and the exports all use it.
Intensities are shown per 1,000 units of the run's currency, shares as %, scores without
decimals; nothing is ever shown in e-notation or as a raw code.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

from flask_babel import force_locale, format_decimal, lazy_gettext, ngettext
from flask_babel import gettext as _

from scoring.methodology import load_methodology
from web.footprint import format_tonnes
from web.labels import format_magnitude, format_money

DIMENSION_LABELS = {
    "emissions": lazy_gettext("Emissions performance"),
    "targets": lazy_gettext("Targets"),
    "maturity": lazy_gettext("Management maturity"),
    "data_quality": lazy_gettext("Data quality"),
}
ITEM_LABELS = {
    "intensity_vs_sector": lazy_gettext("Intensity against the sector reference"),
    "peer_percentile": lazy_gettext("Intensity among suppliers of the same sector"),
    "trend": lazy_gettext("Intensity trend against the previous year"),
    "renewable_share": lazy_gettext("Renewable electricity share"),
    "target_status": lazy_gettext("Reduction target"),
    "target_ambition": lazy_gettext("Target ambition"),
    "level_disclosure": lazy_gettext("Maturity level: Disclosure"),
    "level_awareness": lazy_gettext("Maturity level: Awareness"),
    "level_management": lazy_gettext("Maturity level: Management"),
    "level_leadership": lazy_gettext("Maturity level: Leadership"),
    "dq_score": lazy_gettext("Data quality of the emissions"),
    "completeness": lazy_gettext("Completeness of the required answers"),
    "verification": lazy_gettext("Third-party verification"),
    "data_source": lazy_gettext("Data source"),
    # not an engine item: the one action of a supplier that has not responded (scoring.actions)
    "questionnaire_response": lazy_gettext("Response to the climate questionnaire"),
}
BAND_LABELS = {
    "approved": lazy_gettext("Approved"),
    "conditional": lazy_gettext("Conditional"),
    "rejected": lazy_gettext("Rejected"),
}
GROUP_LABELS = {
    "disclosed": lazy_gettext("Disclosed"),
    "not_disclosed": lazy_gettext("Not disclosed"),
}
MATURITY_LEVEL_LABELS = {
    "none": lazy_gettext("No response"),
    "disclosure": lazy_gettext("Disclosure"),
    "awareness": lazy_gettext("Awareness"),
    "management": lazy_gettext("Management"),
    "leadership": lazy_gettext("Leadership"),
}
RISK_LABELS = {
    "low": lazy_gettext("Low risk"),
    "medium": lazy_gettext("Medium risk"),
    "high": lazy_gettext("High risk"),
}
CAPABILITY_LABELS = {
    "low": lazy_gettext("Low capability"),
    "medium": lazy_gettext("Medium capability"),
    "high": lazy_gettext("High capability"),
}
TARGET_STATUS_LABELS = {
    "none": lazy_gettext("No target"),
    "own": lazy_gettext("Own target"),
    "sbti_committed": lazy_gettext("SBTi committed"),
    "sbti_validated": lazy_gettext("SBTi validated"),
}
ACTION_STATUS_LABELS = {
    "open": lazy_gettext("Open"),
    "in_progress": lazy_gettext("Under way"),
    "done": lazy_gettext("Done"),
    "dismissed": lazy_gettext("Dismissed"),
}
EFFECT_LABELS = {
    "raised": lazy_gettext("raised the score"),
    "lowered": lazy_gettext("lowered the score"),
}

# Reasons that quote no numbers.
FIXED_REASONS = {
    "not_disclosed": lazy_gettext("No response: scored on secondary data only."),
    "intensity_not_reported": lazy_gettext(
        "Emissions or revenue were not reported, so no intensity could be calculated; "
        "counted as a sector-average supplier."
    ),
    "peers_need_upstream": lazy_gettext(
        "Not compared with other suppliers of its sector: only its Scope 1 and 2 are known, and "
        "peers are compared on cradle-to-gate intensity; this item does not count."
    ),
    "no_previous_year": lazy_gettext(
        "No intensity for the previous year to compare with; this item does not count."
    ),
    "not_reported": lazy_gettext("Not reported."),
    "status_none": lazy_gettext("No emissions reduction target."),
    "status_own": lazy_gettext("Has its own reduction target, not a science-based one."),
    "status_sbti_committed": lazy_gettext(
        "Committed to setting a science-based target (SBTi); not yet validated."
    ),
    "status_sbti_validated": lazy_gettext("Science-based target validated by the SBTi."),
    "no_target": lazy_gettext("No target, so there is no ambition to assess."),
    "sbti_validated_aligned": lazy_gettext(
        "SBTi-validated target, taken as 1.5 °C-aligned (its yearly rate was not given)."
    ),
    "ambition_unknown": lazy_gettext(
        "The target's yearly rate cannot be worked out (base year, target year or reduction "
        "missing)."
    ),
    "verification_none": lazy_gettext("Emissions are not verified by a third party."),
    "verification_limited": lazy_gettext(
        "Emissions verified by a third party (limited assurance)."
    ),
    "verification_reasonable": lazy_gettext(
        "Emissions verified by a third party (reasonable assurance)."
    ),
    "source_production_monthly": lazy_gettext("Based on monthly production records."),
    "source_production_daily": lazy_gettext("Based on daily production records."),
    "source_finance": lazy_gettext("Based on finance records and invoices."),
    "source_logistics": lazy_gettext("Based on logistics records."),
    "source_derived": lazy_gettext("Derived from other figures."),
    "source_other": lazy_gettext("Based on estimates or other sources."),
    "source_statistical_average": lazy_gettext("Statistical-bureau averages only."),
    "source_unknown": lazy_gettext("The data source was not stated."),
    "verification_unknown": lazy_gettext("Verification was not stated."),
}

# What the supplier should do to win back the points of an item (``scoring.actions`` codes).
# The params are those of the item's reason; sentences quote only numbers that are known.
FIXED_ACTIONS = {
    "respond_to_questionnaire": lazy_gettext(
        "Answer the climate questionnaire so the score rests on your own data."
    ),
    "report_emissions_and_revenue": lazy_gettext(
        "Report your Scope 1 and 2 emissions and your revenue so your emissions intensity can "
        "be calculated."
    ),
    "report_renewable_share": lazy_gettext(
        "Report the share of your electricity that comes from renewable sources."
    ),
    "report_upstream_emissions": lazy_gettext(
        "Report your upstream emissions from purchased goods and services (Scope 3 "
        "Category 1) or your purchased spend, so your intensity can be compared with the "
        "sector reference on a cradle-to-gate basis."
    ),
    "set_reduction_target": lazy_gettext("Set an emissions reduction target."),
    "commit_to_sbti": lazy_gettext("Commit to setting a science-based target with the SBTi."),
    "get_sbti_validation": lazy_gettext("Have your science-based target validated by the SBTi."),
    "report_target_details": lazy_gettext(
        "State your target's base year, target year and reduction so its ambition can be assessed."
    ),
    "improve_disclosure_practices": lazy_gettext(
        "Measure your emissions from your own records (fuel, electricity, production) rather "
        "than estimates."
    ),
    "improve_awareness_practices": lazy_gettext(
        "Give climate matters board oversight and a responsible manager."
    ),
    "improve_management_practices": lazy_gettext(
        "Set reduction targets and have your emissions verified by a third party."
    ),
    "improve_leadership_practices": lazy_gettext(
        "Run reduction projects, engage your own suppliers and disclose your emissions publicly."
    ),
    "provide_primary_data": lazy_gettext(
        "Report measured, primary emissions data instead of estimates, and have it verified."
    ),
    "complete_required_answers": lazy_gettext("Answer every required question."),
    "obtain_third_party_verification": lazy_gettext(
        "Have your emissions verified by an independent third party."
    ),
    "obtain_reasonable_assurance": lazy_gettext(
        "Move your third-party verification from limited to reasonable assurance."
    ),
    "use_metered_production_records": lazy_gettext(
        "Base your emissions on monthly production records and meter readings."
    ),
}


def _str(labels: Mapping[str, Any], key: str | None, fallback: str) -> str:
    label = labels.get(key or "")
    return str(label) if label is not None else fallback


def dimension_label(key: str) -> str:
    """A scoring dimension's name."""
    return _str(DIMENSION_LABELS, key, _("Other"))


def item_label(key: str) -> str:
    """A rubric item's name."""
    return _str(ITEM_LABELS, key, _("Other item"))


def band_label(band: str | None) -> str:
    return _str(BAND_LABELS, band, "–")


def group_label(group: str | None) -> str:
    return _str(GROUP_LABELS, group, "–")


def level_label(level: str | None) -> str:
    """A management maturity level (none, disclosure, awareness, management, leadership)."""
    return _str(MATURITY_LEVEL_LABELS, level, "–")


def maturity_label(level: str | None, letter: str | None) -> str:
    """Level and letter together, e.g. "Management (B-)"; F is "No response (F)"."""
    return f"{level_label(level)} ({letter})" if letter else level_label(level)


def risk_label(level: str | None) -> str:
    return _str(RISK_LABELS, level, "–")


def capability_label(level: str | None) -> str:
    return _str(CAPABILITY_LABELS, level, "–")


def grid_cell_label(cell: str | None) -> str:
    """A risk × capability cell "high:low" in words."""
    risk, _sep, capability = (cell or "").partition(":")
    return f"{risk_label(risk)} · {capability_label(capability)}"


def target_status_label(status: str | None) -> str:
    return _str(TARGET_STATUS_LABELS, status, "–")


def action_status_label(status: Any) -> str:
    value = getattr(status, "value", status)
    return _str(ACTION_STATUS_LABELS, value, "–")


def effect_label(effect: str | None) -> str:
    return _str(EFFECT_LABELS, effect, "")


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_score(value: Any) -> str:
    """A 0–100 score without decimals."""
    number = _finite(value)
    return "–" if number is None else format_decimal(number, format="#,##0")


def format_points(value: Any) -> str:
    """Item points with at most one decimal."""
    number = _finite(value)
    return "–" if number is None else format_decimal(number, format="#,##0.#")


def format_pct(value: Any) -> str:
    """A number that already is a percentage (35.2 → "35.2"), at most one decimal."""
    number = _finite(value)
    return "–" if number is None else format_decimal(number, format="#,##0.#")


def format_share(value: Any) -> str:
    """A 0..1 share as a percentage with the % sign."""
    number = _finite(value)
    return "–" if number is None else f"{format_decimal(number * 100, format='#,##0.#')} %"


def format_points_gap(value: Any) -> str:
    """The difference between two 0..1 shares, in percentage points (no % sign: 67 % − 45 %
    is 22 points, not 22 %)."""
    number = _finite(value)
    return "–" if number is None else format_decimal(number * 100, format="#,##0.#")


def format_dq(value: Any) -> str:
    number = _finite(value)
    return "–" if number is None else format_decimal(number, format="0.0")


def format_intensity(value: Any) -> str:
    """kg CO2e per currency unit, shown per 1,000 units with sensible decimals."""
    number = _finite(value)
    if number is None:
        return "–"
    return format_magnitude(number * 1000, smallest="0.###")


def intensity_unit(currency: str | None) -> str:
    """The unit intensities are shown in, e.g. "kg CO2e per 1,000 CNY"."""
    return _("kg CO2e per 1,000 %(currency)s", currency=currency or _("currency units"))


def format_spend(value: Any, currency: str | None) -> str:
    number = _finite(value)
    return "–" if number is None else format_money(number, currency)


def _intensity_ratio(params: Mapping[str, Any], currency: str) -> str:
    ratio = _finite(params.get("ratio"))
    values = {
        "intensity": format_intensity(params.get("intensity")),
        "reference": format_intensity(params.get("sector_intensity")),
        "currency": currency,
    }
    if ratio is None or round(abs(1 - ratio) * 100) == 0:
        return _(
            "Intensity %(intensity)s kg CO2e per 1,000 %(currency)s is about the sector "
            "reference (%(reference)s).",
            **values,
        )
    values["pct"] = format_decimal(round(abs(1 - ratio) * 100), format="#,##0")
    if ratio < 1:
        return _(
            "Intensity %(intensity)s kg CO2e per 1,000 %(currency)s is %(pct)s %% below the "
            "sector reference (%(reference)s).",
            **values,
        )
    return _(
        "Intensity %(intensity)s kg CO2e per 1,000 %(currency)s is %(pct)s %% above the sector "
        "reference (%(reference)s).",
        **values,
    )


# What an intensity counts (methodology 1.1 on, ``params["basis"]``), said after where it
# stands; runs of version 1.0 carry no basis and read as they did.
BASIS_NOTES = {
    "cradle_to_gate": lazy_gettext(
        "It is the cradle-to-gate intensity: the supplier's own emissions, its suppliers and its "
        "other purchases, from the footprint run, like the sector reference."
    ),
    "own_plus_disclosed_upstream": lazy_gettext(
        "It counts the supplier's own emissions and the upstream emissions it disclosed (the "
        "footprint run had no total for it)."
    ),
}


def _sentences(first: str, second: Any) -> str:
    """Two sentences, with a space after an English full stop and none after a Chinese one."""
    return f"{first}{'' if first.endswith('。') else ' '}{second}"


def _intensity_ratio_on_basis(params: Mapping[str, Any], currency: str) -> str:
    """Where the intensity stands, and (1.1 on) what it counts."""
    sentence = _intensity_ratio(params, currency)
    note = BASIS_NOTES.get(str(params.get("basis") or ""))
    return sentence if note is None else _sentences(sentence, note)


def _intensity_scope12_only(params: Mapping[str, Any], currency: str) -> str:
    """Scope 1 + 2 only: where it stands, and that it counts no better than the reference."""
    measured = _finite(params.get("measured_ratio"))
    sentence = _intensity_ratio({**params, "ratio": measured}, currency)
    used = _finite(params.get("ratio"))
    if measured is not None and used is not None and used <= measured:
        note = _(
            "It counts Scope 1 and 2 only; with its unknown upstream emissions it would be "
            "higher still."
        )
    else:
        note = _(
            "It counts Scope 1 and 2 only. The upstream emissions are unknown, so it counts as "
            "at the sector reference: Scope 1 and 2 alone would look better than they are. "
            "Reporting upstream emissions or purchased spend allows a full comparison."
        )
    return _sentences(sentence, note)


def _no_sector_reference(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "Intensity %(intensity)s kg CO2e per 1,000 %(currency)s; no sector reference is known, "
        "so it counts as sector average.",
        intensity=format_intensity(params.get("intensity")),
        currency=currency,
    )


def _too_few_peers(params: Mapping[str, Any], currency: str) -> str:
    peers = int(_finite(params.get("peers")) or 0)
    return ngettext(
        "%(num)d disclosing supplier in this sector, fewer than the %(min_peers)s needed for a "
        "comparison; this item does not count.",
        "%(num)d disclosing suppliers in this sector, fewer than the %(min_peers)s needed for a "
        "comparison; this item does not count.",
        peers,
        min_peers=format_decimal(_finite(params.get("min_peers")) or 0, format="#,##0"),
    )


def _peer_percentile(params: Mapping[str, Any], currency: str) -> str:
    peers = _finite(params.get("peers")) or 0
    return _(
        "Lower intensity than %(pct)s %% of the %(others)s other disclosing suppliers in its "
        "sector.",
        pct=format_pct(params.get("percentile")),
        others=format_decimal(max(peers - 1, 0), format="#,##0"),
    )


def _trend_values(params: Mapping[str, Any], currency: str) -> dict[str, str]:
    return {
        "previous": format_intensity(params.get("previous_intensity")),
        "intensity": format_intensity(params.get("intensity")),
        "currency": currency,
        "reduction": format_pct(abs(_finite(params.get("reduction_pct")) or 0.0)),
        "benchmark": format_pct(params.get("benchmark_pct")),
    }


def _intensity_reduced(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "Intensity fell %(reduction)s %% in a year, from %(previous)s to %(intensity)s kg CO2e "
        "per 1,000 %(currency)s; full points from a %(benchmark)s %% cut.",
        **_trend_values(params, currency),
    )


def _intensity_not_reduced(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "Intensity did not fall (%(previous)s last year, %(intensity)s now, kg CO2e per 1,000 "
        "%(currency)s); full points from a %(benchmark)s %% cut a year.",
        **_trend_values(params, currency),
    )


def _renewable_share(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "%(pct)s %% of electricity from renewable sources.", pct=format_pct(params.get("share_pct"))
    )


def _ambition(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "The target cuts %(annual)s %% a year; the 1.5 °C-aligned benchmark is %(benchmark)s %% "
        "a year.",
        annual=format_pct(params.get("annual_reduction_pct")),
        benchmark=format_pct(params.get("benchmark_pct")),
    )


def _level_share(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "%(pct)s %% of the points possible at this level.", pct=format_pct(params.get("share_pct"))
    )


def _dq_score(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "Data quality %(dq)s on a scale from 1 (verified primary data) to 5 (spend-based "
        "estimate).",
        dq=format_dq(params.get("dq_score")),
    )


def _completeness(params: Mapping[str, Any], currency: str) -> str:
    return _(
        "%(pct)s %% of the required answers given.", pct=format_pct(params.get("completeness_pct"))
    )


# Reasons that quote numbers: each builds its sentence from the params and the run's currency.
FORMATTED_REASONS: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    "intensity_ratio": _intensity_ratio_on_basis,
    "intensity_ratio_disclosed_upstream": _intensity_ratio_on_basis,
    "intensity_ratio_scope12_only": _intensity_scope12_only,
    "no_sector_reference": _no_sector_reference,
    "too_few_peers": _too_few_peers,
    "peer_percentile": _peer_percentile,
    "intensity_reduced": _intensity_reduced,
    "intensity_not_reduced": _intensity_not_reduced,
    "renewable_share": _renewable_share,
    "ambition_vs_benchmark": _ambition,
    "level_share": _level_share,
    "dq_score": _dq_score,
    "completeness": _completeness,
}


@functools.cache
def _shipped_config() -> dict[str, Any]:
    return load_methodology().config


def _method_constants(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The methodology numbers sentences quote that the engine keeps out of each item's params
    (they are the same for every supplier of a run): benchmark, peer minimum, full-points ratio.
    ``config`` is the run's stored methodology; without one, the latest shipped version's."""
    config = config if config and "items" in config else _shipped_config()
    emissions = config["items"]["emissions"]
    return {
        "benchmark_pct": config["benchmark"]["annual_reduction_pct"],
        "min_peers": emissions["peer_percentile"]["min_peers"],
        "full_ratio": emissions["intensity_vs_sector"]["full_ratio"],
    }


def _in_locale(locale: str | None):
    return force_locale(locale) if locale else nullcontext()


def reason_text(
    code: str,
    params: Mapping[str, Any] | None = None,
    locale: str | None = None,
    *,
    currency: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> str:
    """Why an item earned its points, as a sentence in ``locale`` (the request's by default).

    ``currency`` is the scoring run's reporting currency, which intensities are quoted in;
    ``config`` the run's stored methodology (``ScoringRun.methodology``).
    """
    with _in_locale(locale):
        params = {**_method_constants(config), **(params or {})}
        unit = currency or params.get("currency") or _("currency units")
        builder = FORMATTED_REASONS.get(code)
        if builder is not None:
            return builder(params, unit)
        return _str(FIXED_REASONS, code, _("No explanation is available for this item."))


def _reduce_intensity(params: Mapping[str, Any], currency: str) -> str:
    """The action of the three intensity items; which item it is shows in its params."""
    if params.get("basis") == "own_only":  # runs stored before the action had its own code
        return str(FIXED_ACTIONS["report_upstream_emissions"])
    if "ratio" in params:
        sector = _finite(params.get("sector_intensity"))
        full_ratio = _finite(params.get("full_ratio"))
        if sector is None or full_ratio is None:
            return _("Reduce your emissions intensity.")
        values = {
            "goal": format_intensity(sector * full_ratio),
            "full_pct": format_pct(full_ratio * 100),
            "currency": currency,
        }
        if _finite(params.get("intensity")) is None:
            return _(
                "Reduce your emissions intensity to %(goal)s kg CO2e per 1,000 %(currency)s "
                "(%(full_pct)s %% of the sector reference) for full points.",
                **values,
            )
        return _(
            "Reduce your emissions intensity from %(intensity)s to %(goal)s kg CO2e per 1,000 "
            "%(currency)s (%(full_pct)s %% of the sector reference) for full points.",
            intensity=format_intensity(params.get("intensity")),
            **values,
        )
    if "reduction_pct" in params:
        return _(
            "Cut your emissions intensity by at least %(benchmark)s %% a year.",
            benchmark=format_pct(params.get("benchmark_pct")),
        )
    if "percentile" in params:
        return _("Reduce your emissions intensity below that of other suppliers in your sector.")
    return _("Reduce your emissions intensity.")


def _increase_renewables(params: Mapping[str, Any], currency: str) -> str:
    if _finite(params.get("share_pct")) is None:
        return _(
            "Raise the share of renewable electricity through on-site generation, power "
            "purchase agreements or green certificates."
        )
    return _(
        "Raise the share of renewable electricity (now %(share)s %%) through on-site "
        "generation, power purchase agreements or green certificates.",
        share=format_pct(params.get("share_pct")),
    )


def _raise_ambition(params: Mapping[str, Any], currency: str) -> str:
    benchmark = format_pct(params.get("benchmark_pct"))
    if _finite(params.get("annual_reduction_pct")) is None:
        return _(
            "Raise your target to a reduction of at least %(benchmark)s %% a year.",
            benchmark=benchmark,
        )
    return _(
        "Raise your target to a reduction of at least %(benchmark)s %% a year (now %(annual)s %%).",
        benchmark=benchmark,
        annual=format_pct(params.get("annual_reduction_pct")),
    )


def _respond(params: Mapping[str, Any], currency: str) -> str:
    """The one action of a supplier without a response; ``items`` is how many it stands for."""
    count = _finite(params.get("items"))
    if count is None or count < 1:
        return str(FIXED_ACTIONS["respond_to_questionnaire"])
    return ngettext(
        "Answer the climate questionnaire so the score rests on your own data: %(num)d item "
        "is scored on secondary data only until then.",
        "Answer the climate questionnaire so the score rests on your own data: %(num)d items "
        "are scored on secondary data only until then.",
        int(count),
    )


# Actions that quote numbers, built from the item's params and the run's currency.
FORMATTED_ACTIONS: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    "respond_to_questionnaire": _respond,
    "reduce_emission_intensity": _reduce_intensity,
    "increase_renewable_electricity": _increase_renewables,
    "raise_target_ambition": _raise_ambition,
}


def action_text(
    code: str,
    params: Mapping[str, Any] | None = None,
    locale: str | None = None,
    *,
    currency: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> str:
    """What a supplier should do about a lost item, as a sentence in ``locale`` (``currency``
    and ``config`` as for :func:`reason_text`)."""
    with _in_locale(locale):
        params = {**_method_constants(config), **(params or {})}
        unit = currency or params.get("currency") or _("currency units")
        builder = FORMATTED_ACTIONS.get(code)
        if builder is not None:
            return builder(params, unit)
        return _str(FIXED_ACTIONS, code, _("Improve this item to win back its points."))


def template_helpers() -> dict[str, Callable[..., str]]:
    """The labels and formatters, by name, for templates of every scoring page."""
    return {
        "dimension_label": dimension_label,
        "item_label": item_label,
        "band_label": band_label,
        "group_label": group_label,
        "level_label": level_label,
        "maturity_label": maturity_label,
        "risk_label": risk_label,
        "capability_label": capability_label,
        "grid_cell_label": grid_cell_label,
        "target_status_label": target_status_label,
        "action_status_label": action_status_label,
        "effect_label": effect_label,
        "reason_text": reason_text,
        "action_text": action_text,
        "format_score": format_score,
        "format_points": format_points,
        "format_share": format_share,
        "format_points_gap": format_points_gap,
        "format_dq": format_dq,
        "format_intensity": format_intensity,
        "intensity_unit": intensity_unit,
        "format_spend": format_spend,
        "format_tonnes": format_tonnes,
    }
