"""A supplier's disclosure as a node of the footprint network: own emissions and upstream.

A reporting supplier's Scope 1 + 2 is only part of its cradle-to-gate footprint. The engine
fills the rest (the gap beyond its known suppliers) from what the disclosure tells of its
upstream: the disclosed upstream Scope 3 (``upstream_kg_co2e``), else its purchased spend
(``purchased_spend`` in the node's currency and year, sector ``purchased_naics``; blank means
its own sector), else a default estimate from its own sector. This module hands those
numbers over on one basis: purchased spend in another currency or year than the revenue is
converted to the revenue's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supplychain.models import Disclosure

__all__ = ["disclosure_dq", "disclosure_node"]


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def disclosure_dq(disclosure: Disclosure) -> tuple[float | None, str]:
    """Data quality of reported emissions: verified 1, reported 2, computed from activity 2."""
    prov = disclosure.provenance or {}
    method = str((prov.get("scope1_kg") or {}).get("method") or "")
    verification = (disclosure.details or {}).get("verification") or {}
    verified = verification.get("third_party") in (True, "yes", "true") or bool(
        prov.get("verified")
    )
    if method == "reported":
        return (1.0, "reported, verified") if verified else (2.0, "reported")
    if method == "computed-from-activity":
        return 2.0, "computed from activity data"
    return None, method or "unknown"


def _purchases(
    disclosure: Disclosure, fields: dict[str, Any], who: str, warnings: list[str]
) -> dict[str, Any] | None:
    """Purchased spend on the node's currency and year basis, and how it got there."""
    if disclosure.purchased_spend is None:
        return None
    amount = float(disclosure.purchased_spend)
    currency = (disclosure.purchased_currency or "").strip().upper()
    year = disclosure.reporting_year
    if not currency:
        warnings.append(
            f"{who}: the {year} disclosure gives purchased spend {amount:,.2f} without a "
            "currency, so it is left out"
        )
        return None
    # no stated sector (or "other" as the largest category): the engine uses the own sector
    naics = (disclosure.purchased_naics or "").strip() or None
    record: dict[str, Any] = {"amount": amount, "currency": currency, "year": year, "naics": naics}
    if "currency" not in fields:  # no revenue: the purchases set the node's basis
        fields.update(currency=currency, year=year)
    elif (fields["currency"], fields["year"]) != (currency, year):
        import spend_factors

        try:
            out, how = spend_factors.convert_money(
                amount, currency, year, fields["currency"], int(fields["year"])
            )
        except spend_factors.ConversionError as exc:
            warnings.append(
                f"{who}: purchased spend {amount:,.2f} {currency} {year} cannot be converted "
                f"to the revenue's {fields['currency']} {fields['year']}, so it is left out: {exc}"
            )
            return None
        amount = float(np.asarray(out).ravel()[0])
        record["conversion"] = {
            "to": f"{fields['currency']} {fields['year']}",
            "amount": amount,
            "how": str(how),
        }
    fields["purchased_spend"] = amount
    if naics:
        fields["purchased_naics"] = naics
    return record


def disclosure_node(
    disclosure: Disclosure, year: int, who: str, warnings: list[str]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Node fields and provenance from a disclosure, or None when its emissions are incomplete."""
    scope2_market = disclosure.scope2_market_kg
    scope2 = scope2_market if scope2_market is not None else disclosure.scope2_location_kg
    if disclosure.scope1_kg is None or scope2 is None:
        warnings.append(
            f"{who}: the {year} disclosure lacks Scope 1 or Scope 2, so it is estimated "
            "from spend instead"
        )
        return None
    dq, dq_basis = disclosure_dq(disclosure)
    fields: dict[str, Any] = {
        "own_kg_co2e": float(disclosure.scope1_kg) + float(scope2),
        "scope2_kg_co2e": float(scope2),
        "dq_score": _float(dq),
        "uncertainty_pct": _float(disclosure.allocation_uncertainty_pct),
    }
    if disclosure.revenue is not None and disclosure.revenue_currency:
        fields["revenue"] = float(disclosure.revenue)
        fields["currency"] = disclosure.revenue_currency.strip().upper()
        fields["year"] = disclosure.revenue_year or year
    provenance: dict[str, Any] = {
        "data_source": "disclosure",
        "disclosure": str(disclosure.public_id),
        "disclosure_source": disclosure.source,
        "source_ref": disclosure.source_ref,
        "reporting_year": disclosure.reporting_year,
        "scope1_kg": float(disclosure.scope1_kg),
        "scope2_kg": float(scope2),
        "scope2_basis": "market-based" if scope2_market is not None else "location-based",
        "dq_basis": dq_basis,
        "dq_score": dq,
    }
    if disclosure.scope3_upstream_kg is not None:
        fields["upstream_kg_co2e"] = float(disclosure.scope3_upstream_kg)
        provenance["upstream_kg"] = float(disclosure.scope3_upstream_kg)
        boundary = (disclosure.details or {}).get("scope3_upstream_boundary")
        provenance["upstream_boundary"] = boundary
        if boundary == "upstream":
            warnings.append(
                f"{who}: the {year} disclosure's upstream Scope 3 "
                f"({float(disclosure.scope3_upstream_kg):,.0f} kg CO2e) covers all upstream "
                "categories, not only purchased goods and services, so its gap may be too large"
            )
    purchases = _purchases(disclosure, fields, who, warnings)
    if purchases is not None:
        provenance["purchased_spend"] = purchases
    return fields, provenance
