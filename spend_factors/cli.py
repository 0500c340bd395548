"""Command-line groups ``factors`` and ``spend`` (click), attached to the main command elsewhere.

``factors`` manages the file-based factor store (import, list, show); ``spend estimate`` turns
a ledger file into an estimate file, with no database involved. Errors exit non-zero with the
full list of row problems.

The factor store is ``--store``, else the root a host command put in ``ctx.meta[STORE_KEY]``
(the ``supplychain`` command puts its settings' store there), else ``$FACTOR_STORE``, else
``./instance/factors``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .currency import ConversionError
from .datasets import (
    FORMATS,
    MARGIN_OPTIONS,
    DatasetError,
    import_dataset,
    list_datasets,
    load_dataset,
    margins_label,
    margins_option,
    resolve_store_root,
)
from .estimate import estimate
from .ledger import LedgerError, read_ledger, write_csv

__all__ = [
    "STORE_KEY",
    "factors",
    "margins_options",
    "resolve_margins_flags",
    "spend",
    "store_option",
]

_PROGRESS_MIN_ROWS = 100_000
STORE_KEY = "spend_factors.store_root"


def _default_store(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """``--store`` if given, else the host command's store, else the library default."""
    if value is not None:
        return value
    return resolve_store_root(ctx.meta.get(STORE_KEY))


def store_option(func):
    """``--store DIR``; when absent, the host command's store (``ctx.meta[STORE_KEY]``)."""
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        callback=_default_store,
        help="Factor store folder (default: the installation's store; standalone: "
        "$FACTOR_STORE, else ./instance/factors).",
    )(func)


def margins_options(func):
    """``--margins include|exclude`` and its deprecated alias ``--price-basis``."""
    func = click.option(
        "--price-basis",
        "price_basis",
        type=click.Choice(["purchaser", "producer"]),
        default=None,
        help="Deprecated alias of --margins: purchaser = include, producer = exclude.",
    )(func)
    return click.option(
        "--margins",
        type=click.Choice(MARGIN_OPTIONS),
        default=None,
        help="Factor boundary: include (default; cradle to the point of sale: production plus "
        "transport, wholesale and retail margins) or exclude (cradle to the point of "
        "production; both are per purchaser-price dollar for EPA).",
    )(func)


def resolve_margins_flags(margins: str | None, price_basis: str | None) -> str:
    """The margins option from the two flags; the old one prints what it now means."""
    if price_basis is None:
        return margins_option(margins)
    mapped = margins_option(price_basis)
    click.echo(
        f"warning: --price-basis is deprecated; --price-basis {price_basis} means "
        f"--margins {mapped} (factors {margins_label(mapped)}; the EPA factors are per "
        "purchaser-price dollar either way)",
        err=True,
    )
    if margins is not None and margins != mapped:
        raise click.UsageError(
            f"--price-basis {price_basis} (= --margins {mapped}) contradicts --margins {margins}"
        )
    return mapped


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
@store_option
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
@store_option
def list_cmd(store: Path | None) -> None:
    """List the built-in starter set and every imported dataset version."""
    click.echo(f"Factor store: {store}")
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
@store_option
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
    for option in MARGIN_OPTIONS:
        value = row[ds.factor_column(option)] if option in m.margins else float("nan")
        if value == value:
            click.echo(f"  {margins_label(option) + ':':<17} {value:g} {m.factor_unit(option)}")
    if row.get("margin") == row.get("margin"):
        click.echo(f"  of which margins: {row['margin']:g}")
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
@margins_options
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
@store_option
def estimate_cmd(
    ledger: Path,
    dataset: str,
    version: str | None,
    out: Path,
    margins: str | None,
    price_basis: str | None,
    by_supplier: bool,
    summary_out: Path | None,
    review_threshold: float,
    encoding: str | None,
    store: Path | None,
) -> None:
    """Estimate kg CO2e for every line of LEDGER (CSV or XLSX) and write OUT."""
    option = resolve_margins_flags(margins, price_basis)
    try:
        ds = load_dataset(dataset, version, store_root=store)
        click.echo(f"Reading {ledger} ...", err=True)
        lines = read_ledger(ledger, encoding=encoding)
        click.echo(f"Read {len(lines):,} lines (encoding {lines.attrs.get('encoding')}).", err=True)
        click.echo(
            f"Estimating with {ds.name} {ds.version}, factors {margins_label(option)} ...",
            err=True,
        )
        result = estimate(lines, ds, margins=option, review_threshold=review_threshold)
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
        f"({ds.name} {ds.version}, factors {margins_label(option)})"
    )
    if by_supplier:
        target = summary_out or out.with_name(f"{out.stem}_by_supplier.csv")
        write_csv(result.by_supplier(), target)
        click.echo(f"Wrote supplier summary {target}")
