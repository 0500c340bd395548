"""Footprint runs on stored data: build a brand's supply network from the database, solve, store.

``build_network`` reads one brand's view of its supply chain for a reporting year (direct
suppliers with their ledger spend, tier-n links, the latest accepted disclosure of each
supplier) and puts it on the engine's basis through ``spend_inputs``. ``run_footprint``
solves it and appends one complete :class:`FootprintRun` to the caller's transaction. Runs
are append-only: the previous run stays visible until a new one has been committed, and a
run that fails writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.models import (
    Disclosure,
    FootprintNodeResult,
    FootprintPath,
    FootprintRun,
    Organization,
    OrgKind,
    SpendLine,
    SupplierRelationship,
    SupplyEdge,
)
from supplychain.numbers import finite_or_none, kg_decimal

from .engine import FootprintInputError, solve_footprint
from .network import BRAND, SUPPLIER, FootprintNetwork, validate_graph
from .solver import ClosedCycleError
from .spend_inputs import SpendFactorsSource, network_from_tables

__all__ = [
    "FootprintRunError",
    "build_network",
    "footprint_run_job",
    "latest_run",
    "run_footprint",
    "run_hotspots",
    "run_paths",
]

TOP_PATHS = 20
MAX_WARNINGS = 200
NAICS_SYSTEMS = {"NAICS", "NAICS2017", "NAICS 2017"}
_NODE_PREFIX = "org-"
_NODE_ID = re.compile(r"\borg-(\d+)\b")
_FACTOR_CODE = re.compile(r" code ([^;\s]+)")


class FootprintRunError(ValueError):
    """A run that cannot be computed; the message names the suppliers concerned."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


def _node(org_id: int) -> str:
    return f"{_NODE_PREFIX}{org_id}"


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _jsonable(value: Any) -> Any:
    """Recursively turn numpy, Decimal and NaN into what JSON columns accept everywhere."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return finite_or_none(value)
    return value


def _namer(names: dict[str, str]):
    """Replace engine node ids (``org-17``) in a message by organisation names."""

    def name(message: str) -> str:
        return _NODE_ID.sub(lambda m: names.get(m.group(0), m.group(0)), message)

    return name


def _latest_disclosures(session: Session, brand_id: int, year: int) -> dict[int, Disclosure]:
    """The most recent accepted disclosure per supplier for the year (latest created wins)."""
    rows = session.scalars(
        select(Disclosure)
        .where(Disclosure.brand_id == brand_id, Disclosure.reporting_year == year)
        .order_by(Disclosure.created_at.desc(), Disclosure.id.desc())
    ).all()
    latest: dict[int, Disclosure] = {}
    for row in rows:
        latest.setdefault(row.supplier_id, row)
    return latest


def _ledger_spend(
    session: Session, brand_id: int, year: int
) -> tuple[dict[int, list[tuple[Decimal, str, int]]], dict[int, str]]:
    """Per relationship: ledger totals per currency, and the most used NAICS code on its lines."""
    in_year = (
        SpendLine.brand_id == brand_id,
        SpendLine.spend_date >= date(year, 1, 1),
        SpendLine.spend_date <= date(year, 12, 31),
    )
    totals: dict[int, list[tuple[Decimal, str, int]]] = defaultdict(list)
    for rel_id, currency, amount, lines in session.execute(
        select(
            SpendLine.relationship_id,
            SpendLine.currency,
            func.sum(SpendLine.amount),
            func.count(),
        )
        .where(*in_year)
        .group_by(SpendLine.relationship_id, SpendLine.currency)
        .order_by(SpendLine.relationship_id, SpendLine.currency)
    ):
        totals[rel_id].append((Decimal(amount), currency.upper(), int(lines)))
    codes: dict[int, Counter] = defaultdict(Counter)
    for rel_id, code, system, lines in session.execute(
        select(
            SpendLine.relationship_id,
            SpendLine.sector_code,
            SpendLine.sector_system,
            func.count(),
        )
        .where(*in_year, SpendLine.sector_code.is_not(None))
        .group_by(SpendLine.relationship_id, SpendLine.sector_code, SpendLine.sector_system)
    ):
        if (system or "NAICS2017").upper() in NAICS_SYSTEMS:
            codes[rel_id][code] += int(lines)
    return totals, {rel: c.most_common(1)[0][0] for rel, c in codes.items() if c}


def _one_currency(
    groups: list[tuple[Decimal, str, int]], target: str, year: int, who: str, warnings: list[str]
) -> tuple[float, str, dict[str, Any]]:
    """Bring a supplier's ledger totals in several currencies onto one, recording how."""
    import spend_factors

    if len(groups) == 1:
        amount, currency, lines = groups[0]
        return float(amount), currency, {"basis": "ledger", "lines": lines}
    total = 0.0
    conversions = []
    lines_used = 0
    for amount, currency, lines in groups:
        try:
            converted, how = spend_factors.convert_money(
                float(amount), currency, year, target, year
            )
        except spend_factors.ConversionError as exc:
            warnings.append(
                f"{who}: {lines} ledger line(s) in {currency} left out, cannot convert to "
                f"{target} {year}: {exc}"
            )
            continue
        total += float(np.asarray(converted).ravel()[0])
        lines_used += lines
        conversions.append(
            {"amount": float(amount), "currency": currency, "lines": lines, "conversion": how}
        )
    return total, target, {"basis": "ledger", "lines": lines_used, "conversions": conversions}


def _dq_of(disclosure: Disclosure) -> tuple[float | None, str]:
    """Data quality of reported emissions: verified 1, reported 2, computed from activity 2."""
    prov = disclosure.provenance or {}
    method = str((prov.get("scope1_kg") or {}).get("method") or "")
    verification = (disclosure.details or {}).get("verification") or {}
    verified = verification.get("third_party") in (True, "yes", "true") or bool(
        prov.get("verified")
    )
    if method == "reported":
        return (1.0, "reported, verified") if verified else (2.0, "reported")
    if method == "computed-from-activity":
        return 2.0, "computed from activity data"
    return None, method or "unknown"


def _disclosure_node(
    disclosure: Disclosure, year: int, who: str, warnings: list[str]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Node fields and provenance from a disclosure, or None when its emissions are incomplete."""
    scope2_market = disclosure.scope2_market_kg
    scope2 = scope2_market if scope2_market is not None else disclosure.scope2_location_kg
    if disclosure.scope1_kg is None or scope2 is None:
        warnings.append(
            f"{who}: the {year} disclosure lacks Scope 1 or Scope 2, so it is estimated "
            "from spend instead"
        )
        return None
    dq, dq_basis = _dq_of(disclosure)
    fields: dict[str, Any] = {
        "own_kg_co2e": float(disclosure.scope1_kg) + float(scope2),
        "scope2_kg_co2e": float(scope2),
        "dq_score": _float(dq),
        "uncertainty_pct": _float(disclosure.allocation_uncertainty_pct),
    }
    if disclosure.revenue is not None and disclosure.revenue_currency:
        fields["revenue"] = float(disclosure.revenue)
        fields["currency"] = disclosure.revenue_currency.upper()
        fields["year"] = disclosure.revenue_year or year
    provenance = {
        "data_source": "disclosure",
        "disclosure": str(disclosure.public_id),
        "disclosure_source": disclosure.source,
        "source_ref": disclosure.source_ref,
        "reporting_year": disclosure.reporting_year,
        "scope1_kg": float(disclosure.scope1_kg),
        "scope2_kg": float(scope2),
        "scope2_basis": "market-based" if scope2_market is not None else "location-based",
        "dq_basis": dq_basis,
        "dq_score": dq,
    }
    return fields, provenance


def build_network(
    session: Session,
    brand_id: int,
    year: int,
    *,
    dataset: str = "starter",
    version: str | None = None,
    price_basis: str = "purchaser",
) -> tuple[FootprintNetwork, dict[str, Any]]:
    """The brand's supply network for one year, and a record of everything it was built from.

    Node ids are ``org-<organization id>``; the returned dict maps them to organisations and
    carries per-supplier provenance, warnings, the dataset used and the inputs' SHA-256.
    """
    import spend_factors

    brand = session.get(Organization, brand_id)
    if brand is None or brand.kind != OrgKind.BRAND:
        raise FootprintRunError(f"organisation {brand_id} is not a brand")
    try:
        factors = spend_factors.load_dataset(dataset, version)
    except spend_factors.DatasetError as exc:
        raise FootprintRunError(f"factor dataset {dataset!r}: {exc}") from exc
    meta = factors.metadata
    warnings: list[str] = []

    relationships = session.scalars(
        select(SupplierRelationship)
        .where(SupplierRelationship.brand_id == brand_id)
        .order_by(SupplierRelationship.id)
    ).all()
    rel_of = {rel.supplier_id: rel for rel in relationships}
    ledger, ledger_codes = _ledger_spend(session, brand_id, year)
    links = session.scalars(
        select(SupplyEdge)
        .where(SupplyEdge.brand_id == brand_id, SupplyEdge.year == year)
        .order_by(SupplyEdge.id)
    ).all()
    disclosures = _latest_disclosures(session, brand_id, year)

    direct = [
        rel
        for rel in relationships
        if (rel.tier == 1 or rel.id in ledger) and rel.supplier_id != brand_id
    ]
    org_ids = {brand_id} | {rel.supplier_id for rel in direct}
    for link in links:
        org_ids |= {link.supplier_id, link.customer_id}
    orgs = {
        org.id: org
        for org in session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    }
    names = {_node(i): org.name for i, org in orgs.items()}
    name = _namer(names)

    # nodes: the brand, then every supplier with its disclosure or its sector code
    brand_node = _node(brand_id)
    node_rows: list[dict[str, Any]] = []
    provenance: dict[str, dict[str, Any]] = {}
    for org_id in sorted(org_ids):
        org = orgs[org_id]
        nid = _node(org_id)
        if org_id == brand_id:
            # Category 1 excludes the brand's own Scope 1 + 2; 0 keeps the brand a primary node
            node_rows.append({"node_id": nid, "kind": BRAND, "own_kg_co2e": 0.0})
            continue
        row: dict[str, Any] = {"node_id": nid, "kind": SUPPLIER}
        naics_system = (org.sector_system or "NAICS2017").upper() in NAICS_SYSTEMS
        naics = org.sector_code if naics_system else None
        rel = rel_of.get(org_id)
        if not naics and rel is not None:
            naics = ledger_codes.get(rel.id)
        row["naics"] = naics or ""
        disclosure = disclosures.get(org_id)
        found = _disclosure_node(disclosure, year, org.name, warnings) if disclosure else None
        if found is not None:
            row.update(found[0])
            provenance[nid] = found[1]
        else:
            provenance[nid] = {"data_source": "spend_based" if naics else "none", "naics": naics}
        node_rows.append(row)

    # direct edges: supplier → brand, with the brand's ledger spend of the year
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for rel in direct:
        sid = _node(rel.supplier_id)
        supplier = orgs[rel.supplier_id]
        edge: dict[str, Any] = {"supplier_id": sid, "customer_id": brand_node}
        if rel.id in ledger:
            disclosure = disclosures.get(rel.supplier_id)
            target = (
                disclosure.revenue_currency.upper()
                if disclosure is not None and disclosure.revenue_currency
                else (supplier.default_currency or "USD").upper()
            )
            amount, currency, spend_prov = _one_currency(
                ledger[rel.id], target, year, supplier.name, warnings
            )
            edge.update(spend=amount, currency=currency, year=year)
        elif rel.annual_spend is not None and rel.spend_currency:
            spend_year = rel.spend_year or year
            edge.update(
                spend=float(rel.annual_spend), currency=rel.spend_currency.upper(), year=spend_year
            )
            spend_prov = {"basis": "relationship annual spend", "year": spend_year}
        else:
            spend_prov = {"basis": "none"}
        if "spend" in edge:
            spend_prov.update(amount=edge["spend"], currency=edge["currency"], year=edge["year"])
        disclosure = disclosures.get(rel.supplier_id)
        if disclosure is not None and disclosure.allocation_share is not None:
            edge["share"] = float(disclosure.allocation_share)
            edge["share_method"] = disclosure.allocation_method or ""
            provenance[sid]["allocation_share"] = float(disclosure.allocation_share)
            provenance[sid]["allocation_method"] = disclosure.allocation_method
        provenance[sid]["spend_to_brand"] = spend_prov
        edges[(sid, brand_node)] = edge

    # tier-n links of this brand and year
    for link in links:
        key = (_node(link.supplier_id), _node(link.customer_id))
        spend = None if link.spend is None else float(link.spend)
        if spend is not None and not link.currency:
            warnings.append(
                f"{names[key[0]]} → {names[key[1]]}: spend without a currency is left out"
            )
            spend = None
        known = edges.get(key)
        if known is not None:  # the same supplier → customer pair, e.g. a direct supplier
            if "share" not in known and link.allocation_share is not None:
                known["share"] = float(link.allocation_share)
                known["share_method"] = link.allocation_basis or ""
            if "spend" not in known and spend is not None:
                known.update(spend=spend, currency=link.currency.upper(), year=link.year)
            continue
        edge = {"supplier_id": key[0], "customer_id": key[1]}
        if link.allocation_share is not None:
            edge["share"] = float(link.allocation_share)
            edge["share_method"] = link.allocation_basis or ""
        if spend is not None:
            edge.update(spend=spend, currency=link.currency.upper(), year=link.year)
        edges[key] = edge

    edge_rows = list(edges.values())
    digest = hashlib.sha256(
        json.dumps(
            _jsonable(
                {
                    "brand": str(brand.public_id),
                    "year": year,
                    "dataset": meta.name,
                    "version": meta.version,
                    "price_basis": price_basis,
                    "nodes": node_rows,
                    "edges": edge_rows,
                }
            ),
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
    ).hexdigest()

    node_frame = pd.DataFrame(node_rows)
    edge_frame = (
        pd.DataFrame(edge_rows)
        if edge_rows
        else pd.DataFrame(columns=["supplier_id", "customer_id"])
    )
    source = SpendFactorsSource(meta.name, meta.version, price_basis=price_basis)
    built = network_from_tables(
        node_frame,
        edge_frame,
        source,
        edge_labels=[f"{names[e['supplier_id']]} → {names[e['customer_id']]}" for e in edge_rows],
        node_labels=[names[n["node_id"]] for n in node_rows],
    )
    # factor and conversion gaps leave that relation without data; the run shows them
    warnings += [name(message) for message in built.errors + built.warnings]
    network = built.network
    network.name = f"{brand.slug} {year}"

    for row in network.edges.itertuples(index=False):
        reference = str(row.factor_reference or "")
        if not reference:
            continue
        prov = provenance[row.supplier_id]
        prov["data_source"] = "spend_based"
        prov["dataset"] = meta.name
        prov["dataset_version"] = meta.version
        codes = prov.setdefault("factor_codes", [])
        code = _FACTOR_CODE.search(reference)
        if code and code.group(1) not in codes:
            codes.append(code.group(1))
        prov.setdefault("factor_references", []).append(reference)

    inputs = {
        "brand_node": brand_node,
        "year": year,
        "dataset": meta.name,
        "dataset_version": meta.version,
        "price_basis": price_basis,
        "inputs_hash": digest,
        "organizations": {
            _node(i): {
                "id": i,
                "public_id": str(org.public_id),
                "name": org.name,
                "category": rel_of[i].category if i in rel_of else None,
            }
            for i, org in orgs.items()
        },
        "provenance": provenance,
        "warnings": warnings,
        "counts": {
            "suppliers": len(node_rows) - 1,
            "edges": len(edge_rows),
            "with_disclosure": sum(
                1 for p in provenance.values() if p.get("data_source") == "disclosure"
            ),
        },
    }
    return network, inputs


def _grouped(rows: list[dict[str, Any]], key: str, total: float) -> list[dict[str, Any]]:
    sums: dict[str, float] = defaultdict(float)
    for row in rows:
        sums[str(row[key]) if row[key] is not None else ""] += row["contribution"]
    return [
        {"key": k, "kg": v, "share": v / total if total > 0 else None}
        for k, v in sorted(sums.items(), key=lambda kv: -kv[1])
    ]


def run_footprint(
    session: Session,
    *,
    brand_id: int,
    year: int,
    dataset: str = "starter",
    version: str | None = None,
    price_basis: str = "purchaser",
    samples: int = 1000,
    seed: int | None = 0,
    actor_id: int | None = None,
) -> FootprintRun:
    """Solve the brand's network for the year and add the complete run to the transaction.

    Nothing is added before the solve has succeeded, so a failure leaves no partial run;
    the caller (the job layer) commits the run in one go.
    """
    network, inputs = build_network(
        session, brand_id, year, dataset=dataset, version=version, price_basis=price_basis
    )
    orgs = inputs["organizations"]
    name = _namer({nid: org["name"] for nid, org in orgs.items()})
    report = validate_graph(network.to_graph())
    if report.errors:
        raise FootprintRunError("; ".join(name(message) for message in report.errors))
    try:
        result = solve_footprint(network, samples=samples, seed=seed, top_paths=TOP_PATHS)
    except (FootprintInputError, ClosedCycleError) as exc:
        raise FootprintRunError(name(str(exc))) from exc

    brand_node = inputs["brand_node"]
    brand_row = result.brands.set_index("brand_id").loc[brand_node]
    cat1 = float(brand_row["scope3_cat1_kg_co2e"])
    hotspots = result.hotspots[result.hotspots["brand_id"] == brand_node].set_index("node_id")
    contribution = hotspots["contribution_kg_co2e"].to_dict()

    node_rows = []
    for row in result.nodes.itertuples(index=False):
        if row.node_id == brand_node:
            continue
        org = orgs[row.node_id]
        node_rows.append(
            {
                "organization_id": org["id"],
                "category": org["category"],
                "method": str(row.method),
                "tier": None if finite_or_none(row.tier) is None else int(row.tier),
                "cradle_to_gate": finite_or_none(row.cradle_to_gate_kg_co2e),
                "contribution": float(contribution.get(row.node_id, 0.0)),
                "dq": finite_or_none(row.dq_score),
                "primary": finite_or_none(row.primary_share),
                "lo": finite_or_none(row.ci95_low),
                "hi": finite_or_none(row.ci95_high),
                "provenance": inputs["provenance"].get(row.node_id),
            }
        )
    contributing = [r for r in node_rows if r["contribution"] > 0]
    methods = Counter(r["method"] for r in node_rows)
    breakdown = {
        "by_tier": _grouped(contributing, "tier", cat1),
        "by_method": _grouped(contributing, "method", cat1),
        "by_category": _grouped(contributing, "category", cat1),
        "counts": {**inputs["counts"], "by_method": dict(methods)},
    }
    warnings = list(dict.fromkeys(inputs["warnings"] + [name(w) for w in result.warnings]))

    run = FootprintRun(
        brand_id=brand_id,
        reporting_year=year,
        dataset=inputs["dataset"],
        dataset_version=inputs["dataset_version"],
        price_basis=price_basis,
        samples=int(samples),
        seed=seed,
        inputs_hash=inputs["inputs_hash"],
        scope3_cat1_kg=kg_decimal(cat1) or Decimal("0"),
        ci95_low=kg_decimal(brand_row["ci95_low"]),
        ci95_high=kg_decimal(brand_row["ci95_high"]),
        dq_score=finite_or_none(brand_row["dq_score"]),
        primary_share=finite_or_none(brand_row["primary_share"]),
        breakdown=_jsonable(breakdown),
        warnings=warnings[:MAX_WARNINGS],
        created_by_id=actor_id,
    )
    session.add(run)
    session.flush()
    if node_rows:
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
                    "provenance": _jsonable(r["provenance"]),
                }
                for r in node_rows
            ],
        )
    paths = result.paths[result.paths["brand_id"] == brand_node]
    if len(paths):
        session.execute(
            insert(FootprintPath),
            [
                {
                    "run_id": run.id,
                    "rank": int(p.rank),
                    "nodes": [
                        {"id": orgs[nid]["public_id"], "name": orgs[nid]["name"]}
                        for nid in str(p.path).split(" <- ")
                    ],
                    "source": str(p.source),
                    "contribution_kg": kg_decimal(p.contribution_kg_co2e) or Decimal("0"),
                    "share_of_total": finite_or_none(p.share_of_total),
                }
                for p in paths.itertuples(index=False)
            ],
        )
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
            "scope3_cat1_kg": str(run.scope3_cat1_kg),
            "inputs_hash": run.inputs_hash,
        },
    )
    return run


def footprint_run_job(session: Session, **params: Any) -> dict[str, Any]:
    """Job entry point; the job layer commits the run together with its job record."""
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
