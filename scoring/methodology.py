"""Versioned scoring methodologies: the shipped YAML files plus a brand's overrides.

A methodology version is a config file in ``scoring/methodologies/`` and the engine code. Brands
may override the dimension weights, the bands and their SBTi engagement goal; everything else is
fixed per version so that two brands' scores under one version mean the same thing. The effective
configuration and its hash are stored with every scoring run, which makes a score reproducible.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METHODOLOGIES_DIR = Path(__file__).parent / "methodologies"
DIMENSIONS = ("emissions", "targets", "maturity", "data_quality")
MATURITY_LEVELS = ("disclosure", "awareness", "management", "leadership")
TARGET_STATUSES = ("none", "own", "sbti_committed", "sbti_validated")
VERIFICATION_LEVELS = ("none", "limited", "reasonable")
DATA_SOURCES = (
    "production_monthly",
    "production_daily",
    "finance",
    "logistics",
    "derived",
    "other",
    "statistical_average",
)
OVERRIDABLE = ("weights", "bands", "sbti_target")
#: What the intensity compared with the sector counts: Scope 1 + 2 alone (version 1.0) or the
#: supplier's cradle-to-gate emissions, as far as they are known (version 1.1 on).
EMISSIONS_BASES = ("scope1_2", "cradle_to_gate")
#: What a supplier's ``intensity`` counts (``scoring.inputs``), most complete first: its
#: footprint node's cradle-to-gate total, its Scope 1 + 2 plus disclosed upstream Scope 3, or
#: its Scope 1 + 2 alone.
INTENSITY_BASES = ("cradle_to_gate", "own_plus_disclosed_upstream", "own_only")
#: Margins options of the sector reference factor (``spend_factors.margins_option``).
REFERENCE_MARGINS = ("include", "exclude")


class MethodologyError(ValueError):
    """A methodology file or brand override that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Methodology:
    """One effective methodology: a shipped version with a brand's overrides applied."""

    version: str
    weights: dict[str, float]
    bands: dict
    maturity_level_dimensions: dict[str, list[str]]
    config: dict

    def to_dict(self) -> dict:
        """The effective configuration, JSON-able, as stored with a scoring run."""
        return copy.deepcopy(self.config)

    @property
    def emissions_basis(self) -> str:
        """``cradle_to_gate`` or ``scope1_2`` (files written before the key: version 1.0)."""
        spec = self.config["items"]["emissions"]["intensity_vs_sector"]
        return str(spec.get("emissions_basis", "scope1_2"))

    @property
    def reference_margins(self) -> str | None:
        """Margins option of the sector reference; None: the footprint run's (version 1.0)."""
        reference = self.config.get("sector_reference") or {}
        return reference.get("margins")

    @property
    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON of the effective configuration."""
        canonical = json.dumps(self.config, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _shipped() -> dict[str, dict]:
    """Every shipped methodology file, parsed once per process (they are package data)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    versions: dict[str, dict] = {}
    for path in sorted(METHODOLOGIES_DIR.glob("v*.yaml")):
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        versions[str(raw["version"])] = raw
    return versions


def shipped_versions() -> list[str]:
    """The versions of every methodology file shipped with the package, oldest first."""
    return sorted(_shipped(), key=_version_key)


def latest_version() -> str:
    """The newest shipped methodology version (numeric comparison: "1.10" > "1.9")."""
    return shipped_versions()[-1]


def load_methodology(version: str | None = None, overrides: dict | None = None) -> Methodology:
    """The shipped methodology ``version`` (latest when None) with a brand's ``overrides``.

    ``overrides`` is a brand's settings ``{"weights": {...}, "bands": {...}, "sbti_target":
    {...}}``; each part is merged over the shipped values and validated. Weights are normalised
    to sum to 1. Raises :class:`MethodologyError` naming the offending key.
    """
    wanted = latest_version() if version is None else str(version)
    if wanted not in _shipped():
        shipped = ", ".join(shipped_versions())
        raise MethodologyError(f"unknown scoring methodology {wanted!r}; shipped: {shipped}")
    config = copy.deepcopy(_shipped()[wanted])
    config["version"] = str(config["version"])
    for key, value in (overrides or {}).items():
        if key not in OVERRIDABLE:
            raise MethodologyError(
                f"{key}: not a setting a brand can override (allowed: {', '.join(OVERRIDABLE)})"
            )
        if value is None:
            continue
        if not isinstance(value, dict):
            raise MethodologyError(f"{key}: expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - set(config[key]))
        if unknown:
            raise MethodologyError(f"{key}.{unknown[0]}: unknown setting")
        config[key] = {**config[key], **value}
    validate_config(config)
    total = sum(config["weights"].values())
    # Canonical numbers, so that equal settings (70 and 70.0) hash equally.
    config["weights"] = {d: float(config["weights"][d]) / total for d in DIMENSIONS}
    for key in ("approved_min", "conditional_min"):
        config["bands"][key] = float(config["bands"][key])
    config["sbti_target"]["share"] = float(config["sbti_target"]["share"])
    return Methodology(
        version=config["version"],
        weights=dict(config["weights"]),
        bands=dict(config["bands"]),
        maturity_level_dimensions={k: list(v) for k, v in config["maturity_levels"].items()},
        config=config,
    )


def _number(value: Any, key: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MethodologyError(f"{key}: expected a finite number, got {value!r}")
    if low is not None and value < low:
        raise MethodologyError(f"{key}: must be at least {low:g}, got {value!r}")
    if high is not None and value > high:
        raise MethodologyError(f"{key}: must be at most {high:g}, got {value!r}")
    return float(value)


def validate_config(config: dict) -> None:
    """Check the values the engine relies on (new version files too); raises the first problem."""
    weights = config["weights"]
    if set(weights) != set(DIMENSIONS):
        raise MethodologyError(f"weights: expected keys {', '.join(DIMENSIONS)}")
    for dim in DIMENSIONS:
        _number(weights[dim], f"weights.{dim}", low=0.0)
    if sum(weights.values()) <= 0:
        raise MethodologyError("weights: at least one weight must be above 0")

    bands = config["bands"]
    approved = _number(bands["approved_min"], "bands.approved_min", low=0.0, high=100.0)
    conditional = _number(bands["conditional_min"], "bands.conditional_min", low=0.0, high=100.0)
    if conditional >= approved:
        raise MethodologyError(
            f"bands.conditional_min: must be below bands.approved_min ({approved:g}),"
            f" got {conditional:g}"
        )
    months = bands["correction_months"]
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 36:
        raise MethodologyError(
            f"bands.correction_months: expected a whole number of months 1-36, got {months!r}"
        )
    if not isinstance(bands["approve_without_disclosure"], bool):
        raise MethodologyError("bands.approve_without_disclosure: expected true or false")

    target = config["sbti_target"]
    _number(target["share"], "sbti_target.share", low=0.0, high=1.0)
    year = target["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise MethodologyError(f"sbti_target.year: expected a year 2000-2100, got {year!r}")

    _number(config["benchmark"]["annual_reduction_pct"], "benchmark.annual_reduction_pct", low=0.1)
    if list(config["maturity_levels"]) != list(MATURITY_LEVELS):
        raise MethodologyError(f"maturity_levels: expected levels {', '.join(MATURITY_LEVELS)}")
    for level in MATURITY_LEVELS:
        spec = config["maturity_letters"][level]
        minus = _number(spec["minus"], f"maturity_letters.{level}.minus", low=0.0, high=1.0)
        full = _number(spec["full"], f"maturity_letters.{level}.full", low=0.0, high=1.0)
        if minus > full:
            raise MethodologyError(f"maturity_letters.{level}.minus: must not exceed full")
    for dim in DIMENSIONS:
        for item, spec in config["items"][dim].items():
            _number(spec["points"], f"items.{dim}.{item}.points", low=0.0)
    ivs = config["items"]["emissions"]["intensity_vs_sector"]
    key = "items.emissions.intensity_vs_sector"
    full_ratio = _number(ivs["full_ratio"], f"{key}.full_ratio", low=0.0)
    if _number(ivs["zero_ratio"], f"{key}.zero_ratio", low=0.0) <= full_ratio:
        raise MethodologyError(f"{key}.zero_ratio: must be above full_ratio ({full_ratio:g})")
    _number(ivs["undisclosed_ratio"], f"{key}.undisclosed_ratio", low=1.0)
    _validate_basis(config, ivs, key)
    min_peers = config["items"]["emissions"]["peer_percentile"]["min_peers"]
    if isinstance(min_peers, bool) or not isinstance(min_peers, int) or min_peers < 2:
        raise MethodologyError("items.emissions.peer_percentile.min_peers: a whole number >= 2")
    ladders = {
        "items.targets.target_status.ladder": TARGET_STATUSES,
        "items.data_quality.verification.ladder": VERIFICATION_LEVELS,
        "items.data_quality.data_source.ladder": DATA_SOURCES,
    }
    for key, choices in ladders.items():
        dim, item = key.split(".")[1:3]
        spec = config["items"][dim][item]
        if set(spec["ladder"]) != set(choices):
            raise MethodologyError(f"{key}: expected points for {', '.join(choices)}")
        for choice in choices:
            _number(spec["ladder"][choice], f"{key}.{choice}", low=0.0, high=spec["points"])
    if set(config["capability"]) != {"none", *MATURITY_LEVELS}:
        raise MethodologyError("capability: expected a level for none and every maturity level")


def _validate_basis(config: dict, ivs: dict, key: str) -> None:
    """The emissions basis of the intensity item and the sector reference's margins option."""
    basis = ivs.get("emissions_basis", "scope1_2")
    if basis not in EMISSIONS_BASES:
        raise MethodologyError(
            f"{key}.emissions_basis: expected one of {', '.join(EMISSIONS_BASES)}, got {basis!r}"
        )
    if basis == "cradle_to_gate":
        if "scope12_only_min_ratio" not in ivs:
            raise MethodologyError(f"{key}.scope12_only_min_ratio: required with cradle_to_gate")
        _number(ivs["scope12_only_min_ratio"], f"{key}.scope12_only_min_ratio", low=1.0)
    reference = config.get("sector_reference")
    if reference is None:
        return
    if not isinstance(reference, dict) or reference.get("margins") not in REFERENCE_MARGINS:
        got = reference.get("margins") if isinstance(reference, dict) else reference
        raise MethodologyError(
            f"sector_reference.margins: expected {' or '.join(REFERENCE_MARGINS)}, got {got!r}"
        )
