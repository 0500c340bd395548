"""A brand's supply network for one year, built from the database for a stored footprint run.

``build_network`` reads the brand's direct suppliers (with the ledger of the year estimated
line by line through ``spend_runs.estimate_ledger``, the same pipeline as ``spend run``), its
tier-n links and the latest accepted disclosure of each supplier, and puts them on the
engine's basis through ``spend_inputs``. What the network was built from travels alongside
it as :class:`RunInputs`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplychain.models import (
    Disclosure,
    Organization,
    OrgKind,
    SupplierRelationship,
    SupplyEdge,
)
from supplychain.numbers import finite_or_none

from .network import BRAND, SUPPLIER, FootprintNetwork
from .spend_inputs import SpendFactorsSource, network_from_tables
from .stored_disclosure import disclosure_node
from .stored_ledger import LINE_IDS_KEPT, LedgerEstimate, RelationshipLedger, ledger_estimate

__all__ = ["FootprintRunError", "OrgRef", "RunInputs", "build_network", "jsonable", "node_id"]

_NODE_PREFIX = "org-"
_NODE_ID = re.compile(r"\borg-(\d+)\b")


class FootprintRunError(ValueError):
    """A run that cannot be computed; the message names the suppliers concerned."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


def node_id(org_id: int) -> str:
    """The engine's node id of an organisation."""
    return f"{_NODE_PREFIX}{org_id}"


def jsonable(value: Any) -> Any:
    """Recursively turn numpy, Decimal and NaN into what JSON columns accept everywhere."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return finite_or_none(value)
    return value


@dataclass(frozen=True)
class OrgRef:
    """An organisation as the run's results refer to it."""

    id: int
    public_id: str
    name: str
    category: str | None


@dataclass
class RunInputs:
    """Everything a stored run was built from, besides the network itself."""

    brand_node: str
    year: int
    dataset: str
    dataset_version: str
    margins: str
    inputs_hash: str
    organizations: dict[str, OrgRef]
    provenance: dict[str, dict[str, Any]]
    warnings: list[str]
    counts: dict[str, int]

    def namer(self) -> Callable[[str], str]:
        """Replace engine node ids (``org-17``) in a message by organisation names."""
        names = {nid: org.name for nid, org in self.organizations.items()}
        return lambda message: _NODE_ID.sub(lambda m: names.get(m.group(0), m.group(0)), message)


@dataclass
class _Stored:
    """What the database holds of the brand's supply chain for the year."""

    brand: Organization
    rel_of: dict[int, SupplierRelationship]
    direct: list[SupplierRelationship]
    links: list[SupplyEdge]
    disclosures: dict[int, Disclosure]
    orgs: dict[int, Organization]
    ledger: LedgerEstimate
    warnings: list[str] = field(default_factory=list)

    def name(self, org_id: int) -> str:
        return self.orgs[org_id].name


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


def _read(session: Session, brand: Organization, year: int, factors: Any, margins: str) -> _Stored:
    """Relationships, ledger estimate, tier-n links, disclosures and organisations involved.

    The ledger goes through ``spend_runs.estimate_ledger``, the one spend pipeline shared
    with ``spend run``.
    """
    from supplychain import spend_runs

    relationships = session.scalars(
        select(SupplierRelationship)
        .where(SupplierRelationship.brand_id == brand.id)
        .order_by(SupplierRelationship.id)
    ).all()
    rel_of = {rel.supplier_id: rel for rel in relationships}
    links = session.scalars(
        select(SupplyEdge)
        .where(SupplyEdge.brand_id == brand.id, SupplyEdge.year == year)
        .order_by(SupplyEdge.id)
    ).all()
    org_ids = {brand.id} | {rel.supplier_id for rel in relationships}
    for link in links:
        org_ids |= {link.supplier_id, link.customer_id}
    orgs = {
        org.id: org
        for org in session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    }
    estimated = spend_runs.estimate_ledger(
        session, brand.id, year, dataset=factors, margins=margins
    )
    rel_names = {rel.id: orgs[rel.supplier_id].name for rel in relationships}
    ledger = ledger_estimate(session, estimated, rel_names)
    direct = [
        rel
        for rel in relationships
        if (rel.tier == 1 or rel.id in ledger.by_relationship) and rel.supplier_id != brand.id
    ]
    involved = {brand.id} | {rel.supplier_id for rel in direct}
    for link in links:
        involved |= {link.supplier_id, link.customer_id}
    return _Stored(
        brand=brand,
        rel_of=rel_of,
        direct=direct,
        links=list(links),
        disclosures=_latest_disclosures(session, brand.id, year),
        orgs={i: orgs[i] for i in sorted(involved)},
        ledger=ledger,
        warnings=list(ledger.warnings),
    )


def _own_naics(stored: _Stored, org: Organization) -> tuple[str | None, str | None]:
    """A supplier's sector: its NAICS 2017 code, else the code its ledger lines were priced at."""
    import spend_factors

    system = spend_factors.normalise_sector_system(org.sector_system or "NAICS2017")
    if org.sector_code and system == "NAICS2017":
        return org.sector_code, "organisation"
    rel = stored.rel_of.get(org.id)
    ledger = stored.ledger.by_relationship.get(rel.id) if rel is not None else None
    if ledger is not None and ledger.factor_codes:
        return ledger.factor_codes[0], "ledger classification"
    return None, None


def _node_rows(stored: _Stored, year: int) -> tuple[list[dict], dict[str, dict]]:
    """The brand, then every supplier with its disclosure or its sector code."""
    rows: list[dict[str, Any]] = []
    provenance: dict[str, dict[str, Any]] = {}
    for org_id, org in stored.orgs.items():
        nid = node_id(org_id)
        if org_id == stored.brand.id:
            # Category 1 excludes the brand's own Scope 1 + 2; 0 keeps the brand a primary node
            rows.append({"node_id": nid, "kind": BRAND, "own_kg_co2e": 0.0})
            continue
        naics, naics_basis = _own_naics(stored, org)
        row: dict[str, Any] = {"node_id": nid, "kind": SUPPLIER, "naics": naics or ""}
        disclosure = stored.disclosures.get(org_id)
        found = disclosure_node(disclosure, year, org.name, stored.warnings) if disclosure else None
        if found is not None:
            row.update(found[0])
            provenance[nid] = found[1]
        else:
            provenance[nid] = {"data_source": "spend_based" if naics else "none"}
        provenance[nid]["naics"] = naics
        if naics_basis and naics_basis != "organisation":
            provenance[nid]["naics_basis"] = naics_basis
        rows.append(row)
    return rows, provenance


def _one_currency(
    ledger: RelationshipLedger, target: str, year: int, who: str, warnings: list[str]
) -> tuple[float | None, str, dict[str, Any]]:
    """A supplier's ledger amounts of several currencies on one currency, recording how."""
    import spend_factors

    if len(ledger.amounts) == 1:
        amount, currency, lines = ledger.amounts[0]
        return amount, currency, {}
    total, lines_used, conversions = 0.0, 0, []
    for amount, currency, lines in ledger.amounts:
        try:
            converted, how = spend_factors.convert_money(amount, currency, year, target, year)
        except spend_factors.ConversionError as exc:
            warnings.append(
                f"{who}: {lines} ledger line(s) in {currency} left out of the spend used for "
                f"allocation, cannot convert to {target} {year}: {exc}"
            )
            continue
        total += float(np.asarray(converted).ravel()[0])
        lines_used += lines
        conversions.append(
            {"amount": amount, "currency": currency, "lines": lines, "conversion": how}
        )
    if not lines_used:
        return None, target, {"conversions": conversions}
    return total, target, {"conversions": conversions}


def _allocates_by_spend(disclosure: Disclosure | None) -> bool:
    """The supplier's share to the brand will be spend / revenue (own emissions and revenue
    disclosed, no share)."""
    return (
        disclosure is not None
        and disclosure.scope1_kg is not None
        and (disclosure.scope2_market_kg is not None or disclosure.scope2_location_kg is not None)
        and disclosure.allocation_share is None
        and disclosure.revenue is not None
        and bool(disclosure.revenue_currency)
    )


def _ledger_edge(
    stored: _Stored, rel: SupplierRelationship, year: int, edge: dict[str, Any]
) -> dict[str, Any]:
    """Ledger spend (for allocation) and its line-level estimate on a supplier → brand edge."""
    ledger = stored.ledger.by_relationship[rel.id]
    supplier = stored.orgs[rel.supplier_id]
    disclosure = stored.disclosures.get(rel.supplier_id)
    target = (
        disclosure.revenue_currency
        if disclosure is not None and disclosure.revenue_currency
        else supplier.default_currency or "USD"
    ).upper()
    amount, currency, prov = _one_currency(ledger, target, year, supplier.name, stored.warnings)
    if amount is not None:
        edge.update(spend=amount, currency=currency, year=year)
    if ledger.priced:
        edge.update(
            spend_kg_co2e=ledger.kg_co2e,
            spend_dq_score=ledger.dq_score,
            spend_uncertainty_pct=ledger.uncertainty_pct,
            factor_codes=";".join(ledger.factor_codes),
            line_ids=";".join(str(i) for i in ledger.line_ids),
            factor_reference=f"{len(ledger.line_ids)} ledger line(s) estimated line by line",
        )
    elif not _allocates_by_spend(disclosure):
        # nothing priced: keep the spend only for spend / revenue allocation, so that it is
        # never estimated again by another route than the ledger's
        edge.pop("spend", None)
    return {
        "basis": "ledger",
        "lines": len(ledger.line_ids),
        "priced_lines": ledger.priced_lines,
        "line_ids": ledger.line_ids[:LINE_IDS_KEPT],
        **prov,
    }


def _direct_edges(stored: _Stored, year: int, provenance: dict[str, dict]) -> dict:
    """Supplier → brand edges with the brand's ledger (or annual) spend of the year."""
    brand_node = node_id(stored.brand.id)
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for rel in stored.direct:
        sid = node_id(rel.supplier_id)
        edge: dict[str, Any] = {"supplier_id": sid, "customer_id": brand_node}
        if rel.id in stored.ledger.by_relationship:
            spend_prov = _ledger_edge(stored, rel, year, edge)
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
        disclosure = stored.disclosures.get(rel.supplier_id)
        if disclosure is not None and disclosure.allocation_share is not None:
            edge["share"] = float(disclosure.allocation_share)
            edge["share_method"] = disclosure.allocation_method or ""
            provenance[sid]["allocation_share"] = float(disclosure.allocation_share)
            provenance[sid]["allocation_method"] = disclosure.allocation_method
        provenance[sid]["spend_to_brand"] = spend_prov
        edges[(sid, brand_node)] = edge
    return edges


def _tier_links(stored: _Stored, edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Add the brand's tier-n links of the year; a link may complete a direct edge."""
    for link in stored.links:
        key = (node_id(link.supplier_id), node_id(link.customer_id))
        spend = None if link.spend is None else float(link.spend)
        if spend is not None and not link.currency:
            stored.warnings.append(
                f"{stored.name(link.supplier_id)} → {stored.name(link.customer_id)}: "
                "spend without a currency is left out"
            )
            spend = None
        edge = edges.setdefault(key, {"supplier_id": key[0], "customer_id": key[1]})
        if "share" not in edge and link.allocation_share is not None:
            edge["share"] = float(link.allocation_share)
            edge["share_method"] = link.allocation_basis or ""
        if "spend" not in edge and spend is not None:
            edge.update(spend=spend, currency=link.currency.upper(), year=link.year)


def _inputs_hash(header: dict[str, Any], nodes: list[dict], edges: list[dict]) -> str:
    """SHA-256 of everything the run is computed from, so equal inputs give equal hashes."""
    payload = jsonable({**header, "nodes": nodes, "edges": edges})
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _organizations(stored: _Stored) -> dict[str, OrgRef]:
    return {
        node_id(i): OrgRef(
            id=i,
            public_id=str(org.public_id),
            name=org.name,
            category=stored.rel_of[i].category if i in stored.rel_of else None,
        )
        for i, org in stored.orgs.items()
    }


def _load_factors(dataset: str, version: str | None, store_root: str | Path | None) -> Any:
    import spend_factors

    try:
        return spend_factors.load_dataset(dataset, version, store_root=store_root)
    except spend_factors.DatasetError as exc:
        raise FootprintRunError(f"factor dataset {dataset!r}: {exc}") from exc


def build_network(
    session: Session,
    brand_id: int,
    year: int,
    *,
    dataset: str = "starter",
    version: str | None = None,
    margins: str = "include",
    store_root: str | Path | None = None,
) -> tuple[FootprintNetwork, RunInputs]:
    """The brand's supply network for one year, and a record of everything it was built from.

    Node ids are ``org-<organization id>``; ``store_root`` is the factor store the dataset is
    read from (the caller's setting, never the process environment).
    """
    import spend_factors

    brand = session.get(Organization, brand_id)
    if brand is None or brand.kind != OrgKind.BRAND:
        raise FootprintRunError(f"organisation {brand_id} is not a brand")
    try:
        margins = spend_factors.margins_option(margins)
    except ValueError as exc:
        raise FootprintRunError(str(exc)) from exc
    factors = _load_factors(dataset, version, store_root)
    meta = factors.metadata
    options = {"dataset": meta.name, "version": meta.version, "margins": margins}
    stored = _read(session, brand, year, factors, margins)
    node_rows, provenance = _node_rows(stored, year)
    edges = _direct_edges(stored, year, provenance)
    _tier_links(stored, edges)
    edge_rows = list(edges.values())
    header = {"brand": str(brand.public_id), "year": year, **options}
    inputs = RunInputs(
        brand_node=node_id(brand_id),
        year=year,
        dataset=meta.name,
        dataset_version=meta.version,
        margins=margins,
        inputs_hash=_inputs_hash(header, node_rows, edge_rows),
        organizations=_organizations(stored),
        provenance=provenance,
        warnings=stored.warnings,
        counts={
            "suppliers": len(node_rows) - 1,
            "edges": len(edge_rows),
            "ledger_lines": stored.ledger.lines,
            "with_disclosure": sum(
                1 for p in provenance.values() if p.get("data_source") == "disclosure"
            ),
        },
    )
    network = _engine_network(node_rows, edge_rows, inputs, store_root)
    network.name = f"{brand.slug} {year}"
    return network, inputs


def _engine_network(
    node_rows: list[dict], edge_rows: list[dict], inputs: RunInputs, store_root: Any
) -> FootprintNetwork:
    """Put the rows on the engine's basis; conversion and factor gaps become warnings."""
    names = {nid: org.name for nid, org in inputs.organizations.items()}
    node_frame = pd.DataFrame(node_rows)
    edge_frame = (
        pd.DataFrame(edge_rows)
        if edge_rows
        else pd.DataFrame(columns=["supplier_id", "customer_id"])
    )
    source = SpendFactorsSource(
        inputs.dataset, inputs.dataset_version, store_root=store_root, margins=inputs.margins
    )
    built = network_from_tables(
        node_frame,
        edge_frame,
        source,
        edge_labels=[f"{names[e['supplier_id']]} → {names[e['customer_id']]}" for e in edge_rows],
        node_labels=[names[n["node_id"]] for n in node_rows],
    )
    name = inputs.namer()
    inputs.warnings += [name(message) for message in built.errors + built.warnings]
    return built.network
