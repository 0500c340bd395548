"""Activity-based Scope 1 and 2 emissions from supplier-reported quantities.

When a supplier reports what it used (kWh of electricity, tonnes of diesel, GJ of purchased
heat), a physical factor is far better than a spend average. Factors come from the shipped,
cited ``data/activity_factors.csv``: national grid averages (China MEE/NBS by data year, US
eGRID, EU EEA, UK DESNZ, Japan MOE), a purchased-heat default, and IPCC 2006 fuel defaults with
net calorific values so that fuel masses can be converted to energy. Units go through the
shared pint registry in :mod:`spend_factors.units`.

Rows not yet checked against their publication (``verified=no``, see
``docs/reference-data.md``) are still applied, but the result says so: ``verified`` is False,
the ``source`` starts with ``UNVERIFIED`` and the note repeats it, so every consumer that keeps
the source keeps the mark.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from .units import UnitMismatchError, convert, dimension_of, is_compatible, parse_unit

__all__ = [
    "ActivityResult",
    "ActivityError",
    "UnknownActivityError",
    "UnknownRegionError",
    "activity_emissions",
    "activity_table",
    "known_activities",
]

DATA_DIR = Path(__file__).parent / "data"
GLOBAL = "GLOBAL"
UNVERIFIED_PREFIX = "UNVERIFIED (value not checked against the publication): "

_ACTIVITY_ALIASES = {
    "electricity": "electricity_grid",
    "grid_electricity": "electricity_grid",
    "purchased_electricity": "electricity_grid",
    "heat": "purchased_heat",
    "steam": "purchased_heat",
    "gas": "natural_gas",
    "gas_oil": "diesel",
    "gas/diesel_oil": "diesel",
    "petrol": "gasoline",
    "motor_gasoline": "gasoline",
    "bituminous_coal": "coal",
    "other_bituminous_coal": "coal",
    "liquefied_petroleum_gas": "lpg",
}
_REGION_ALIASES = {
    "CHN": "CN",
    "CHINA": "CN",
    "PRC": "CN",
    "USA": "US",
    "UNITED STATES": "US",
    "UK": "GB",
    "GBR": "GB",
    "UNITED KINGDOM": "GB",
    "JPN": "JP",
    "JAPAN": "JP",
    "EU27": "EU",
    "EU-27": "EU",
    "WORLD": GLOBAL,
}


class ActivityError(ValueError):
    """An activity quantity that cannot be turned into emissions."""


class UnknownActivityError(ActivityError):
    """Activity name not in the factor table."""


class UnknownRegionError(ActivityError):
    """Region missing for this activity, or no factor for the requested year."""


@dataclass(frozen=True)
class ActivityResult:
    """Emissions of one activity quantity with everything needed to cite it."""

    kg_co2e: float
    quantity: float
    unit: str
    activity: str
    region: str
    factor: float
    factor_unit: str
    gases: str
    source: str
    year_requested: int | None
    year_applied: int
    conversions: str
    gwp_set: str
    dq_score: float
    uncertainty_pct: float
    note: str
    verified: bool = True
    source_url: str = ""

    @property
    def unverified(self) -> bool:
        """True when the factor row was not checked against its publication."""
        return not self.verified

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unverified"] = self.unverified
        return out


@lru_cache(maxsize=1)
def activity_table() -> pd.DataFrame:
    """The shipped activity factor table."""
    df = pd.read_csv(
        DATA_DIR / "activity_factors.csv",
        dtype={"region": str, "activity": str},
        keep_default_na=False,
        na_values={"ncv_tj_per_gg": [""]},
    )
    df["year"] = df["year"].astype(int)
    return df


def known_activities() -> list[str]:
    return sorted(activity_table()["activity"].unique())


def _norm_activity(activity: str) -> str:
    key = str(activity).strip().lower().replace(" ", "_").replace("-", "_")
    return _ACTIVITY_ALIASES.get(key, key)


def _norm_region(region: str | None) -> str | None:
    if region is None or not str(region).strip():
        return None
    key = str(region).strip().upper()
    return _REGION_ALIASES.get(key, key)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _row_verified(row: pd.Series) -> bool:
    """A row counts as verified unless its ``verified`` column says otherwise."""
    flag = str(row.get("verified", "yes")).strip().lower()
    return flag in {"yes", "true", "1", ""}


def _region_rows(act: str, activity: str, region: str | None) -> tuple[str, pd.DataFrame]:
    """The factor rows of one activity for the requested region, oldest year first."""
    table = activity_table()
    rows = table[table["activity"] == act]
    if rows.empty:
        raise UnknownActivityError(
            f"unknown activity {activity!r}; known: {', '.join(known_activities())}"
        )
    regions = sorted(rows["region"].unique())
    reg = _norm_region(region)
    if reg is None or (reg not in regions and regions == [GLOBAL]):
        if regions != [GLOBAL]:
            raise UnknownRegionError(
                f"activity {act!r} needs a region; available: {', '.join(regions)}"
            )
        reg = GLOBAL
    if reg not in regions:
        raise UnknownRegionError(
            f"no {act!r} factor for region {region!r}; available: {', '.join(regions)}"
        )
    return reg, rows[rows["region"] == reg].sort_values("year")


def _pick_year(
    rows: pd.DataFrame, act: str, reg: str, year: int | None
) -> tuple[pd.Series, list[str]]:
    """The row for ``year`` (nearest earlier when missing) and notes saying what was chosen."""
    if year is None:
        row = rows.iloc[-1]
        return row, [f"no year given; latest published factor ({int(row['year'])}) used"]
    earlier = rows[rows["year"] <= int(year)]
    if earlier.empty:
        if reg != GLOBAL:
            raise UnknownRegionError(
                f"no {act!r} factor for {reg} in or before {year}; earliest is "
                f"{int(rows['year'].iloc[0])}"
            )
        row = rows.iloc[0]
        return row, [f"IPCC default published {int(row['year'])} applied to {year}"]
    row = earlier.iloc[-1]
    if reg == GLOBAL:
        return row, [f"IPCC default published {int(row['year'])}, not year-specific"]
    if int(row["year"]) != int(year):
        return row, [
            f"no factor for {year}; nearest earlier published year {int(row['year'])} used"
        ]
    return row, []


def _in_factor_unit(q: float, unit: str, row: pd.Series, act: str) -> tuple[float, list[str]]:
    """The quantity in the row's ``per_unit`` (masses of fuel via the NCV), with the steps."""
    per_unit = str(row["per_unit"])
    ncv = row["ncv_tj_per_gg"]
    parse_unit(unit)
    steps = []
    if is_compatible(unit, per_unit):
        amount = convert(q, unit, per_unit)
        if parse_unit(unit) != parse_unit(per_unit):
            steps.append(f"{_fmt(q)} {unit} = {_fmt(amount)} {per_unit}")
        return amount, steps
    if dimension_of(unit) == "mass" and not pd.isna(ncv) and is_compatible(per_unit, "TJ"):
        gg = convert(q, unit, "Gg")
        tj = gg * float(ncv)
        amount = convert(tj, "TJ", per_unit)
        steps.append(f"{_fmt(q)} {unit} = {_fmt(gg)} Gg")
        steps.append(f"x NCV {_fmt(float(ncv))} TJ/Gg = {_fmt(tj)} TJ")
        if per_unit != "TJ":
            steps.append(f"= {_fmt(amount)} {per_unit}")
        return amount, steps
    how = f"{per_unit} ({dimension_of(per_unit)})"
    if not pd.isna(ncv):
        how += " or a mass (converted with the net calorific value)"
    raise UnitMismatchError(unit, per_unit, context=f"{act} factors are per {how}")


def activity_emissions(
    quantity: float,
    unit: str,
    activity: str,
    region: str | None = None,
    year: int | None = None,
) -> ActivityResult:
    """kg CO2e for a quantity of an activity (e.g. 1 MWh of CN grid electricity in 2022).

    When ``year`` has no published factor, the nearest earlier year is used and recorded.
    Unknown activities/regions and units that cannot reach the factor's unit raise. A factor
    row not checked against its publication gives ``verified=False`` and an UNVERIFIED source.
    """
    try:
        q = float(quantity)
    except (TypeError, ValueError):
        raise ActivityError(f"quantity must be a number, not {quantity!r}") from None
    if not math.isfinite(q) or q < 0:
        raise ActivityError(f"quantity must be a finite, non-negative number, not {quantity!r}")
    act = _norm_activity(activity)
    reg, rows = _region_rows(act, activity, region)
    row, notes = _pick_year(rows, act, reg, year)
    amount, steps = _in_factor_unit(q, unit, row, act)
    factor = float(row["factor"])
    kg = amount * factor
    steps.append(f"x {_fmt(factor)} {row['factor_unit']} = {_fmt(kg)} kg")
    verified = _row_verified(row)
    source = str(row["source"])
    if not verified:
        source = UNVERIFIED_PREFIX + source
        notes.append("factor not checked against its publication (see docs/reference-data.md)")
    note = "; ".join([*notes, str(row["note"])] if row["note"] else notes)
    return ActivityResult(
        kg_co2e=kg,
        quantity=q,
        unit=unit,
        activity=act,
        region=reg,
        factor=factor,
        factor_unit=str(row["factor_unit"]),
        gases=str(row["gases"]),
        source=source,
        year_requested=None if year is None else int(year),
        year_applied=int(row["year"]),
        conversions="; ".join(steps),
        gwp_set=str(row["gwp_set"]),
        dq_score=float(row["dq_score"]),
        uncertainty_pct=float(row["uncertainty_pct"]),
        note=note,
        verified=verified,
        source_url=str(row.get("url", "")),
    )
