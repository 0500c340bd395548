"""Command-line groups ``factors`` and ``spend`` (click), attached to the main command elsewhere.

``factors`` manages the file-based factor store (import, list, show); ``spend estimate`` turns
a ledger file into an estimate file, with no database involved. Errors exit non-zero with the
full list of row problems.
"""

from __future__ import annotations

from pathlib import Path

import click

from .currency import ConversionError
from .datasets import (
    FORMATS,
    DatasetError,
    import_dataset,
    list_datasets,
    load_dataset,
    resolve_store_root,
)
from .estimate import estimate
from .ledger import LedgerError, read_ledger, write_csv

__all__ = ["factors", "spend"]

_PROGRESS_MIN_ROWS = 100_000


def _store_option(func):
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Factor store folder (default: $FACTOR_STORE, else ./instance/factors).",
    )(func)


@click.group("factors")
def factors() -> None:
    """Import, list and inspect emission factor datasets."""


@factors.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="File layout.")
@click.option("--dataset", "name", default=None, help="Dataset name (useeio-csv: 'useeio').")
@click.option("--version", "version", default=None, help="Dataset version (useeio-csv: '1.2').")
@click.option("--replace", is_flag=True, help="Overwrite an already imported version.")
@click.option(
    "--meta",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a metadata field (publisher, licence, gwp_set, source_url, ...).",
)
@_store_option
def import_cmd(
    file: Path,
    fmt: str,
    name: str | None,
    version: str | None,
    replace: bool,
    meta: tuple[str, ...],
    store: Path | None,
) -> None:
    """Import a factor FILE into the store as a new dataset version."""
    overrides = {}
    for item in meta:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--meta")
        overrides[key.strip()] = value.strip()
    try:
        report = import_dataset(
            file,
            fmt,
            name=name,
            version=version,
            store_root=store,
            replace=replace,
            metadata=overrides,
        )
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    m = report.metadata
    verb = "Replaced" if report.replaced else "Imported"
    click.echo(
        f"{verb} {report.rows} factors as {m.name} {m.version} "
        f"({m.unit}, price year {m.price_year}, {m.classification}) -> {report.path}"
    )
    if report.warnings:
        click.echo(f"{len(report.warnings)} import warning(s) (rows kept):")
        for w in report.warnings:
            click.echo(f"  warning: {w}")


@factors.command("list")
@_store_option
def list_cmd(store: Path | None) -> None:
    """List the built-in starter set and every imported dataset version."""
    click.echo(f"Factor store: {resolve_store_root(store)}")
    try:
        items = list_datasets(store)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{'NAME':<16} {'VERSION':<16} {'ROWS':>6}  {'UNIT':<20} {'CLASSIFICATION':<14} PUBLISHER"
    )
    for m in items:
        label = f"{m.unit} {m.price_year}"
        tag = " [built-in starter set]" if m.starter else ""
        click.echo(
            f"{m.name:<16} {m.version:<16} {m.row_count:>6}  {label:<20} "
            f"{m.classification:<14} {m.publisher[:60]}{tag}"
        )


@factors.command("show")
@click.argument("dataset")
@click.argument("code")
@click.option("--version", default=None, help="Dataset version (default: latest).")
@_store_option
def show_cmd(dataset: str, code: str, version: str | None, store: Path | None) -> None:
    """Show one factor CODE of DATASET with its provenance."""
    try:
        ds = load_dataset(dataset, version, store_root=store)
        row = ds.get(code)
    except (DatasetError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("\"'")) from exc
    m = ds.metadata
    click.echo(f"{row['code']}  {row['title']}")
    click.echo(f"  dataset:          {m.name} {m.version} ({m.classification})")
    for basis in ("purchaser", "producer"):
        value = row[f"{basis}_factor"]
        if basis in m.price_bases and value == value:
            click.echo(f"  {basis + ' price:':<17} {value:g} {m.factor_unit(basis)}")
    if row.get("margin") == row.get("margin"):
        click.echo(f"  margins:          {row['margin']:g}")
    if row.get("reference_code"):
        click.echo(f"  reference code:   {row['reference_code']}")
    if row.get("flags"):
        click.echo(f"  import flags:     {row['flags']}")
    click.echo(f"  source:           {row.get('source') or m.source_url}")
    click.echo(f"  publisher:        {m.publisher}; licence: {m.licence}; GWP: {m.gwp_set}")


@click.group("spend")
def spend() -> None:
    """Spend-based estimation of purchased goods and services."""


@spend.command("estimate")
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", default="starter", show_default=True, help="Factor dataset name.")
@click.option("--version", default=None, help="Dataset version (default: latest).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output CSV (input columns + kg_co2e + provenance).",
)
@click.option(
    "--price-basis",
    type=click.Choice(["purchaser", "producer"]),
    default="purchaser",
    show_default=True,
)
@click.option("--by-supplier", is_flag=True, help="Also write a per-supplier summary CSV.")
@click.option(
    "--summary-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Summary path (default: <OUT stem>_by_supplier.csv next to OUT).",
)
@click.option(
    "--review-threshold",
    type=click.FloatRange(0, 100),
    default=80.0,
    show_default=True,
    help="Classification confidence below which lines go to review.",
)
@click.option("--encoding", default=None, help="Ledger encoding (default: detect).")
@_store_option
def estimate_cmd(
    ledger: Path,
    dataset: str,
    version: str | None,
    out: Path,
    price_basis: str,
    by_supplier: bool,
    summary_out: Path | None,
    review_threshold: float,
    encoding: str | None,
    store: Path | None,
) -> None:
    """Estimate kg CO2e for every line of LEDGER (CSV or XLSX) and write OUT."""
    try:
        ds = load_dataset(dataset, version, store_root=store)
        click.echo(f"Reading {ledger} ...", err=True)
        lines = read_ledger(ledger, encoding=encoding)
        click.echo(f"Read {len(lines):,} lines (encoding {lines.attrs.get('encoding')}).", err=True)
        click.echo(f"Estimating with {ds.name} {ds.version} at {price_basis} prices ...", err=True)
        result = estimate(lines, ds, price_basis=price_basis, review_threshold=review_threshold)
    except LedgerError as exc:
        raise click.ClickException(f"invalid ledger {ledger}\n{exc}") from exc
    except (DatasetError, ConversionError) as exc:
        raise click.ClickException(str(exc)) from exc
    n = len(result.lines)
    if n >= _PROGRESS_MIN_ROWS:
        with click.progressbar(
            length=n, label=f"Writing {out}", file=click.get_text_stream("stderr")
        ) as bar:
            write_csv(result.lines, out, progress=bar.update)
    else:
        write_csv(result.lines, out)
    s = result.stats
    click.echo(
        f"Wrote {out}: {n:,} lines, {int(s['estimated']):,} estimated, "
        f"{int(s['needs_review']):,} need review; total {s['kg_co2e']:,.1f} kg CO2e "
        f"({ds.name} {ds.version}, {price_basis} prices)"
    )
    if by_supplier:
        target = summary_out or out.with_name(f"{out.stem}_by_supplier.csv")
        write_csv(result.by_supplier(), target)
        click.echo(f"Wrote supplier summary {target}")
