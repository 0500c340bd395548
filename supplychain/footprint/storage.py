"""Footprint runs on stored data: solve a brand's network from the database and store the run.

``build_network`` (in ``stored_inputs``) reads one brand's view of its supply chain for a
reporting year; ``run_footprint`` solves it and appends one complete :class:`FootprintRun`
to the caller's transaction. Runs are append-only: the previous run stays visible until a
new one has been committed, and a run that fails writes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.models import FootprintNodeResult, FootprintPath, FootprintRun
from supplychain.numbers import finite_or_none, kg_decimal

from .engine import FootprintInputError, FootprintResult, solve_footprint
from .network import FootprintNetwork, validate_graph
from .solver import ClosedCycleError
from .stored_inputs import FootprintRunError, RunInputs, build_network, jsonable

__all__ = [
    "FootprintRunError",
    "RunInputs",
    "build_network",
    "footprint_run_job",
    "latest_run",
    "run_footprint",
    "run_hotspots",
    "run_paths",
]

TOP_PATHS = 20
MAX_WARNINGS = 200
#: per-node parts of a reporting supplier's cradle-to-gate total, engine column -> stored key
PART_COLUMNS = {
    "own_part_kg_co2e": "own_kg",
    "upstream_allocated_kg_co2e": "upstream_allocated_kg",
    "gap_kg_co2e": "gap_kg",
}


def _solve(network: FootprintNetwork, inputs: RunInputs, samples: int, seed: int | None):
    """Validate and solve; every engine failure becomes a message naming the organisations."""
    name = inputs.namer()
    report = validate_graph(network.to_graph())
    if report.errors:
        raise FootprintRunError("; ".join(name(message) for message in report.errors))
    try:
        return solve_footprint(network, samples=samples, seed=seed, top_paths=TOP_PATHS)
    except (FootprintInputError, ClosedCycleError) as exc:
        raise FootprintRunError(name(str(exc))) from exc


def _split_column(value: Any) -> list[str]:
    """A ";"-joined column value (factor codes, line ids) as a list; blank or NaN gives []."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [part for part in str(value).split(";") if part]


def _estimate_provenance(network: FootprintNetwork, result: FootprintResult, inputs: RunInputs):
    """Name the factors behind every edge the engine priced from spend, on its supplier."""
    edges = network.edges.reset_index(drop=True)
    used = result.edges["status"].reset_index(drop=True) == "spend_based"
    codes = edges["factor_codes"]
    for pos in used[used].index:
        prov = inputs.provenance[str(edges.at[pos, "supplier_id"])]
        prov["data_source"] = "spend_based"
        prov["dataset"] = inputs.dataset
        prov["dataset_version"] = inputs.dataset_version
        known = prov.setdefault("factor_codes", [])
        known += [code for code in _split_column(codes.iat[pos]) if code not in known]
        reference = str(edges.at[pos, "factor_reference"] or "")
        if reference:
            prov.setdefault("factor_references", []).append(reference)


def _gap_basis(network: FootprintNetwork) -> dict[str, dict[str, Any]]:
    """Per node with a spend-based gap: the spend it was estimated from and the factors."""
    nodes = network.nodes
    out = {}
    for row in nodes[pd.to_numeric(nodes["gap_spend"]).notna()].itertuples(index=False):
        out[str(row.node_id)] = {
            "gap_spend": finite_or_none(row.gap_spend),
            "gap_spend_currency": str(getattr(row, "gap_spend_currency", "") or ""),
            "gap_spend_year": finite_or_none(getattr(row, "gap_spend_year", None)),
            "gap_factor_codes": _split_column(row.gap_factor_codes),
            "gap_factor_reference": str(row.gap_factor_reference or ""),
            "gap_dq_score": finite_or_none(row.gap_dq_score),
        }
    return out


def _parts(row: Any, gap_basis: dict[str, Any] | None) -> dict[str, Any] | None:
    """Own, allocated-upstream and gap parts of a node's total, when the engine split it."""
    parts = {key: finite_or_none(getattr(row, col)) for col, key in PART_COLUMNS.items()}
    if parts["own_kg"] is None:
        return None
    parts["gap_method"] = str(row.gap_method or "")
    if parts["gap_method"] and gap_basis:
        parts.update(gap_basis)
    return parts


def _node_results(
    network: FootprintNetwork, result: FootprintResult, inputs: RunInputs
) -> list[dict[str, Any]]:
    """One row per supplier: its total, its contribution to the brand and its provenance."""
    brand_node = inputs.brand_node
    gap_basis = _gap_basis(network)
    hotspots = result.hotspots[result.hotspots["brand_id"] == brand_node].set_index("node_id")
    contribution = hotspots["contribution_kg_co2e"].to_dict()
    rows = []
    for row in result.nodes.itertuples(index=False):
        if row.node_id == brand_node:
            continue
        org = inputs.organizations[row.node_id]
        provenance = dict(inputs.provenance.get(row.node_id) or {})
        parts = _parts(row, gap_basis.get(row.node_id))
        if parts is not None:
            provenance["parts"] = parts
        rows.append(
            {
                "organization_id": org.id,
                "category": org.category,
                "method": str(row.method),
                "tier": None if finite_or_none(row.tier) is None else int(row.tier),
                "cradle_to_gate": finite_or_none(row.cradle_to_gate_kg_co2e),
                "contribution": float(contribution.get(row.node_id, 0.0)),
                "dq": finite_or_none(row.dq_score),
                "primary": finite_or_none(row.primary_share),
                "lo": finite_or_none(row.ci95_low),
                "hi": finite_or_none(row.ci95_high),
                "provenance": provenance,
            }
        )
    return rows


def _grouped(rows: list[dict[str, Any]], key: str, total: float) -> list[dict[str, Any]]:
    sums: dict[str, float] = defaultdict(float)
    for row in rows:
        sums[str(row[key]) if row[key] is not None else ""] += row["contribution"]
    return [
        {"key": k, "kg": v, "share": v / total if total > 0 else None}
        for k, v in sorted(sums.items(), key=lambda kv: -kv[1])
    ]


def _breakdown(node_rows: list[dict[str, Any]], inputs: RunInputs, cat1: float) -> dict:
    contributing = [r for r in node_rows if r["contribution"] > 0]
    methods = Counter(r["method"] for r in node_rows)
    gaps = Counter(
        r["provenance"]["parts"]["gap_method"]
        for r in node_rows
        if r["provenance"].get("parts") and r["provenance"]["parts"]["gap_method"]
    )
    return {
        "by_tier": _grouped(contributing, "tier", cat1),
        "by_method": _grouped(contributing, "method", cat1),
        "by_category": _grouped(contributing, "category", cat1),
        "counts": {**inputs.counts, "by_method": dict(methods), "by_gap_method": dict(gaps)},
    }


def _new_run(
    inputs: RunInputs, result: FootprintResult, node_rows: list[dict], params: dict[str, Any]
) -> FootprintRun:
    """The run row, its totals and breakdown; nothing is added to the session here."""
    brand_row = result.brands.set_index("brand_id").loc[inputs.brand_node]
    cat1 = float(brand_row["scope3_cat1_kg_co2e"])
    name = inputs.namer()
    warnings = list(dict.fromkeys(inputs.warnings + [name(w) for w in result.warnings]))
    return FootprintRun(
        brand_id=inputs.organizations[inputs.brand_node].id,
        reporting_year=inputs.year,
        dataset=inputs.dataset,
        dataset_version=inputs.dataset_version,
        price_basis=inputs.margins,
        samples=int(params["samples"]),
        seed=params["seed"],
        inputs_hash=inputs.inputs_hash,
        scope3_cat1_kg=kg_decimal(cat1) or Decimal("0"),
        ci95_low=kg_decimal(brand_row["ci95_low"]),
        ci95_high=kg_decimal(brand_row["ci95_high"]),
        dq_score=finite_or_none(brand_row["dq_score"]),
        primary_share=finite_or_none(brand_row["primary_share"]),
        breakdown=jsonable(_breakdown(node_rows, inputs, cat1)),
        warnings=warnings[:MAX_WARNINGS],
        created_by_id=params["actor_id"],
    )


def _store_nodes(session: Session, run: FootprintRun, node_rows: list[dict[str, Any]]) -> None:
    cat1 = float(run.scope3_cat1_kg)
    if not node_rows:
        return
    session.execute(
        insert(FootprintNodeResult),
        [
            {
                "run_id": run.id,
                "organization_id": r["organization_id"],
                "method": r["method"],
                "tier": r["tier"],
                "cradle_to_gate_kg": kg_decimal(r["cradle_to_gate"]),
                "contribution_kg": kg_decimal(r["contribution"]),
                "share_of_total": r["contribution"] / cat1 if cat1 > 0 else None,
                "dq_score": r["dq"],
                "primary_share": r["primary"],
                "ci95_low": kg_decimal(r["lo"]),
                "ci95_high": kg_decimal(r["hi"]),
                "provenance": jsonable(r["provenance"]),
            }
            for r in node_rows
        ],
    )


def _store_paths(
    session: Session, run: FootprintRun, result: FootprintResult, inputs: RunInputs
) -> None:
    paths = result.paths[result.paths["brand_id"] == inputs.brand_node]
    if not len(paths):
        return
    orgs = inputs.organizations
    session.execute(
        insert(FootprintPath),
        [
            {
                "run_id": run.id,
                "rank": int(p.rank),
                "nodes": [
                    {"id": orgs[nid].public_id, "name": orgs[nid].name}
                    for nid in str(p.path).split(" <- ")
                ],
                "source": str(p.source),
                "contribution_kg": kg_decimal(p.contribution_kg_co2e) or Decimal("0"),
                "share_of_total": finite_or_none(p.share_of_total),
            }
            for p in paths.itertuples(index=False)
        ],
    )


def run_footprint(
    session: Session,
    *,
    brand_id: int,
    year: int,
    dataset: str = "starter",
    version: str | None = None,
    margins: str = "include",
    price_basis: str | None = None,
    samples: int = 1000,
    seed: int | None = 0,
    actor_id: int | None = None,
    store_root: str | Path | None = None,
) -> FootprintRun:
    """Solve the brand's network for the year and add the complete run to the transaction.

    Nothing is added before the solve has succeeded, so a failure leaves no partial run;
    the caller (the job layer) commits the run in one go. ``price_basis`` is the old name of
    ``margins`` ("purchaser"/"producer"), still read so queued jobs and old callers work.
    """
    network, inputs = build_network(
        session,
        brand_id,
        year,
        dataset=dataset,
        version=version,
        margins=price_basis if price_basis is not None else margins,
        store_root=store_root,
    )
    result = _solve(network, inputs, samples, seed)
    _estimate_provenance(network, result, inputs)
    node_rows = _node_results(network, result, inputs)
    run = _new_run(
        inputs, result, node_rows, {"samples": samples, "seed": seed, "actor_id": actor_id}
    )
    session.add(run)
    session.flush()
    _store_nodes(session, run, node_rows)
    _store_paths(session, run, result, inputs)
    audit.record(
        session,
        action="footprint.run",
        entity_type="footprint_run",
        entity_id=str(run.public_id),
        organization_id=brand_id,
        actor_id=actor_id,
        after={
            "year": year,
            "dataset": run.dataset,
            "version": run.dataset_version,
            "margins": run.price_basis,
            "scope3_cat1_kg": str(run.scope3_cat1_kg),
            "inputs_hash": run.inputs_hash,
        },
    )
    return run


def footprint_run_job(session: Session, **params: Any) -> dict[str, Any]:
    """Job entry point; the job layer commits the run together with its job record.

    The factor store is the configured one unless the job names another.
    """
    if params.get("store_root") is None:
        from supplychain.config import load_settings

        params["store_root"] = load_settings().factor_store_path
    run = run_footprint(session, **params)
    return {
        "run": str(run.public_id),
        "year": run.reporting_year,
        "scope3_cat1_kg": float(run.scope3_cat1_kg),
        "ci95_low": finite_or_none(run.ci95_low),
        "ci95_high": finite_or_none(run.ci95_high),
        "dq_score": run.dq_score,
        "primary_share": run.primary_share,
        "warnings": len(run.warnings or []),
    }


def latest_run(session: Session, brand_id: int, year: int | None = None) -> FootprintRun | None:
    """The brand's most recent completed run (of one year when given)."""
    stmt = select(FootprintRun).where(FootprintRun.brand_id == brand_id)
    if year is not None:
        stmt = stmt.where(FootprintRun.reporting_year == year)
    return session.scalars(stmt.order_by(FootprintRun.id.desc())).first()


def run_hotspots(session: Session, run: FootprintRun, limit: int = 20) -> list[FootprintNodeResult]:
    """The suppliers contributing most to a run's total, largest first."""
    return list(
        session.scalars(
            select(FootprintNodeResult)
            .where(FootprintNodeResult.run_id == run.id, FootprintNodeResult.contribution_kg > 0)
            .order_by(FootprintNodeResult.contribution_kg.desc(), FootprintNodeResult.id)
            .limit(limit)
        )
    )


def run_paths(session: Session, run: FootprintRun) -> list[FootprintPath]:
    """A run's stored top paths in rank order."""
    return list(
        session.scalars(
            select(FootprintPath).where(FootprintPath.run_id == run.id).order_by(FootprintPath.rank)
        )
    )
