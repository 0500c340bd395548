"""``footprint`` command group: file-to-file propagation, and runs on the stored data (``run``).

Attach to the main command with ``main.add_command(footprint)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from spend_factors.cli import margins_options, resolve_margins_flags, store_option

from .csv_io import read_edges_csv, read_nodes_csv, write_csv
from .engine import FootprintInputError, solve_footprint
from .network import validate_graph
from .solver import ClosedCycleError
from .spend_inputs import SpendFactorsSource, network_from_tables

__all__ = ["footprint"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _fail(errors: list[str]) -> None:
    """Report every problem on stderr and exit non-zero."""
    for message in errors:
        click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


@click.group("footprint")
def footprint() -> None:
    """Propagate supplier emissions through all known tiers (Scope 3 Category 1)."""


def _load(nodes: Path, edges: Path, source: SpendFactorsSource):
    node_tab = read_nodes_csv(nodes)
    edge_tab = read_edges_csv(edges, set(node_tab.frame["node_id"]))
    errors = node_tab.errors + edge_tab.errors
    for message in node_tab.warnings + edge_tab.warnings:
        click.echo(f"warning: {message}", err=True)
    if errors:
        _fail(errors)
    ids = node_tab.frame["node_id"].astype(str)
    inputs = network_from_tables(
        node_tab.frame,
        edge_tab.frame,
        source,
        edge_labels=edge_tab.labels,
        node_labels=[f"{label} ({nid})" for label, nid in zip(node_tab.labels, ids, strict=True)],
    )
    for message in inputs.warnings:
        click.echo(f"warning: {message}", err=True)
    if inputs.errors:
        _fail(inputs.errors)
    return inputs.network


def _brand_line(row) -> str:
    """One brand's Category 1 for the terminal; unknown parts are left out, never 'nan'."""
    line = f"{row.brand_id}: Scope 3 Category 1 {row.scope3_cat1_kg_co2e / 1000:,.1f} t CO2e"
    if math.isfinite(row.ci95_low) and math.isfinite(row.ci95_high):
        line += f" (95 % {row.ci95_low / 1000:,.1f}–{row.ci95_high / 1000:,.1f})"
    if math.isfinite(row.dq_score):
        line += f", DQ {row.dq_score:.2f}"
    if math.isfinite(row.primary_share):
        line += f", primary data {100 * row.primary_share:.0f} %"
    return line


@footprint.command("solve")
@click.option("--nodes", "nodes_path", type=_FILE, required=True, help="NODES.csv")
@click.option("--edges", "edges_path", type=_FILE, required=True, help="EDGES.csv")
@click.option("--dataset", default="useeio", show_default=True, help="spend factor dataset")
@click.option("--version", "dataset_version", default=None, help="dataset version (latest)")
@click.option("--out", "out_path", type=_OUT, required=True, help="RESULT.csv to write")
@click.option("--paths", "paths_path", type=_OUT, default=None, help="PATHS.csv to write")
@click.option("--samples", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@store_option
@margins_options
@click.option("--top-paths", type=click.IntRange(min=1), default=20, show_default=True)
def solve_command(
    nodes_path: Path,
    edges_path: Path,
    dataset: str,
    dataset_version: str | None,
    out_path: Path,
    paths_path: Path | None,
    samples: int,
    seed: int,
    store: Path | None,
    margins: str | None,
    price_basis: str | None,
    top_paths: int,
) -> None:
    """Solve NODES/EDGES into RESULT.csv (one row per node plus scope3_cat1 per brand).

    Reporting suppliers get their purchases outside the network added as an upstream gap
    (columns own_part, upstream_allocated, gap and gap_method in RESULT.csv).
    """
    source = SpendFactorsSource(
        dataset,
        dataset_version,
        store_root=store,
        margins=resolve_margins_flags(margins, price_basis),
    )
    network = _load(nodes_path, edges_path, source)
    report = validate_graph(network.to_graph())
    for message in report.warnings:
        click.echo(f"warning: {message}", err=True)
    if report.errors:
        _fail(report.errors)
    try:
        result = solve_footprint(network, samples=samples, seed=seed, top_paths=top_paths)
    except (FootprintInputError, ClosedCycleError) as exc:
        _fail([str(exc)])
        return
    for message in result.warnings:
        click.echo(f"warning: {message}", err=True)
    write_csv(result.result_table(), out_path)
    if paths_path is not None:
        write_csv(result.paths, paths_path)
    for row in result.brands.itertuples(index=False):
        click.echo(_brand_line(row))
    gaps = result.nodes["gap_method"][result.nodes["gap_method"] != ""].value_counts()
    if len(gaps):
        click.echo("upstream gaps: " + ", ".join(f"{k} {v}" for k, v in sorted(gaps.items())))
    if report.strongly_connected_components:
        click.echo(f"supplier cycles solved: {len(report.strongly_connected_components)}")
    click.echo(f"wrote {out_path}" + (f" and {paths_path}" if paths_path else ""))


@footprint.command("validate")
@click.option("--nodes", "nodes_path", type=_FILE, required=True)
@click.option("--edges", "edges_path", type=_FILE, required=True)
def validate_command(nodes_path: Path, edges_path: Path) -> None:
    """Check NODES/EDGES files and the supply graph without solving (no factors needed)."""
    node_tab = read_nodes_csv(nodes_path)
    edge_tab = read_edges_csv(edges_path, set(node_tab.frame["node_id"]))
    errors = node_tab.errors + edge_tab.errors
    if errors:
        _fail(errors)
    from .network import FootprintNetwork

    network = FootprintNetwork.from_frames(node_tab.frame, edge_tab.frame)
    report = validate_graph(network.to_graph())
    for message in report.warnings + edge_tab.warnings:
        click.echo(f"warning: {message}")
    for comp in report.strongly_connected_components:
        click.echo(f"cycle: {', '.join(comp)}")
    if report.errors:
        _fail(report.errors)
    click.echo(f"ok: {network.n_nodes} nodes, {len(network.edges)} edges")


@footprint.command("run")
@click.option("--brand", "brand_slug", required=True, help="brand slug")
@click.option("--year", type=int, required=True, help="reporting year")
@click.option("--dataset", default="starter", show_default=True, help="spend factor dataset")
@click.option("--version", "dataset_version", default=None, help="dataset version (latest)")
@click.option("--samples", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@margins_options
def run_command(
    brand_slug: str,
    year: int,
    dataset: str,
    dataset_version: str | None,
    samples: int,
    seed: int,
    margins: str | None,
    price_basis: str | None,
) -> None:
    """Run a brand's footprint on the stored data as a job and store it (one transaction).

    Runs inline without REDIS_URL, on a worker with it.
    """

    from supplychain import jobs
    from supplychain.cli_support import organization_or_exit
    from supplychain.config import load_settings
    from supplychain.db import unit_of_work

    settings = load_settings()
    with unit_of_work(settings.database_url) as session:
        brand_id = organization_or_exit(session, brand_slug, brand=True).id
    job = jobs.submit(
        settings.database_url,
        settings.redis_url,
        "supplychain.footprint.storage:footprint_run_job",
        kind="footprint.run",
        organization_id=brand_id,
        params={
            "brand_id": brand_id,
            "year": year,
            "dataset": dataset,
            "version": dataset_version,
            "margins": resolve_margins_flags(margins, price_basis),
            "samples": samples,
            "seed": seed,
        },
    )
    if job.status.value == "queued":
        click.echo(f"queued as job {job.public_id}; a worker will run it")
        return
    if job.status.value == "failed":
        raise click.ClickException((job.error or "the run failed").split("\n\n")[0])
    r = job.result
    line = f"{brand_slug} {year}: Scope 3 Category 1 {r['scope3_cat1_kg'] / 1000:,.1f} t CO2e"
    if r["ci95_low"] is not None and r["ci95_high"] is not None:
        line += f" (95 % {r['ci95_low'] / 1000:,.1f}–{r['ci95_high'] / 1000:,.1f})"
    if r["dq_score"] is not None:
        line += f", DQ {r['dq_score']:.2f}"
    if r["primary_share"] is not None:
        line += f", primary data {100 * r['primary_share']:.0f} %"
    click.echo(line)
    if r["warnings"]:
        click.echo(f"{r['warnings']} warning(s); see the run in the console")
    click.echo(f"run {r['run']}")
