"""The project's single pint unit registry and small helpers around it.

Activity factors and questionnaire answers arrive with units such as ``kWh``, ``MWh``, ``GJ``,
``tce`` (tonne of coal equivalent), ``t``, ``m3`` or ``L``. Every package converts them through
this one registry so that quantities from different modules can be combined, and so that a unit
mismatch is always an explicit :class:`UnitMismatchError`, never a silent wrong number.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pint

__all__ = [
    "ureg",
    "Quantity",
    "UnitError",
    "UnknownUnitError",
    "UnitMismatchError",
    "parse_unit",
    "to_quantity",
    "convert",
    "dimension_of",
    "is_compatible",
]

# Units written the way ledgers and questionnaires write them: "m3", "Nm3", "km2".
_POWER_SUFFIX = re.compile(r"(?<=[A-Za-z])([23])\b")


_NORMAL_CUBIC = re.compile(r"\bN(?:m3|m\^3|m\*\*3)\b")


def _power_suffix(text: str) -> str:
    """Turn ``m3`` into ``m**3`` and ``Nm3`` into normal cubic metres, as ledgers write them."""
    return _POWER_SUFFIX.sub(r"**\1", _NORMAL_CUBIC.sub("normal_cubic_meter", text))


ureg: pint.UnitRegistry = pint.UnitRegistry(preprocessors=[_power_suffix])
# Tonne of coal equivalent as used in Chinese energy statistics (GB/T 2589): 29.3076 GJ.
ureg.define("tonne_of_coal_equivalent = 29.3076 * gigajoule = tce")
# Tonne of oil equivalent (IEA convention): 41.868 GJ.
ureg.define("tonne_of_oil_equivalent = 41.868 * gigajoule = toe")
# Normal cubic metre: a volume reported at reference conditions; dimensionally a volume.
ureg.define("normal_cubic_meter = meter ** 3")
ureg.define("kilotonne = 1000 * metric_ton = kt")

Quantity = ureg.Quantity

_DIMENSION_NAMES = {
    str(ureg.get_dimensionality(ureg.parse_units(example))): name
    for name, example in (
        ("energy", "J"),
        ("mass", "kg"),
        ("volume", "m**3"),
        ("length", "m"),
        ("area", "m**2"),
        ("time", "s"),
        ("power", "W"),
        ("mass*distance", "t*km"),
        ("dimensionless", "dimensionless"),
    )
}


class UnitError(ValueError):
    """Base class for unit problems so callers can catch them together."""


class UnknownUnitError(UnitError):
    """A unit string that the registry cannot parse."""

    def __init__(self, unit: str, detail: str = "") -> None:
        self.unit = unit
        msg = f"unknown unit {unit!r}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class UnitMismatchError(UnitError):
    """Two units that cannot be converted into each other (e.g. kWh to kg)."""

    def __init__(self, from_unit: str, to_unit: str, context: str = "") -> None:
        self.from_unit = from_unit
        self.to_unit = to_unit
        msg = (
            f"cannot convert {from_unit!r} ({dimension_of(from_unit)}) to {to_unit!r} "
            f"({dimension_of(to_unit)})"
        )
        super().__init__(f"{context}: {msg}" if context else msg)


def parse_unit(unit: str) -> pint.Unit:
    """Parse a unit string, raising :class:`UnknownUnitError` instead of pint's errors."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnknownUnitError(str(unit), "empty unit")
    try:
        return ureg.parse_units(unit.strip())
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnknownUnitError(unit, str(exc)) from exc
    except (AttributeError, TypeError, ValueError, SyntaxError) as exc:
        raise UnknownUnitError(unit, "could not parse") from exc


def to_quantity(value: Any, unit: str) -> pint.Quantity:
    """Attach a unit to a number or numpy array, validating the unit string."""
    return Quantity(
        np.asarray(value, dtype=float) if np.ndim(value) else float(value), parse_unit(unit)
    )


def dimension_of(unit: str) -> str:
    """Name the physical dimension of a unit ("energy", "mass", "volume", ...)."""
    try:
        dim = str(ureg.get_dimensionality(parse_unit(unit)))
    except UnknownUnitError:
        return "unknown"
    return _DIMENSION_NAMES.get(dim, dim)


def is_compatible(from_unit: str, to_unit: str) -> bool:
    """True when the two units measure the same dimension."""
    return parse_unit(from_unit).dimensionality == parse_unit(to_unit).dimensionality


def convert(value: Any, from_unit: str, to_unit: str) -> Any:
    """Convert a number or array between units; mismatched dimensions raise, never guess."""
    src = parse_unit(from_unit)
    dst = parse_unit(to_unit)
    if src.dimensionality != dst.dimensionality:
        raise UnitMismatchError(from_unit, to_unit)
    magnitude = np.asarray(value, dtype=float) if np.ndim(value) else float(value)
    result = Quantity(magnitude, src).to(dst).magnitude
    return result if np.ndim(value) else float(result)
