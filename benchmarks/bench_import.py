"""Benchmark of the supplier importer against its goal: 100,000 rows in at most 10 s on SQLite.

Standalone: `python benchmarks/bench_import.py [--rows N] [--quick]`. It writes a deterministic
supplier CSV (Chinese and English names, several countries) and a fresh migrated SQLite database
into a temporary folder, times `import_suppliers` with full validation, and times a plain `csv`
parse of the same file as the floor any importer has to stand on.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from supplychain import migrate  # noqa: E402
from supplychain.db import session_factory  # noqa: E402
from supplychain.importer import import_suppliers  # noqa: E402
from supplychain.models import Organization, OrgKind, SupplierRelationship  # noqa: E402

TARGET_SECONDS = 10.0
CN_PREFIXES = ["上海", "苏州", "宁波", "广州", "深圳", "杭州", "无锡", "东莞", "青岛", "厦门"]
CN_TRADES = ["纺织", "印染", "服装", "皮革", "五金", "包装", "化工", "塑料", "电子", "物流"]
EN_WORDS = ["Textile", "Garment", "Dyeing", "Leather", "Packaging", "Trims", "Knitting"]
EN_PLACES = ["Hanoi", "Dhaka", "Istanbul", "Porto", "Chennai", "Phnom Penh", "Jakarta"]
COUNTRIES = ["CN", "CN", "CN", "VN", "BD", "TR", "PT", "IN", "KH", "ID", "中国", "越南"]
CURRENCIES = ["CNY", "USD", "EUR", "CNY"]
CATEGORIES = ["fabric", "trims", "packaging", "cut-make-trim", "logistics", "面料", "辅料"]
STATUSES = ["active", "active", "active", "under_review", "delisted", "合作中"]
HEADER = [
    "supplier_code",
    "name",
    "name_en",
    "registration_id",
    "country",
    "sector_code",
    "category",
    "tier",
    "status",
    "annual_spend",
    "currency",
    "spend_year",
]


def write_supplier_csv(path: Path, rows: int, seed: int = 20240601) -> None:
    """The same file for the same row count and seed, so runs are comparable."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(1, rows + 1):
            if rng.random() < 0.5:
                name = f"{rng.choice(CN_PREFIXES)}{rng.choice(CN_TRADES)}有限公司{number}"
                name_en = ""
                registration = f"91{rng.randrange(10**15, 10**16)}{number % 100:02d}"
            else:
                name = f"{rng.choice(EN_PLACES)} {rng.choice(EN_WORDS)} Co. {number}"
                name_en = name
                registration = ""
            writer.writerow(
                [
                    f"SUP-{number:06d}",
                    name,
                    name_en,
                    registration,
                    rng.choice(COUNTRIES),
                    rng.choice(["313310", "315990", "322220", "325110", ""]),
                    rng.choice(CATEGORIES),
                    rng.choice([1, 1, 1, 2, 2, 3]),
                    rng.choice(STATUSES),
                    f"{rng.uniform(1_000, 5_000_000):.2f}",
                    rng.choice(CURRENCIES),
                    rng.choice([2023, 2024]),
                ]
            )


def time_csv_parse(path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        count = sum(1 for _ in csv.reader(handle))
    elapsed = time.perf_counter() - start
    assert count > 1
    return elapsed


def time_import(path: Path, database: Path) -> tuple[float, int]:
    url = f"sqlite:///{database}"
    migrate.upgrade(url)
    session = session_factory(url)()
    try:
        brand = Organization(slug="bench-brand", kind=OrgKind.BRAND, name="Bench Brand")
        session.add(brand)
        session.commit()
        start = time.perf_counter()
        report = import_suppliers(session, brand, path)
        session.commit()
        elapsed = time.perf_counter() - start
        stored = session.scalar(select(func.count()).select_from(SupplierRelationship))
        if report.inserted != stored or report.problems:
            raise SystemExit(f"benchmark import went wrong: {report.format_text(10)}")
        return elapsed, stored
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5,000 rows, for a smoke run")
    args = parser.parse_args(argv)
    rows = 5_000 if args.quick else args.rows
    label = f"import_suppliers_{rows // 1000}k" if rows % 1000 == 0 else f"import_{rows}"
    target = TARGET_SECONDS * rows / 100_000

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        source = folder / "suppliers.csv"
        write_supplier_csv(source, rows)
        baseline = time_csv_parse(source)
        elapsed, stored = time_import(source, folder / "bench.db")
    ratio = elapsed / baseline if baseline else float("inf")
    print(
        f"{label}: {elapsed:.2f} s (target ≤ {target:g} s) | baseline csv parse: "
        f"{baseline:.2f} s | ratio {ratio:.1f}x | {stored} suppliers stored"
    )
    return 0 if elapsed <= target else 1


if __name__ == "__main__":
    sys.exit(main())
