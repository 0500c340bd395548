"""Command line for importing a brand's suppliers and spend lines from CSV or XLSX files.

`supplychain import suppliers FILE --brand SLUG` and `supplychain import spend FILE --brand SLUG`
run one import in one transaction against the configured database and print its report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from supplychain.cli_support import organization_or_exit
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.importer import (
    IMPORTERS,
    ImportFileError,
    ImportValidationError,
    estimate_rows,
)

PROGRESS_BAR_MIN_ROWS = 2_000


@click.group("import")
def import_group() -> None:
    """Import suppliers or spend lines for a brand from CSV or XLSX files."""


def _file_argument(func: Callable) -> Callable:
    func = click.option(
        "--skip-invalid",
        is_flag=True,
        help="Import the valid rows and report the others (default: all or nothing).",
    )(func)
    func = click.option(
        "--encoding",
        default=None,
        help=(
            "Text encoding of a CSV file, e.g. utf-8, gb18030, big5, shift_jis, latin-1, "
            "cp1252, cp1251 (default: detected; a file whose encoding is unclear is refused "
            "with the candidates named)."
        ),
    )(func)
    func = click.option("--brand", "brand_slug", required=True, help="Slug of the brand.")(func)
    return click.argument(
        "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
    )(func)


@import_group.command("suppliers")
@_file_argument
def import_suppliers_command(
    file: Path, brand_slug: str, encoding: str | None, skip_invalid: bool
) -> None:
    """Create or update the brand's suppliers from FILE, matched by supplier code."""
    _run("suppliers", file, brand_slug, encoding, skip_invalid)


@import_group.command("spend")
@_file_argument
def import_spend_command(
    file: Path, brand_slug: str, encoding: str | None, skip_invalid: bool
) -> None:
    """Add the brand's spend lines from FILE; lines imported before are recognised."""
    _run("spend", file, brand_slug, encoding, skip_invalid)


@contextmanager
def _progress_reporter(file: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for big files; small files import before one would help."""
    expected = estimate_rows(file)
    if expected < PROGRESS_BAR_MIN_ROWS:
        yield None
        return
    with click.progressbar(length=expected, label=f"Importing {file.name}", file=sys.stderr) as bar:
        shown = 0

        def advance(rows_done: int) -> None:
            nonlocal shown
            step = min(rows_done, expected) - shown
            if step > 0:
                bar.update(step)
                shown += step

        yield advance


def _run(kind: str, file: Path, brand_slug: str, encoding: str | None, skip_invalid: bool) -> None:
    settings = load_settings()
    importer = IMPORTERS[kind]
    try:
        with unit_of_work(settings.database_url) as session:
            brand = organization_or_exit(session, brand_slug, brand=True)
            with _progress_reporter(file) as progress:
                report = importer(
                    session,
                    brand,
                    file,
                    encoding=encoding,
                    skip_invalid=skip_invalid,
                    progress=progress,
                    source_name=file.name,
                )
    except ImportValidationError as failure:
        click.echo(failure.report.format_text())
        click.echo(
            "Nothing was written: fix the rows above, or run again with --skip-invalid "
            "to import only the valid rows.",
            err=True,
        )
        raise SystemExit(1) from None
    except ImportFileError as failure:
        message = str(failure)
        if failure.code == "encoding_uncertain":
            example = (failure.params.get("candidates") or ["cp1252"])[0]
            message += f"\nRun again with --encoding, for example --encoding {example}."
        raise click.ClickException(message) from None
    click.echo(report.format_text())
    if report.batch_public_id:
        click.echo(f"Import batch {report.batch_public_id} recorded.")
