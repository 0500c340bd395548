"""The ``factors`` and ``spend`` click groups, driven through CliRunner."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from spend_factors.cli import factors, spend

LEDGER = (
    "line_id,supplier_id,amount,currency,year,naics,description\n"
    "L1,S1,1000,USD,2021,327310,\n"
    "L2,S1,7189.6,CNY,2024,,钢材\n"
    "L3,=S2,100,EUR,2022,541511,@bad\n"
    "L4,S3,50,USD,2021,,misc office sundries\n"
)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_import_list_show(runner, epa_file, tmp_path):
    store = tmp_path / "store"
    args = [
        "import",
        str(epa_file),
        "--format",
        "useeio-csv",
        "--dataset",
        "useeio",
        "--version",
        "1.2",
        "--store",
        str(store),
    ]
    res = runner.invoke(factors, args)
    assert res.exit_code == 0, res.output
    assert "Imported 1016 factors as useeio 1.2" in res.output
    assert "236210" in res.output and "excpet" in res.output
    again = runner.invoke(factors, args)
    assert again.exit_code != 0 and "--replace" in again.output
    assert runner.invoke(factors, [*args, "--replace"]).exit_code == 0

    listing = runner.invoke(factors, ["list", "--store", str(store)])
    assert listing.exit_code == 0
    assert "starter" in listing.output and "useeio" in listing.output and "1016" in listing.output

    show = runner.invoke(factors, ["show", "useeio", "327310", "--store", str(store)])
    assert show.exit_code == 0
    assert "Cement Manufacturing" in show.output
    assert "with margins:     3.858 kg CO2e/USD2021 purchaser price, with margins" in show.output
    assert "without margins:  3.768 kg CO2e/USD2021 purchaser price, without margins" in show.output
    assert "of which margins: 0.09" in show.output and "producer" not in show.output
    missing = runner.invoke(factors, ["show", "useeio", "000000", "--store", str(store)])
    assert missing.exit_code != 0 and "000000" in missing.output


def test_store_from_environment(runner, tmp_path, monkeypatch):
    src = tmp_path / "g.csv"
    src.write_text(
        "# currency: USD\n# price_year: 2021\n# classification: NAICS 2017\n"
        "code,title,purchaser_factor\n327310,Cement,3.9\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FACTOR_STORE", str(tmp_path / "envstore"))
    res = runner.invoke(
        factors,
        ["import", str(src), "--format", "generic-csv", "--dataset", "mine", "--version", "1"],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "envstore" / "mine" / "1" / "metadata.json").is_file()
    show = runner.invoke(factors, ["show", "mine", "327310"])
    assert "3.9" in show.output


def test_spend_estimate_with_starter_and_summary(runner, tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    out = tmp_path / "out" / "est.csv"
    res = runner.invoke(
        spend, ["estimate", str(ledger), "--dataset", "starter", "--out", str(out), "--by-supplier"]
    )
    assert res.exit_code == 0, res.output
    assert "1 need review" in res.output
    df = pd.read_csv(out, keep_default_na=False)
    assert float(df.loc[0, "kg_co2e"]) == pytest.approx(3858.0)
    assert df.loc[1, "classification_method"] == "text-match"
    assert df.loc[2, "supplier_id"] == "'=S2" and df.loc[2, "description"] == "'@bad"
    assert str(df.loc[3, "needs_review"]) == "True" and df.loc[3, "kg_co2e"] == ""
    assert pd.api.types.is_float_dtype(pd.read_csv(out)["kg_co2e"])
    summary = pd.read_csv(tmp_path / "out" / "est_by_supplier.csv")
    assert set(summary["supplier_id"]) == {"S1", "'=S2", "S3"}
    s1 = summary.set_index("supplier_id").loc["S1"]
    assert s1["kg_co2e"] == pytest.approx(df.loc[:1, "kg_co2e"].astype(float).sum())


def test_spend_estimate_real_dataset_producer_and_summary_out(runner, epa_store, tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    out = tmp_path / "est.csv"
    summary = tmp_path / "sums.csv"
    res = runner.invoke(
        spend,
        [
            "estimate",
            str(ledger),
            "--dataset",
            "useeio",
            "--version",
            "1.2",
            "--out",
            str(out),
            "--margins",
            "exclude",
            "--by-supplier",
            "--summary-out",
            str(summary),
            "--review-threshold",
            "95",
            "--store",
            str(epa_store),
        ],
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert df.loc[0, "kg_co2e"] == pytest.approx(3768.0)
    assert df.loc[1, "needs_review"]  # keyword match (90) below threshold 95
    assert "factors without margins" in res.stdout and "deprecated" not in res.stderr
    assert pd.read_csv(summary)["margins"].tolist() == ["exclude", "exclude", "exclude"]


@pytest.mark.parametrize(
    ("flag", "kg", "means"),
    [("producer", 3768.0, "--margins exclude"), ("purchaser", 3858.0, "--margins include")],
)
def test_deprecated_price_basis_flag_says_what_it_means(runner, tmp_path, flag, kg, means):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    out = tmp_path / "est.csv"
    res = runner.invoke(spend, ["estimate", str(ledger), "--out", str(out), "--price-basis", flag])
    assert res.exit_code == 0, res.output
    assert f"--price-basis is deprecated; --price-basis {flag} means {means}" in res.stderr
    assert pd.read_csv(out).loc[0, "kg_co2e"] == pytest.approx(kg)
    clash = runner.invoke(
        spend,
        [
            "estimate",
            str(ledger),
            "--out",
            str(out),
            "--price-basis",
            "producer",
            "--margins",
            "include",
        ],
    )
    assert clash.exit_code != 0 and "contradicts --margins include" in clash.output


def test_supplychain_command_passes_its_store_without_environment(tmp_path, monkeypatch):
    from supplychain.cli import main

    instance = tmp_path / "instance"
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(instance))
    monkeypatch.delenv("FACTOR_STORE", raising=False)
    src = tmp_path / "g.csv"
    src.write_text(
        "# currency: USD\n# price_year: 2021\n# classification: NAICS 2017\n"
        "code,title,purchaser_factor\n327310,Cement,3.9\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "factors",
            "import",
            str(src),
            "--format",
            "generic-csv",
            "--dataset",
            "mine",
            "--version",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (instance / "factors" / "mine" / "1" / "metadata.json").is_file()
    listing = runner.invoke(main, ["factors", "list"])
    assert f"Factor store: {instance / 'factors'}" in listing.output and "mine" in listing.output
    assert "FACTOR_STORE" not in os.environ
    other = tmp_path / "other"
    explicit = runner.invoke(main, ["factors", "list", "--store", str(other)])
    assert f"Factor store: {other}" in explicit.output and "mine" not in explicit.output


def test_spend_estimate_bad_rows_exit_nonzero(runner, tmp_path):
    ledger = tmp_path / "bad.csv"
    ledger.write_text(
        "line_id,supplier_id,amount,currency,year,naics\n"
        "A,S,-1,USD,2021,327310\nB,S,1,XXX,2021,327310\n"
        "C,S,1,USD,2021,123456\n",
        encoding="utf-8",
    )
    res = runner.invoke(spend, ["estimate", str(ledger), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code != 0
    assert "3 problem(s)" in res.output
    assert "line_id A" in res.output and "negative amount" in res.output
    assert "line_id B" in res.output and "unknown currency" in res.output
    assert "line_id C" in res.output and "unknown code" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_spend_estimate_gbk_and_encoding_option(runner, tmp_path):
    ledger = tmp_path / "gbk.csv"
    ledger.write_bytes(LEDGER.encode("gbk"))
    out = tmp_path / "o.csv"
    ok = runner.invoke(spend, ["estimate", str(ledger), "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(
        spend, ["estimate", str(ledger), "--out", str(out), "--encoding", "utf-8"]
    )
    assert wrong.exit_code != 0 and "cannot decode as utf-8" in wrong.output


def test_benchmark_quick_smoke(tmp_path, monkeypatch, capsys):
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_spend.py"
    spec = importlib.util.spec_from_file_location("bench_spend", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("SHARED_DATA_DIR", str(tmp_path))  # use the starter set: fast
    assert module.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "spend_estimate_20,000" in out and "results agree: True" in out
