"""Loading, overriding and validating scoring methodologies."""

from __future__ import annotations

import json

import pytest

from questionnaires import load_definition, shipped_definitions
from scoring.methodology import (
    DIMENSIONS,
    MATURITY_LEVELS,
    Methodology,
    MethodologyError,
    latest_version,
    load_methodology,
    shipped_versions,
    validate_config,
)


def test_latest_shipped_version_is_loaded_by_default():
    method = load_methodology()
    assert isinstance(method, Methodology)
    assert method.version == latest_version() == "1.1"
    assert shipped_versions() == ["1.0", "1.1"]  # 1.0 stays: its runs can be re-computed
    assert set(method.weights) == set(DIMENSIONS)
    assert sum(method.weights.values()) == pytest.approx(1.0)
    assert method.bands == {
        "approved_min": 70.0,
        "conditional_min": 60.0,
        "correction_months": 3,
        "approve_without_disclosure": False,
    }
    assert list(method.maturity_level_dimensions) == list(MATURITY_LEVELS)


def test_config_is_json_and_hash_is_stable_and_sensitive():
    first, second = load_methodology("1.0"), load_methodology("1.0")
    assert json.loads(json.dumps(first.to_dict())) == first.config
    assert first.config_hash == second.config_hash
    assert len(first.config_hash) == 64
    changed = load_methodology(overrides={"bands": {"approved_min": 75}})
    assert changed.config_hash != first.config_hash
    copy = first.to_dict()
    copy["weights"]["emissions"] = 0.9
    assert first.config["weights"]["emissions"] == pytest.approx(0.35)


def test_equal_settings_hash_equally():
    assert (
        load_methodology(overrides={"bands": {"approved_min": 75}}).config_hash
        == load_methodology(overrides={"bands": {"approved_min": 75.0}}).config_hash
    )
    same_weights = {"emissions": 7, "targets": 4, "maturity": 5, "data_quality": 4}
    assert load_methodology(overrides={"weights": same_weights}).weights == pytest.approx(
        load_methodology().weights
    )


def test_partial_weight_override_is_merged_and_normalised():
    method = load_methodology(overrides={"weights": {"emissions": 1.0, "targets": 0.0}})
    total = 1.0 + 0.0 + 0.25 + 0.20
    assert method.weights["emissions"] == pytest.approx(1.0 / total)
    assert method.weights["targets"] == 0.0
    assert sum(method.weights.values()) == pytest.approx(1.0)
    assert method.config["weights"] == method.weights


def test_sbti_target_and_bands_override():
    method = load_methodology(
        overrides={
            "bands": {"approve_without_disclosure": True, "correction_months": 6},
            "sbti_target": {"share": 0.5, "year": 2028},
        }
    )
    assert method.bands["approve_without_disclosure"] is True
    assert method.bands["correction_months"] == 6
    assert method.bands["approved_min"] == 70.0
    assert method.config["sbti_target"] == {"share": 0.5, "year": 2028}


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"weights": {"emissions": -0.1}}, "weights.emissions"),
        ({"weights": {"emissions": "a lot"}}, "weights.emissions"),
        ({"weights": {"emissions": float("nan")}}, "weights.emissions"),
        ({"weights": dict.fromkeys(DIMENSIONS, 0)}, "weights"),
        ({"weights": {"price": 0.5}}, "weights.price"),
        ({"bands": {"conditional_min": 70}}, "bands.conditional_min"),
        ({"bands": {"approved_min": 101}}, "bands.approved_min"),
        ({"bands": {"correction_months": 0}}, "bands.correction_months"),
        ({"bands": {"correction_months": 2.5}}, "bands.correction_months"),
        ({"bands": {"approve_without_disclosure": "yes"}}, "bands.approve_without_disclosure"),
        ({"sbti_target": {"share": 1.5}}, "sbti_target.share"),
        ({"sbti_target": {"year": 1999}}, "sbti_target.year"),
        ({"items": {}}, "items"),
        ({"bands": [70, 60]}, "bands"),
    ],
)
def test_bad_overrides_are_refused_naming_the_key(overrides, names):
    with pytest.raises(MethodologyError) as err:
        load_methodology(overrides=overrides)
    assert str(err.value).startswith(names)


def test_unknown_version_names_the_shipped_ones():
    with pytest.raises(MethodologyError, match=r"'9\.9'.*shipped: 1\.0, 1\.1"):
        load_methodology("9.9")


def test_every_questionnaire_maturity_dimension_belongs_to_a_level():
    """A dimension outside the mapping would silently score nothing."""
    mapped = {d for dims in load_methodology().maturity_level_dimensions.values() for d in dims}
    tagged = set()
    for path in shipped_definitions():
        definition = load_definition(path)
        tagged |= {
            q.tags.maturity.dimension for q in definition.questions() if q.tags.maturity is not None
        }
    assert tagged
    assert tagged <= mapped


@pytest.mark.parametrize(
    ("path", "value", "names"),
    [
        (("items", "targets", "target_status", "ladder"), {"none": 0, "own": 25}, "items.targets"),
        (("items", "data_quality", "verification", "ladder", "limited"), 99, "items.data_quality"),
        (("capability",), {"none": "low"}, "capability"),
        (("maturity_letters", "awareness", "minus"), 0.9, "maturity_letters.awareness.minus"),
        (("benchmark", "annual_reduction_pct"), 0, "benchmark.annual_reduction_pct"),
        (
            ("items", "emissions", "intensity_vs_sector", "zero_ratio"),
            0.5,
            "items.emissions.intensity_vs_sector.zero_ratio",
        ),
        (
            ("items", "emissions", "intensity_vs_sector", "undisclosed_ratio"),
            0.8,
            "items.emissions.intensity_vs_sector.undisclosed_ratio",
        ),
        (("items", "emissions", "peer_percentile", "min_peers"), 1, "items.emissions.peer"),
        (
            ("items", "emissions", "intensity_vs_sector", "emissions_basis"),
            "scope3",
            "items.emissions.intensity_vs_sector.emissions_basis",
        ),
        (
            ("items", "emissions", "intensity_vs_sector", "scope12_only_min_ratio"),
            0.9,
            "items.emissions.intensity_vs_sector.scope12_only_min_ratio",
        ),
        (("sector_reference", "margins"), "producer", "sector_reference.margins"),
    ],
)
def test_a_new_version_file_is_checked_before_use(path, value, names):
    """Rubric values are not overridable, but a new version file goes through the same check."""
    config = load_methodology().to_dict()
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MethodologyError) as err:
        validate_config(config)
    assert str(err.value).startswith(names)


def test_version_1_1_changes_only_the_intensity_basis_and_the_reference():
    """1.1 is 1.0 plus the keys its changelog names; every other rubric number is the same."""
    old, new = load_methodology("1.0"), load_methodology("1.1")
    assert (old.emissions_basis, old.reference_margins) == ("scope1_2", None)
    assert (new.emissions_basis, new.reference_margins) == ("cradle_to_gate", "include")
    changed = new.to_dict()
    changed["version"] = "1.0"
    del changed["sector_reference"]
    ivs = changed["items"]["emissions"]["intensity_vs_sector"]
    assert ivs.pop("emissions_basis") == "cradle_to_gate"
    assert ivs.pop("scope12_only_min_ratio") == 1.0
    assert changed == old.config


def test_cradle_to_gate_basis_needs_its_floor():
    config = load_methodology().to_dict()
    del config["items"]["emissions"]["intensity_vs_sector"]["scope12_only_min_ratio"]
    with pytest.raises(MethodologyError, match="scope12_only_min_ratio: required"):
        validate_config(config)
