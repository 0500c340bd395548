"""``supplychain score``: score a brand's suppliers for a year and store the run, as a job.

Attached to the main command in ``supplychain/cli.py``. Without ``REDIS_URL`` the job runs
inline and the command prints the bands; with it, a worker runs the job.
"""

from __future__ import annotations

from collections.abc import Iterable

import click
from sqlalchemy.orm import Session

__all__ = ["describe_bands", "score_command", "score_demo", "score_demo_if_unscored"]

BAND_ORDER = ("approved", "conditional", "rejected")


def describe_bands(bands: dict, groups: dict) -> str:
    """ "6 approved, 5 conditional, 271 rejected; 14 disclosed, 268 not disclosed"."""
    counts = ", ".join(f"{bands.get(band, 0)} {band}" for band in BAND_ORDER)
    return (
        f"{counts}; {groups.get('disclosed', 0)} disclosed, "
        f"{groups.get('not_disclosed', 0)} not disclosed"
    )


def score_demo(session: Session, brand_id: int, years: Iterable[int]) -> str:
    """Score the demo brand for each year, oldest first (so scorecards have a history), in
    the caller's transaction; returns the line to print for the last year."""
    from scoring.service import run_scoring

    run = None
    for year in sorted(years):
        run = run_scoring(session, brand_id=brand_id, year=year)
    if run is None:
        return "scoring: no year given"
    summary = run.summary or {}
    return (
        f"scoring {run.reporting_year}: "
        f"{describe_bands(summary.get('bands', {}), summary.get('groups', {}))} "
        f"(see /console/scores)"
    )


def score_demo_if_unscored(session: Session, slug: str, years: Iterable[int]) -> str | None:
    """Score an already loaded demo brand that has never been scored (an instance created
    before scoring existed); None when it has runs or does not exist."""
    from sqlalchemy import select

    from scoring.queries import latest_run
    from supplychain.models import Organization

    brand = session.scalars(select(Organization).where(Organization.slug == slug)).first()
    if brand is None or latest_run(session, brand.id) is not None:
        return None
    return score_demo(session, brand.id, years)


@click.command("score")
@click.option("--brand", "brand_slug", required=True, help="brand slug")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="reporting year")
def score_command(brand_slug: str, year: int) -> None:
    """Score a brand's suppliers for a reporting year and store the run (as a job)."""
    from scoring.service import submit_scoring
    from supplychain.cli_support import organization_or_exit
    from supplychain.config import load_settings
    from supplychain.db import unit_of_work

    settings = load_settings()
    with unit_of_work(settings.database_url) as session:
        brand_id = organization_or_exit(session, brand_slug, brand=True).id
    job = submit_scoring(settings.database_url, settings.redis_url, brand_id=brand_id, year=year)
    if job.status.value == "queued":
        click.echo(f"queued as job {job.public_id}; a worker will run it")
        return
    if job.status.value == "failed":
        raise click.ClickException((job.error or "the scoring run failed").split("\n\n")[0])
    result = job.result
    click.echo(
        f"{brand_slug} {year}: {result['suppliers']} suppliers scored under methodology "
        f"{result['methodology_version']}: "
        f"{describe_bands(result.get('bands', {}), result.get('groups', {}))}"
    )
    actions = result.get("actions", {})
    click.echo(
        f"corrective actions: {actions.get('opened', 0)} opened, "
        f"{actions.get('updated', 0)} updated, {actions.get('closed', 0)} closed"
    )
    if result.get("warnings"):
        click.echo(f"{result['warnings']} warning(s) stored with the run")
    click.echo(f"run {result['run']}; see /console/scores?year={year}")
