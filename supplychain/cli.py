"""The `supplychain` command: database, server, worker, demo data, users, imports, factors."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import replace

import click
from sqlalchemy import select

from spend_factors.cli import STORE_KEY, margins_options, resolve_margins_flags
from supplychain import migrate
from supplychain.cli_support import organization_or_exit
from supplychain.config import Settings, load_settings
from supplychain.db import unit_of_work
from supplychain.models import Organization, OrgKind, Role


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Supply-chain carbon disclosure and supplier scoring service."""
    try:
        settings = load_settings()
    except ValueError as exc:  # a malformed setting: say which, without a traceback
        raise click.ClickException(str(exc)) from exc
    # The factor commands read their default store from here (the instance folder unless
    # FACTOR_STORE says otherwise); nothing is written to os.environ.
    ctx.meta[STORE_KEY] = settings.factor_store_path


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    url = load_settings().database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current_revision(url)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the schema)."""
    url = load_settings().database_url
    migrate.downgrade(url, revision)
    click.echo(f"database at revision {migrate.current_revision(url)}")


@db.command("current")
def db_current() -> None:
    """Show the applied and the latest revision."""
    url = load_settings().database_url
    click.echo(f"current {migrate.current_revision(url)}, head {migrate.head_revision(url)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers")
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the web application (gunicorn)."""
    settings = _with_base_url(load_settings(), host, port)
    if not migrate.is_up_to_date(settings.database_url):
        raise click.ClickException("the database is not migrated: run `supplychain db upgrade`")
    if dev:
        from web import create_app

        create_app(settings=settings).run(host=host, port=port, debug=True)
        return
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            # A gthread worker keeps every keep-alive connection it accepts; capping them makes
            # the other workers take their share instead of idling (measured by bench_web).
            self.cfg.set("worker_connections", 32)
            self.cfg.set("accesslog", "-")

        def load(self):
            from web import create_app

            return create_app(settings=settings)

    _Server().run()


def _with_base_url(settings: Settings, host: str, port: int) -> Settings:
    """Mailed links need the public address. On loopback it is this server's own address; on
    any other interface only the operator knows it (a proxy, a domain), so BASE_URL is required.
    """
    if settings.base_url:
        return settings
    if not _is_loopback(host):
        raise click.ClickException(
            f"BASE_URL is not set: serving on {host} needs the public address that invitation "
            "and reminder mails link to, e.g. BASE_URL=https://carbon.example.com"
        )
    address = f"[{host}]" if ":" in host else host
    return replace(settings, base_url=f"http://{address}:{port}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--burst", is_flag=True, help="exit when the queue is empty")
def worker(burst: bool) -> None:
    """Run an RQ worker for background jobs (needs REDIS_URL)."""
    settings = load_settings()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without it jobs run inline, no worker")
    from supplychain.jobs import run_worker
    from supplychain.jobs_cli import sweep

    reaped, purged = sweep(settings)  # jobs of workers that died before this one started
    click.echo(f"{len(reaped)} dead jobs marked failed, {purged} old failed uploads deleted")
    run_worker(settings.redis_url, burst=burst, upkeep=lambda: sweep(settings))


@main.command()
@click.option("--suppliers", "supplier_count", default=300, show_default=True, type=int)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="do nothing when the demo brand already exists")
@click.option(
    "--base-url",
    default=lambda: load_settings().base_url or "http://127.0.0.1:5000",
    show_default="BASE_URL or http://127.0.0.1:5000",
    help="portal address used in the demo invitation links",
)
def demo(supplier_count: int, seed: int, if_empty: bool, base_url: str) -> None:
    """Load deterministic demo data: one brand, suppliers over three tiers, a spend ledger."""
    from supplychain import demo as demo_data

    settings = load_settings()
    with unit_of_work(settings.database_url) as session:
        if demo_data.exists(session):
            if if_empty:
                click.echo("demo data already loaded")
                from scoring.cli import score_demo_if_unscored

                scored = score_demo_if_unscored(session, demo_data.DEMO_BRAND_SLUG, demo_data.YEARS)
                if scored:  # demo data loaded before scoring existed
                    click.echo(scored)
                click.echo(demo_data.describe_logins(demo_data.existing_logins(session)))
                return
            raise click.ClickException("demo data already loaded (database not empty)")
        summary = demo_data.load(session, suppliers=supplier_count, seed=seed)
        brand = session.scalars(
            select(Organization).where(Organization.slug == demo_data.DEMO_BRAND_SLUG)
        ).one()
        # The CLI is the entry point that ties the layers together for the demo.
        from questionnaires.demo import load_campaigns, status_counts

        load_campaigns(session, settings, brand, seed=seed, base_url=base_url)
        counts = status_counts(session, brand)
        footprint_line = demo_data.load_footprint(session, brand)
        from scoring.cli import score_demo

        scoring_line = score_demo(session, brand.id, demo_data.YEARS)
    click.echo(summary.describe())
    click.echo("campaign invitations: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    click.echo(footprint_line)
    click.echo(scoring_line)


@main.group()
def orgs() -> None:
    """Organisations."""


@orgs.command("create-brand")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--country", default=None)
@click.option("--currency", default="USD", show_default=True)
def create_brand(slug: str, name: str, country: str | None, currency: str) -> None:
    """Create a brand organisation to import suppliers into."""
    with unit_of_work(load_settings().database_url) as session:
        if session.scalars(select(Organization).where(Organization.slug == slug)).first():
            raise click.ClickException(f"an organisation with slug {slug!r} already exists")
        session.add(
            Organization(
                slug=slug,
                kind=OrgKind.BRAND,
                name=name,
                country=country,
                default_currency=currency.upper(),
            )
        )
    click.echo(f"brand {slug} created")


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--org", "org_slug", required=True, help="organisation slug")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, display_name: str, org_slug: str, role: str, password: str) -> None:
    """Create a user with a role in one organisation."""
    from supplychain.accounts import AccountError
    from supplychain.accounts import create_user as create

    with unit_of_work(load_settings().database_url) as session:
        org = organization_or_exit(session, org_slug)
        try:
            create(
                session,
                email=email,
                password=password,
                display_name=display_name,
                organization=org,
                role=Role(role),
            )
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"user {email} created")


@users.command("deactivate")
@click.argument("email")
def deactivate_user(email: str) -> None:
    """Deactivate a user: sign-in refused, open sessions ended, API keys stopped."""
    from supplychain.accounts import deactivate_user as deactivate
    from supplychain.models import User

    with unit_of_work(load_settings().database_url) as session:
        user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        if not user.is_active:
            raise click.ClickException(f"user {email} is already deactivated")
        deactivate(session, user)
    click.echo(f"user {email} deactivated; their sessions and API keys no longer work")


@click.command("run")
@click.option("--brand", "brand_slug", required=True, help="brand slug")
@click.option("--year", type=int, required=True, help="ledger year to estimate")
@click.option("--dataset", default="starter", show_default=True)
@click.option("--version", default=None, help="dataset version (default: latest)")
@margins_options
def spend_run(
    brand_slug: str,
    year: int,
    dataset: str,
    version: str | None,
    margins: str | None,
    price_basis: str | None,
) -> None:
    """Estimate a brand's stored ledger for one year, as a job (stored in one transaction)."""
    from supplychain import jobs

    option = resolve_margins_flags(margins, price_basis)
    settings = load_settings()
    with unit_of_work(settings.database_url) as session:
        brand_id = organization_or_exit(session, brand_slug, brand=True).id
    job = jobs.submit(
        settings.database_url,
        settings.redis_url,
        "supplychain.spend_runs:estimate_ledger_job",
        kind="spend.estimate",
        organization_id=brand_id,
        params={
            "brand_id": brand_id,
            "year": year,
            "dataset": dataset,
            "version": version,
            "margins": option,
            "store_root": str(settings.factor_store_path),
        },
    )
    if job.status.value == "queued":
        click.echo(f"queued as job {job.public_id}; a worker will run it")
    elif job.status.value == "failed":
        raise click.ClickException(job.error.split("\n\n")[0])
    else:
        result = job.result
        click.echo(
            f"run {result['run']}: {result['lines']} lines, {result['review']} for review, "
            f"{result['total_kg_co2e'] / 1000:,.1f} t CO2e"
        )


@main.group()
def campaigns() -> None:
    """Questionnaire campaigns."""


@campaigns.command("send-reminders")
@click.option("--base-url", default=None, help="public address for the links (default: BASE_URL)")
@click.option("--date", "on_date", default=None, help="ISO date to act as (default: today)")
def send_reminders(base_url: str | None, on_date: str | None) -> None:
    """Send the reminders due today for every running campaign (for cron, without Redis).

    With REDIS_URL set, reminders are already scheduled as RQ jobs when a campaign is launched.
    """
    from datetime import date

    from questionnaires.campaigns import send_due_reminders
    from supplychain.models import Campaign, CampaignStatus

    settings = load_settings()
    base_url = base_url or settings.base_url
    if not base_url:
        raise click.ClickException("set BASE_URL or pass --base-url: the reminders carry links")
    day = date.fromisoformat(on_date) if on_date else date.today()
    total = 0
    with unit_of_work(settings.database_url) as session:
        running = session.scalars(
            select(Campaign).where(Campaign.status == CampaignStatus.RUNNING)
        ).all()
        for campaign in running:
            sent = send_due_reminders(session, settings, campaign, base_url=base_url, today=day)
            total += sent
            if sent:
                click.echo(f"{campaign.name}: {sent} reminders")
    click.echo(f"{total} reminders sent for {day.isoformat()}")


def _attach_subcommands() -> None:
    """Commands that live with their own packages."""
    from supplychain.api_keys import api_key_command, revoke_api_key_command

    users.add_command(api_key_command)
    users.add_command(revoke_api_key_command)
    from scoring.export import export_group
    from spend_factors.cli import factors, spend
    from supplychain.footprint.cli import footprint
    from supplychain.import_cli import import_group
    from supplychain.jobs_cli import jobs_group, purge_command

    main.add_command(export_group, "export")
    import_group.add_command(purge_command, "purge")
    main.add_command(import_group, "import")
    main.add_command(jobs_group, "jobs")
    main.add_command(factors, "factors")
    spend.add_command(spend_run, "run")
    main.add_command(spend, "spend")
    main.add_command(footprint, "footprint")
    from scoring.cli import score_command

    main.add_command(score_command, "score")


_attach_subcommands()

if __name__ == "__main__":
    sys.exit(main())
