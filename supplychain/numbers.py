"""Turning engine output (numpy floats, NaN for unknown) into what the database stores."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def finite_or_none(value: Any) -> float | None:
    """A plain float, or None for missing / NaN (JSON and the database have no NaN)."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def kg_decimal(value: Any) -> Decimal | None:
    """kg CO2e for a Numeric column: rounded to grams, None when unknown."""
    out = finite_or_none(value)
    return None if out is None else Decimal(str(round(out, 3)))
