"""Spend-based estimation: known values, invariances, provenance, classification and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spend_factors import LedgerError, estimate
from spend_factors.estimate import OUTPUT_COLUMNS

PROVENANCE = [
    "factor_dataset",
    "factor_version",
    "factor_code",
    "factor_unit",
    "converted_currency",
    "conversions",
    "classification_method",
]


def test_known_value_cement_with_real_epa_file(epa_dataset, make_ledger):
    df = make_ledger(naics=["327310"], amount=[1000.0], currency=["USD"], year=[2021])
    res = estimate(df, epa_dataset)
    row = res.lines.iloc[0]
    assert row["kg_co2e"] == pytest.approx(3858.0)
    assert row["factor_dataset"] == "useeio" and row["factor_version"] == "1.2"
    producer = estimate(df, epa_dataset, price_basis="producer").lines.iloc[0]
    assert producer["kg_co2e"] == pytest.approx(3768.0)


def test_known_value_cement_with_starter(starter, make_ledger):
    df = make_ledger(naics=["327310"], amount=["1000"], currency=["usd"], year=["2021"])
    row = estimate(df, starter).lines.iloc[0]
    assert row["kg_co2e"] == pytest.approx(3858.0)
    assert row["factor_value"] == pytest.approx(3.858)
    assert row["factor_unit"] == "kg CO2e/USD2021 purchaser price"
    assert row["conversions"] == "USD 2021 (no conversion)"
    assert row["dq_score"] == 3.0 and row["uncertainty_pct"] == 50.0
    assert not row["needs_review"]


def test_cny_spend_is_converted_then_deflated(starter, make_ledger):
    df = make_ledger(naics=["331110"], amount=[71896.0], currency=["CNY"], year=[2024])
    row = estimate(df, starter).lines.iloc[0]
    assert row["conversions"].startswith("CNY→USD@2024 rate 7.1896; USD 2024→2021 deflator")
    deflator = float(row["conversions"].rsplit(" ", 1)[1])
    assert row["converted_amount"] == pytest.approx(10000 * deflator, rel=1e-4)
    assert row["kg_co2e"] == pytest.approx(row["converted_amount"] * 0.979)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=15),
    cur=st.sampled_from(["CNY", "USD", "EUR"]),
    year=st.integers(2015, 2025),
    k=st.floats(0.001, 1000),
)
def test_scaling_invariance(starter, make_ledger, amounts, cur, year, k):
    n = len(amounts)
    codes = list(np.resize(["327310", "334413", "484121"], n))
    df = make_ledger(amount=amounts, currency=[cur] * n, year=[year] * n, naics=codes)
    base = estimate(df, starter).lines["kg_co2e"].to_numpy()
    doubled = estimate(df.assign(amount=[2 * a for a in amounts]), starter)
    np.testing.assert_allclose(doubled.lines["kg_co2e"], 2 * base, rtol=1e-12, atol=1e-9)
    scaled = estimate(df.assign(amount=[k * a for a in amounts]), starter)
    np.testing.assert_allclose(scaled.lines["kg_co2e"], k * base, rtol=1e-9, atol=1e-6)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    a=st.floats(0, 1e8, allow_nan=False),
    b=st.floats(0, 1e8, allow_nan=False),
    cur=st.sampled_from(["CNY", "USD", "EUR", "GBP", "JPY"]),
    year=st.integers(2015, 2025),
)
def test_monotone_and_additive_in_amount(starter, make_ledger, a, b, cur, year):
    df = make_ledger(
        amount=[a, b, a + b], currency=[cur] * 3, year=[year] * 3, naics=["325211"] * 3
    )
    kg = estimate(df, starter).lines["kg_co2e"].to_numpy()
    assert kg[2] == pytest.approx(kg[0] + kg[1], rel=1e-9, abs=1e-9)
    if a <= b:
        assert kg[0] <= kg[1]


def test_every_row_has_provenance(starter, make_ledger):
    df = make_ledger(
        amount=[100, 200, 300, 400, 500, 600],
        currency=["USD", "CNY", "EUR", "GBP", "JPY", "CNY"],
        year=[2021, 2022, 2019, 2023, 2024, 2020],
        naics=["327310", "", "", "", "", ""],
        supplier_naics=["", "334413", "", "", "", ""],
        isic=["", "", "2410", "", "", ""],
        gbt4754=["", "", "", "C3130", "", ""],
        description=["", "", "", "", "塑料粒子", "custom computer programming services"],
    )
    out = estimate(df, starter).lines
    assert list(out.columns[: len(df.columns)]) == list(df.columns)
    assert set(OUTPUT_COLUMNS) <= set(out.columns)
    assert not out["needs_review"].any()
    for col in PROVENANCE:
        assert out[col].notna().all() and (out[col].astype(str).str.len() > 0).all(), col
    assert out["kg_co2e"].notna().all()
    assert out["dq_score"].between(1, 5).all()
    assert (out["price_year"] == 2021).all()


def test_classification_order(starter, make_ledger):
    df = make_ledger(
        amount=[1.0] * 6,
        naics=["327310", "", "", "", "", ""],
        supplier_naics=["334413", "334413", "", "", "", ""],
        isic=["13", "13", "13", "", "", ""],
        gbt4754=["31", "31", "31", "31", "", ""],
        description=["钢材"] * 5 + [""],
    )
    out = estimate(df, starter).lines
    assert out["classification_method"].tolist() == [
        "explicit",
        "supplier",
        "crosswalk-isic",
        "crosswalk-gbt4754",
        "text-match",
        "unclassified",
    ]
    assert out["factor_code"].tolist()[:5] == ["327310", "334413", "313210", "331110", "331110"]
    assert out["classification_confidence"].tolist()[:4] == [100.0, 95.0, 85.0, 85.0]
    dq = out["dq_score"].tolist()
    assert dq[0] < dq[1] < dq[2] == dq[3] < dq[4]
    assert out["needs_review"].tolist() == [False] * 5 + [True]
    assert np.isnan(out["kg_co2e"].iloc[5])


def test_chinese_and_english_descriptions_match(starter, make_ledger):
    df = make_ledger(
        amount=[1.0] * 4,
        description=["热轧钢材 Q235", "塑料粒子 PP", "PCBA贴片", "Cement manufacturing"],
    )
    out = estimate(df, starter).lines
    assert out["factor_code"].tolist() == ["331110", "325211", "334418", "327310"]
    assert (out["classification_confidence"] >= 80).all()


def test_low_confidence_text_match_goes_to_review(starter, make_ledger):
    df = make_ledger(amount=[500.0, 100.0], description=["misc office sundries", "钢材"])
    res = estimate(df, starter)
    first = res.lines.iloc[0]
    assert first["classification_method"] == "text-match"
    assert first["classification_confidence"] < 80
    assert first["needs_review"]
    assert np.isnan(first["kg_co2e"]) and pd.isna(first["factor_code"])
    assert "below threshold 80" in first["review_reason"]
    assert res.review["line_id"].tolist() == ["L1"]
    # a threshold of 0 accepts the guess; 95 sends even the keyword match to review
    assert not estimate(df, starter, review_threshold=0).lines["needs_review"].any()
    assert estimate(df, starter, review_threshold=95).lines["needs_review"].all()


def test_crosswalk_without_factor_goes_to_review(starter, make_ledger):
    df = make_ledger(amount=[1.0, 1.0], isic=["35", "01"])
    out = estimate(df, starter).lines
    assert out["needs_review"].all()
    assert "no representative NAICS" in out["review_reason"].iloc[0]
    assert "not in dataset starter" in out["review_reason"].iloc[1]


def test_errors_name_rows_columns_values_and_rules(starter, make_ledger):
    df = make_ledger(
        line_id=["A1", "A2", "A3", "A4", "A5"],
        amount=["10", "-5", "ten", "10", "10"],
        currency=["USD", "USD", "USD", "XXX", "USD"],
        year=["2021", "2021", "2021", "2021", "1999"],
        naics=["999999", "327310", "327310", "327310", "327310"],
    )
    with pytest.raises(LedgerError) as info:
        estimate(df, starter)
    problems = {(p.line_number, p.line_id, p.column, p.value): p.rule for p in info.value.problems}
    assert "unknown code" in problems[(1, "A1", "naics", "999999")]
    assert "negative amount" in problems[(2, "A2", "amount", "-5")]
    assert "non-numeric amount" in problems[(3, "A3", "amount", "ten")]
    assert "unknown currency" in problems[(4, "A4", "currency", "XXX")]
    assert "not covered" in problems[(5, "A5", "year", "1999")]
    assert len(info.value.problems) == 5
    msg = str(info.value)
    assert "row 2, line_id A2, column 'amount', value '-5': negative amount" in msg


def test_missing_required_column(starter, make_ledger):
    with pytest.raises(LedgerError, match="column 'currency': missing required column"):
        estimate(make_ledger(naics=["327310"]).drop(columns=["currency"]), starter)


def test_collect_mode_keeps_going(starter, make_ledger):
    df = make_ledger(amount=["10", "-1"], naics=["327310", "327310"])
    res = estimate(df, starter, errors="collect")
    assert len(res.errors) == 1 and res.errors[0].line_id == "L2"
    assert res.lines["kg_co2e"].iloc[0] == pytest.approx(38.58)
    assert np.isnan(res.lines["kg_co2e"].iloc[1]) and res.lines["needs_review"].iloc[1]


def test_by_supplier_summary(starter, make_ledger):
    df = make_ledger(
        supplier_id=["S1", "S1", "S2"],
        amount=[1000.0, 1000.0, 10.0],
        naics=["327310", "541511", ""],
        description=["", "", "zzz qqq"],
    )
    summary = estimate(df, starter).by_supplier().set_index("supplier_id")
    assert summary.loc["S1", "kg_co2e"] == pytest.approx(3858 + 97)
    assert summary.loc["S1", "lines"] == 2
    assert summary.loc["S2", "lines_needing_review"] == 1
    assert summary.loc["S2", "kg_co2e"] == 0
    assert summary.loc["S1", "dq_score"] == pytest.approx(3.0)
