"""Units of numeric answers: dimensions, canonical units and conversion.

Physical units go through the project's single pint registry in :mod:`spend_factors.units`.
Emissions (``kg CO2e``, ``tCO2e``, ...) are not a pint dimension: CO2e is a mass of gas weighted
by global-warming potential, and a plain ``t`` of steel must never be read as ``t CO2e``. So an
emissions unit is recognised here by its ``CO2e`` suffix, the mass part before it is converted
with pint, and emissions and plain masses never convert into each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spend_factors.units import UnitError, convert, dimension_of, parse_unit

#: Dimension name -> canonical unit every answer of that dimension is stored in.
CANONICAL_UNITS: dict[str, str] = {
    "energy": "kWh",
    "mass": "kg",
    "volume": "m3",
    "emissions": "kg CO2e",
    "area": "m2",
    "length": "km",
}
DIMENSIONS = tuple(CANONICAL_UNITS)

_EMISSIONS = re.compile(r"^\s*(?P<mass>.*?)\s*(?:CO2e|CO2-e|CO2eq|CO2-eq|CO₂e)\s*$", re.IGNORECASE)


class AnswerUnitError(ValueError):
    """A unit that cannot be parsed or does not fit the question's dimension."""

    def __init__(self, code: str, unit: str, dimension: str = "", expected: str = "") -> None:
        self.code = code
        self.unit = unit
        self.dimension = dimension
        self.expected = expected
        super().__init__(f"{code}: {unit!r} ({dimension}) expected {expected}")


@dataclass(frozen=True)
class ParsedUnit:
    """A unit string split into its dimension and the pint-parsable mass/energy/... part."""

    unit: str
    dimension: str
    pint_unit: str


def parse_answer_unit(unit: str) -> ParsedUnit:
    """Recognise a unit string; raises :class:`AnswerUnitError` (``unknown_unit``)."""
    if not isinstance(unit, str) or not unit.strip():
        raise AnswerUnitError("unknown_unit", str(unit))
    match = _EMISSIONS.match(unit)
    if match:
        mass = match.group("mass")
        if not mass or _pint_dimension(mass) != "mass":
            raise AnswerUnitError("unknown_unit", unit)
        return ParsedUnit(unit.strip(), "emissions", mass)
    dimension = _pint_dimension(unit)
    if dimension == "unknown":
        raise AnswerUnitError("unknown_unit", unit)
    return ParsedUnit(unit.strip(), dimension, unit.strip())


def _pint_dimension(unit: str) -> str:
    try:
        parse_unit(unit)
    except UnitError:
        return "unknown"
    return dimension_of(unit)


def unit_dimension(unit: str) -> str:
    """Dimension name of a unit (``emissions`` for CO2e units, ``unknown`` if unparsable)."""
    try:
        return parse_answer_unit(unit).dimension
    except AnswerUnitError:
        return "unknown"


def to_canonical(value: float, unit: str, allowed: tuple[str, ...]) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the canonical unit of its dimension.

    ``allowed`` lists the dimensions the question accepts; any other raises ``wrong_dimension``
    so a kg entered for an energy question is an error, never a silent number.
    """
    parsed = parse_answer_unit(unit)
    if parsed.dimension not in allowed:
        raise AnswerUnitError("wrong_dimension", unit, parsed.dimension, " or ".join(allowed))
    canonical = CANONICAL_UNITS[parsed.dimension]
    return convert_between(value, unit, canonical), canonical


def convert_between(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between two units of one dimension, including CO2e emission units."""
    src = parse_answer_unit(from_unit)
    dst = parse_answer_unit(to_unit)
    if src.dimension != dst.dimension:
        raise AnswerUnitError("wrong_dimension", from_unit, src.dimension, dst.dimension)
    if src.pint_unit == dst.pint_unit:
        return float(value)
    return float(convert(float(value), src.pint_unit, dst.pint_unit))
