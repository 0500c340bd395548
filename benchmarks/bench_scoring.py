"""Benchmark of the vectorised supplier scoring against a per-supplier Python loop.

Scores a deterministic synthetic brand (default 100,000 suppliers, ``scoring.engine.
example_frame``) with ``scoring.engine.score_suppliers`` under methodology 1.0, with every item
explained (1.4 million item rows) and the top items per supplier. The baseline is what a
straightforward implementation does: one Python iteration per supplier computing the same
items, points, composite, band, level, letter, risk and engagement potential. Peer groups and
spend order are prepared once up front, as any sensible loop would. The loop scores a sample and
is extrapolated linearly; its composites are compared with the engine's.

    python benchmarks/bench_scoring.py [--suppliers N] [--baseline-sample N] [--quick]
"""

from __future__ import annotations

import argparse
import bisect
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.actions import corrective_actions  # noqa: E402
from scoring.engine import ITEMS, example_frame, score_suppliers  # noqa: E402
from scoring.methodology import MATURITY_LEVELS, Methodology, load_methodology  # noqa: E402

TARGET_SECONDS = 5.0
SEED = 20240901


def _finite(x) -> bool:
    return x is not None and isinstance(x, float) and math.isfinite(x)


def baseline_prepare(frame: pd.DataFrame) -> tuple[dict, dict, float]:
    """The loop's one pass over all suppliers: sorted peer intensities and spend order."""
    peers: dict[str, list[float]] = defaultdict(list)
    for row in frame.itertuples(index=False):
        if row.responded and _finite(row.intensity) and row.intensity >= 0 and row.sector_code:
            peers[row.sector_code].append(row.intensity)
    for values in peers.values():
        values.sort()
    spend = frame["spend"].clip(lower=0).fillna(0).to_numpy()
    order = np.lexsort((frame["relationship_id"].to_numpy(), -spend))
    ids = frame["relationship_id"].tolist()
    larger = {}
    running = 0.0
    for i in order:
        larger[ids[i]] = running
        running += spend[i]
    return peers, larger, running


def baseline_loop(
    sample: pd.DataFrame, prepared: tuple[dict, dict, float], method: Methodology
) -> pd.DataFrame:
    """Score ``sample`` one supplier at a time in plain Python."""
    peers, larger, total_spend = prepared
    cfg = method.config
    items_cfg = cfg["items"]
    bench = cfg["benchmark"]["annual_reduction_pct"]
    ivs = items_cfg["emissions"]["intensity_vs_sector"]
    out = []
    for row in sample.itertuples(index=False):
        responded = bool(row.responded)
        disclosed = responded and _finite(row.intensity) and row.intensity >= 0
        sector = row.sector_intensity if _finite(row.sector_intensity) else None
        if sector is not None and sector <= 0:
            sector = None
        items, params = {}, {}
        # emissions
        if disclosed and sector is not None:
            ratio, reason = row.intensity / sector, "intensity_ratio"
        elif disclosed:
            ratio, reason = 1.0, "no_sector_reference"
        else:
            ratio = ivs["undisclosed_ratio"]
            reason = "not_disclosed" if not responded else "intensity_not_reported"
        share = (ivs["zero_ratio"] - ratio) / (ivs["zero_ratio"] - ivs["full_ratio"])
        items["intensity_vs_sector"] = (True, min(max(share, 0.0), 1.0), reason)
        params["intensity_vs_sector"] = {
            "intensity": row.intensity if disclosed else None,
            "sector_intensity": sector,
            "ratio": round(ratio, 4),
        }
        group = peers.get(row.sector_code, []) if disclosed and row.sector_code else []
        if len(group) >= items_cfg["emissions"]["peer_percentile"]["min_peers"]:
            higher = len(group) - bisect.bisect_right(group, row.intensity)
            equal = bisect.bisect_right(group, row.intensity) - bisect.bisect_left(
                group, row.intensity
            )
            pct = (higher + 0.5 * (equal - 1)) / (len(group) - 1)
            items["peer_percentile"] = (True, pct, "peer_percentile")
            params["peer_percentile"] = {"percentile": round(pct * 100, 1), "peers": len(group)}
        else:
            items["peer_percentile"] = (False, 0.0, "too_few_peers")
            params["peer_percentile"] = {"percentile": None, "peers": len(group)}
        has_prev = _finite(row.prev_intensity) and row.prev_intensity > 0
        if disclosed and has_prev:
            reduction = (1.0 - row.intensity / row.prev_intensity) * 100.0
            items["trend"] = (True, min(max(reduction / bench, 0.0), 1.0), "trend")
        else:
            reduction = None
            items["trend"] = (not disclosed, 0.0, "trend")
        params["trend"] = {
            "reduction_pct": None if reduction is None else round(reduction, 2),
            "intensity": row.intensity if disclosed else None,
            "previous_intensity": row.prev_intensity if has_prev else None,
        }
        renewable = row.renewable_share if responded and _finite(row.renewable_share) else 0.0
        items["renewable_share"] = (True, min(max(renewable, 0.0), 1.0), "renewable_share")
        params["renewable_share"] = {"share_pct": round(renewable * 100, 1)}
        # targets
        status_cfg = items_cfg["targets"]["target_status"]
        status = row.target_status
        items["target_status"] = (True, status_cfg["ladder"][status] / status_cfg["points"], "")
        params["target_status"] = {"status": status}
        pct = row.target_annual_reduction_pct
        if status == "none":
            ambition = 0.0
        elif _finite(pct):
            ambition = min(max(pct / bench, 0.0), 1.0)
        else:
            ambition = 1.0 if status == "sbti_validated" else 0.0
        items["target_ambition"] = (True, ambition, "")
        params["target_ambition"] = {"annual_reduction_pct": pct if _finite(pct) else None}
        # maturity
        shares = {}
        for level in MATURITY_LEVELS:
            value = getattr(row, f"maturity_{level}")
            shares[level] = min(max(value, 0.0), 1.0) if responded and _finite(value) else 0.0
            items[f"level_{level}"] = (True, shares[level], "level_share")
            params[f"level_{level}"] = {"share_pct": round(shares[level] * 100, 1)}
        # data quality
        dq = row.dq_score if _finite(row.dq_score) else 5.0
        dq = min(max(dq, 1.0), 5.0)
        items["dq_score"] = (True, (5.0 - dq) / 4.0, "dq_score")
        params["dq_score"] = {"dq_score": round(dq, 2)}
        completeness = row.completeness if _finite(row.completeness) else 0.0
        completeness = min(max(completeness, 0.0), 1.0) if responded else 0.0
        items["completeness"] = (True, completeness, "completeness")
        params["completeness"] = {"completeness_pct": round(completeness * 100, 1)}
        ver = items_cfg["data_quality"]["verification"]
        vouched = 1.0 if responded else 0.0
        items["verification"] = (
            True,
            vouched * ver["ladder"][row.verification] / ver["points"],
            "",
        )
        src = items_cfg["data_quality"]["data_source"]
        source_points = src["ladder"].get(row.data_source, 0.0)
        items["data_source"] = (True, vouched * source_points / src["points"], "")
        params["verification"] = {"value": row.verification}
        params["data_source"] = {"value": row.data_source}

        scores, explained = {}, []
        for dim in method.weights:
            keys = [k for d, k in ITEMS if d == dim]
            base = {k: items_cfg[dim][k]["points"] for k in keys}
            total = sum(base[k] for k in keys if items[k][0])
            scale = 100.0 / total if total > 0 else 0.0
            dim_total = 0.0
            for k in keys:
                applicable, share, reason = items[k]
                full = base[k] * scale if applicable else 0.0
                earned = round(full * min(max(share, 0.0), 1.0), 2)
                dim_total += earned
                explained.append(
                    {
                        "dimension": dim,
                        "item": k,
                        "earned": earned,
                        "possible": round(full, 2),
                        "reason": reason,
                        "params": params[k],
                    }
                )
            scores[dim] = round(dim_total, 2)
        composite = round(sum(method.weights[d] * scores[d] for d in scores), 2)
        effects = []
        for position, e in enumerate(explained):
            delta = method.weights[e["dimension"]] * (e["earned"] - e["possible"] / 2)
            if e["possible"] > 0 and delta != 0:
                effects.append((-abs(delta), position, delta, e))
        top = [
            {
                "dimension": e["dimension"],
                "item": e["item"],
                "earned": e["earned"],
                "possible": e["possible"],
                "effect": "raised" if delta > 0 else "lowered",
            }
            for _, _, delta, e in sorted(effects, key=lambda t: t[:2])[:3]
        ]
        if composite >= method.bands["approved_min"]:
            band = (
                "approved"
                if responded or method.bands["approve_without_disclosure"]
                else ("conditional")
            )
        elif composite >= method.bands["conditional_min"]:
            band = "conditional"
        else:
            band = "rejected"
        level, letter, walking = "none", "F", responded
        if responded:
            level, letter = "disclosure", cfg["maturity_letters"]["disclosure"]["letters"][0]
        for name in MATURITY_LEVELS:
            spec = cfg["maturity_letters"][name]
            if walking and shares[name] >= spec["minus"]:
                full = shares[name] >= spec["full"]
                level, letter = name, spec["letters"][1 if full else 0]
                walking = full
            else:
                walking = False
        risk_ratio = (row.intensity / sector if disclosed else ratio) if sector else None
        risk = cfg["risk"]
        points = (
            risk["unknown_sector_points"]
            if risk_ratio is None
            else 2
            if risk_ratio >= risk["intensity_ratio"]["high"]
            else 1
            if risk_ratio >= risk["intensity_ratio"]["medium"]
            else 0
        )
        mine = max(row.spend, 0.0) if _finite(row.spend) else 0.0
        share_larger = larger[row.relationship_id] / total_spend if total_spend > 0 else 1.0
        if mine > 0:
            conc = risk["spend_concentration"]
            points += (
                2 if share_larger < conc["high"] else 1 if share_larger < conc["medium"] else 0
            )
        gaps = risk["data_gaps"]
        if not responded:
            points += 2
        elif dq >= gaps["dq_medium"] or completeness < gaps["completeness_medium"]:
            points += 1
        risk_level = (
            "high"
            if points >= risk["levels"]["high"]
            else "medium"
            if points >= risk["levels"]["medium"]
            else "low"
        )
        exposure = mine * (row.intensity if disclosed else (sector or math.nan))
        if not math.isfinite(exposure):
            exposure = row.contribution_kg
        out.append(
            {
                "relationship_id": row.relationship_id,
                "composite": composite,
                **{f"{d}_score": s for d, s in scores.items()},
                "band": band,
                "maturity_level": level,
                "maturity_letter": letter,
                "risk_level": risk_level,
                "capability_level": cfg["capability"][level],
                "engagement_potential_kg": exposure * (1 - scores["maturity"] / 100.0),
                "items": explained,
                "top_items": top,
            }
        )
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="10,000 suppliers (smoke test)")
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else args.suppliers
    sample = min(args.baseline_sample, n)
    method = load_methodology("1.0")
    frame = example_frame(n, SEED)
    score_suppliers(frame.head(1000), method)  # warm imports and caches

    t0 = time.perf_counter()
    result = score_suppliers(frame, method)
    vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    actions = corrective_actions(result, method)
    actions_s = time.perf_counter() - t0
    s = result.suppliers
    bands = s["band"].value_counts()
    print(
        f"suppliers {n:,}: {int(s['responded'].sum()):,} disclosed,"
        f" item rows {len(result.items):,},"
        f" approved {bands.get('approved', 0):,}, conditional {bands.get('conditional', 0):,},"
        f" rejected {bands.get('rejected', 0):,}; corrective actions {len(actions):,}"
        f" in {actions_s:.2f} s"
    )

    t0 = time.perf_counter()
    prepared = baseline_prepare(frame)
    prepare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = baseline_loop(frame.iloc[:sample], prepared, method)
    loop = prepare_s + (time.perf_counter() - t0) * n / sample
    agree = bool(
        np.allclose(base["composite"], s["composite"].iloc[:sample], atol=0.02)
        and (base["band"].to_numpy() == s["band"].iloc[:sample].to_numpy()).mean() > 0.999
        and (
            base["maturity_letter"].to_numpy() == s["maturity_letter"].iloc[:sample].to_numpy()
        ).all()
        and (base["risk_level"].to_numpy() == s["risk_level"].iloc[:sample].to_numpy()).all()
    )
    label = "scoring_100k" if n == 100_000 else f"scoring_{n:,}"
    extrap = (
        f"one preparing pass over all, then the loop extrapolated from {sample:,} suppliers"
        if sample < n
        else f"measured on {n:,}"
    )
    print(
        f"{label}: {vec:.2f} s (target ≤ {TARGET_SECONDS:g} s at 100k) | baseline per-supplier"
        f" loop: {loop:.1f} s ({extrap}) | speed-up {loop / vec:.1f}x | results agree: {agree}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
