"""Benchmark of the vectorised spend estimate against a naive per-row Python loop.

Generates a deterministic synthetic ledger (default 1,000,000 lines: CNY/USD/EUR, 2019-2024,
explicit NAICS codes, supplier codes, ISIC and GB/T 4754 crosswalks and free-text descriptions),
times ``spend_factors.estimate`` end to end with provenance, then times a straightforward
per-row loop doing the same work on a sample and extrapolates linearly.

Uses the real EPA file from ../shared/data (imported into a temporary store) when present,
otherwise the built-in starter dataset.

    python benchmarks/bench_spend.py [--lines N] [--baseline-sample N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spend_factors import estimate, import_dataset, load_dataset  # noqa: E402
from spend_factors.classification import crosswalk_table, keyword_table  # noqa: E402
from spend_factors.currency import default_tables  # noqa: E402
from spend_factors.datasets import FactorDataset  # noqa: E402

EPA_FILE = "supply_chain_ghg_factors_useeio_v1.2_naics2017_usd2021.csv"
TARGET_SECONDS = 5.0


def shared_data_dir() -> Path:
    return Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))


def pick_dataset(tmp: Path) -> FactorDataset:
    """The EPA file imported into a temporary store if available, else the starter set."""
    path = shared_data_dir() / EPA_FILE
    if path.is_file():
        import_dataset(path, "useeio-csv", "useeio", "1.2", store_root=tmp)
        return load_dataset("useeio", "1.2", store_root=tmp)
    return load_dataset("starter")


def synthetic_ledger(n: int, dataset: FactorDataset, seed: int = 20240501) -> pd.DataFrame:
    """Deterministic ledger mixing every classification route, currencies and years."""
    rng = np.random.default_rng(seed)
    codes = dataset.codes.to_numpy(dtype=object)
    isic = crosswalk_table("isic")
    isic_ok = isic.loc[isic["naics"].isin(dataset.codes), "division"].to_numpy(dtype=object)
    gbt = crosswalk_table("gbt4754")
    gbt_ok = gbt.loc[gbt["naics"].isin(dataset.codes), "division"].to_numpy(dtype=object)
    kw = keyword_table()
    kw_ok = kw.loc[kw["naics"].isin(dataset.codes), "keyword"].tolist()
    titles = dataset.factors["title"].tolist()
    pool = (
        [f"{k}采购" for k in kw_ok]
        + [t.lower() for t in titles[:150]]
        + ["misc office sundries", "year-end adjustment", "various items"]
    )
    pool_arr = np.array(pool, dtype=object)
    route = rng.choice(5, size=n, p=[0.6, 0.1, 0.1, 0.1, 0.1])
    empty = np.full(n, "", dtype=object)

    def fill(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        col = empty.copy()
        col[mask] = values[rng.integers(0, len(values), size=int(mask.sum()))]
        return col

    ids = np.char.add("L", np.arange(1, n + 1).astype(str)).astype(object)
    return pd.DataFrame(
        {
            "line_id": ids,
            "supplier_id": np.char.add("S", rng.integers(1, 5001, size=n).astype(str)).astype(
                object
            ),
            "amount": np.round(rng.lognormal(mean=8.0, sigma=1.5, size=n), 2),
            "currency": rng.choice(
                np.array(["CNY", "USD", "EUR"], dtype=object), size=n, p=[0.6, 0.25, 0.15]
            ),
            "year": rng.integers(2019, 2025, size=n),
            "naics": fill(route == 0, codes),
            "supplier_naics": fill(route == 1, codes),
            "isic": fill(route == 2, isic_ok),
            "gbt4754": fill(route == 3, gbt_ok),
            "description": fill(route == 4, pool_arr),
        }
    )


def baseline_loop(
    lines: pd.DataFrame, dataset: FactorDataset, threshold: float = 80
) -> pd.DataFrame:
    """What a straightforward implementation does: one Python iteration per ledger line."""
    tables = default_tables()
    rate = {}
    index = {}
    for c_i, cur in enumerate(tables.currencies):
        for y_i in range(tables.per_usd.shape[1]):
            rate[(cur, tables.first_year + y_i)] = tables.per_usd[c_i, y_i]
            index[(cur, tables.first_year + y_i)] = tables.index[c_i, y_i]
    fac = dict(zip(dataset.factors["code"], dataset.factors["purchaser_factor"], strict=True))
    titles = dataset.factors["title"].tolist()
    title_codes = dataset.factors["code"].tolist()
    isic = dict(
        zip(crosswalk_table("isic")["division"], crosswalk_table("isic")["naics"], strict=True)
    )
    gbt = dict(
        zip(
            crosswalk_table("gbt4754")["division"], crosswalk_table("gbt4754")["naics"], strict=True
        )
    )
    kw = keyword_table()
    keywords = sorted(
        ((k.lower(), c) for k, c in zip(kw["keyword"], kw["naics"], strict=True) if c in fac),
        key=lambda kc: -len(kc[0]),
    )
    to_cur, to_year = dataset.metadata.currency, dataset.metadata.price_year
    out = []
    for row in lines.itertuples(index=False):
        amount = float(row.amount)
        if amount < 0:
            raise ValueError(f"negative amount in {row.line_id}")
        cur, year = row.currency.upper(), int(row.year)
        r = rate[(cur, year)] / rate[(to_cur, year)]
        d = index[(to_cur, to_year)] / index[(to_cur, year)]
        parts = []
        if cur != to_cur:
            parts.append(f"{cur}→{to_cur}@{year} rate {r:.4f}")
        if year != to_year:
            parts.append(f"{to_cur} {year}→{to_year} deflator {d:.4f}")
        conversions = "; ".join(parts) or f"{to_cur} {to_year} (no conversion)"
        converted = amount / r * d
        code, method, conf = "", "unclassified", 0.0
        if row.naics:
            code, method, conf = row.naics, "explicit", 100.0
        elif row.supplier_naics:
            code, method, conf = row.supplier_naics, "supplier", 95.0
        elif row.isic:
            code, method, conf = isic.get(row.isic[:2], ""), "crosswalk-isic", 85.0
        elif row.gbt4754:
            code, method, conf = gbt.get(row.gbt4754[:2], ""), "crosswalk-gbt4754", 85.0
        elif row.description:
            method = "text-match"
            low = row.description.lower()
            for k, c in keywords:
                if k in low:
                    code, conf = c, 90.0
                    break
            else:
                best = process.extractOne(
                    row.description,
                    titles,
                    scorer=fuzz.token_sort_ratio,
                    processor=utils.default_process,
                )
                code, conf = title_codes[best[2]], best[1]
        review = conf < threshold or code not in fac
        factor = float("nan") if review else fac[code]
        out.append(
            {
                **row._asdict(),
                "kg_co2e": converted * factor,
                "factor_dataset": dataset.name,
                "factor_version": dataset.version,
                "factor_code": "" if review else code,
                "factor_value": factor,
                "converted_amount": converted,
                "conversions": conversions,
                "classification_method": method,
                "classification_confidence": conf,
                "needs_review": review,
            }
        )
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="20,000 lines (smoke test)")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else args.lines
    sample = min(args.baseline_sample, n, 5_000 if args.quick else args.baseline_sample)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = pick_dataset(Path(tmp))
        print(f"dataset: {dataset.name} {dataset.version} ({len(dataset.codes)} codes)")
        lines = synthetic_ledger(n, dataset)
        estimate(lines.head(1000), dataset)  # warm caches (tables, keyword list)
        t0 = time.perf_counter()
        result = estimate(lines, dataset)
        vec = time.perf_counter() - t0
        s = result.stats
        print(
            f"lines {n:,}: estimated {int(s['estimated']):,}, review {int(s['needs_review']):,},"
            f" total {s['kg_co2e'] / 1000:,.1f} t CO2e"
        )
        part = lines.iloc[:sample]
        t0 = time.perf_counter()
        base = baseline_loop(part, dataset)
        loop = (time.perf_counter() - t0) * n / sample
        check = result.lines["kg_co2e"].iloc[:sample].to_numpy()
        agree = np.allclose(base["kg_co2e"].to_numpy(), check, equal_nan=True)
    label = "spend_estimate_1M" if n == 1_000_000 else f"spend_estimate_{n:,}"
    extrap = f"extrapolated from {sample:,} lines" if sample < n else f"measured on {n:,} lines"
    print(
        f"{label}: {vec:.2f} s (target ≤ {TARGET_SECONDS:g} s at 1M) | baseline per-row loop: "
        f"{loop:.1f} s ({extrap}) | speed-up {loop / vec:.1f}x | results agree: {agree}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
