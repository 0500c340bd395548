"""Assign a factor code (NAICS 2017) to each spend line, recording how and how sure.

Order of precedence, first hit wins:

1. ``explicit``          - the line's own ``naics`` column;
2. ``supplier``          - the supplier's sector code (``supplier_naics``);
3. ``crosswalk-isic``    - ISIC Rev.4 division (2 digits) via the shipped crosswalk;
4. ``crosswalk-gbt4754`` - China GB/T 4754-2017 division via the shipped crosswalk;
5. ``text-match``        - the ``description``: Chinese/English keyword table first, then a
   rapidfuzz match against the dataset's sector titles;
6. ``unclassified``      - nothing usable; the line goes to review.

An explicit or supplier code that the dataset does not contain is a validation error (the user
asked for it), while a crosswalk target or weak text match goes to review instead of being
guessed. All work is done once per unique value and broadcast back to the lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from .datasets import FactorDataset

__all__ = [
    "METHODS",
    "BASE_CONFIDENCE",
    "Classification",
    "CodeProblem",
    "classify",
    "crosswalk_table",
    "keyword_table",
    "match_descriptions",
]

DATA_DIR = Path(__file__).parent / "data"

METHODS = (
    "explicit",
    "supplier",
    "crosswalk-isic",
    "crosswalk-gbt4754",
    "text-match",
    "unclassified",
)
BASE_CONFIDENCE = {
    "explicit": 100.0,
    "supplier": 95.0,
    "crosswalk-isic": 85.0,
    "crosswalk-gbt4754": 85.0,
    "unclassified": 0.0,
}
KEYWORD_CONFIDENCE = 90.0
_CROSSWALK_FILES = {
    "isic": "crosswalk_isic4_naics2017.csv",
    "gbt4754": "crosswalk_gbt4754_naics2017.csv",
}


@dataclass
class CodeProblem:
    """Rows whose code cannot be used, for the caller to report as ledger errors."""

    positions: np.ndarray
    column: str
    values: np.ndarray
    rule: str


@dataclass
class Classification:
    """Per-line result: code ("" when none), method index into METHODS, confidence, reason."""

    code: np.ndarray
    position: np.ndarray  # row in dataset.factors, -1 when none
    method: np.ndarray  # int8 indexes into METHODS
    confidence: np.ndarray
    reason: np.ndarray  # object array of review reasons ("" when none)
    problems: list[CodeProblem] = field(default_factory=list)

    def method_names(self) -> pd.Categorical:
        return pd.Categorical.from_codes(self.method, categories=list(METHODS))


@lru_cache(maxsize=4)
def crosswalk_table(system: str) -> pd.DataFrame:
    """Shipped crosswalk (division -> representative NAICS 2017) for ``isic`` or ``gbt4754``."""
    if system not in _CROSSWALK_FILES:
        raise ValueError(f"unknown classification system {system!r}")
    return pd.read_csv(DATA_DIR / _CROSSWALK_FILES[system], dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def keyword_table() -> pd.DataFrame:
    """Shipped description keywords (Chinese and English) -> NAICS 2017."""
    return pd.read_csv(DATA_DIR / "description_keywords.csv", dtype=str, keep_default_na=False)


def _factorize_clean(lines: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Factorize a column and clean only its unique values (strip, drop '.0', NaN -> '')."""
    n = len(lines)
    if column not in lines.columns:
        return np.zeros(n, dtype=np.int64), np.array([""], dtype=object)
    inv, uniques = pd.factorize(lines[column], use_na_sentinel=True)
    cleaned = pd.Series(np.asarray(uniques, dtype=object), dtype=object).map(_clean_code)
    cleaned = np.append(cleaned.to_numpy(dtype=object), "")  # slot for NA (-1 -> last)
    inv = np.where(inv < 0, len(cleaned) - 1, inv)
    return inv.astype(np.int64), cleaned


def _clean_code(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.lower() in ("nan", "none", "null"):
        return ""
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def _division(code: str) -> str:
    """Two-digit division from '24', '2410', 'C2410', 'C24' or '24.10'."""
    digits = re.sub(r"\D", "", code)
    if len(digits) < 2:
        return ""
    return digits[:2]


def match_descriptions(
    descriptions: np.ndarray, dataset: FactorDataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match unique descriptions: keyword table first, then fuzzy title match.

    Returns (code, score 0-100, how) per description, ``how`` being "keyword" or "title".
    """
    n = len(descriptions)
    codes = np.full(n, "", dtype=object)
    scores = np.zeros(n, dtype=float)
    how = np.full(n, "", dtype=object)
    if n == 0:
        return codes, scores, how
    lowered = pd.Series(descriptions, dtype=object).astype(str).str.lower()
    kw = keyword_table()
    kw = kw[kw["naics"].isin(dataset.codes)]
    kw = kw.assign(key=kw["keyword"].str.lower(), klen=kw["keyword"].str.len())
    kw = kw.sort_values("klen", kind="stable")
    for key, naics in zip(kw["key"].tolist(), kw["naics"].tolist(), strict=True):
        hit = lowered.str.contains(key, regex=False).to_numpy()
        codes[hit] = naics  # longer keywords are applied later and win
    matched = codes != ""
    scores[matched] = KEYWORD_CONFIDENCE
    how[matched] = "keyword"
    rest = np.flatnonzero(~matched)
    if len(rest):
        titles = dataset.factors["title"].tolist()
        table_codes = dataset.factors["code"].to_numpy(dtype=object)
        queries = [descriptions[i] for i in rest]
        for start in range(0, len(queries), 2000):
            chunk = queries[start : start + 2000]
            matrix = process.cdist(
                chunk,
                titles,
                scorer=fuzz.token_sort_ratio,
                processor=utils.default_process,
                workers=-1,
            )
            best = matrix.argmax(axis=1)
            idx = rest[start : start + len(chunk)]
            codes[idx] = table_codes[best]
            scores[idx] = matrix[np.arange(len(chunk)), best]
            how[idx] = "title"
    return codes, scores, how


def classify(
    lines: pd.DataFrame, dataset: FactorDataset, review_threshold: float = 80.0
) -> Classification:
    """Classify every line (vectorised over unique values); see module docstring for order."""
    n = len(lines)
    code = np.full(n, "", dtype=object)
    method = np.full(n, METHODS.index("unclassified"), dtype=np.int8)
    confidence = np.zeros(n, dtype=float)
    reason = np.full(n, "", dtype=object)
    done = np.zeros(n, dtype=bool)
    problems: list[CodeProblem] = []
    dataset_label = f"dataset {dataset.name} {dataset.version} ({len(dataset.codes)} codes)"

    # 1-2: explicit codes, then supplier codes; unknown codes are errors
    for column, name in (("naics", "explicit"), ("supplier_naics", "supplier")):
        inv, uniq = _factorize_clean(lines, column)
        upos = dataset.positions(uniq)
        present = (uniq != "")[inv] & ~done
        if not present.any():
            continue
        pos = upos[inv]
        unknown = present & (pos < 0)
        if unknown.any():
            where = np.flatnonzero(unknown)
            problems.append(
                CodeProblem(
                    where, column, uniq[inv[where]], f"unknown code: not in {dataset_label}"
                )
            )
        use = present & (pos >= 0)
        code[use] = uniq[inv[use]]
        method[present] = METHODS.index(name)
        confidence[present] = BASE_CONFIDENCE[name]
        done |= present

    # 3-4: crosswalks from ISIC Rev.4 / GB/T 4754-2017 divisions
    for system in ("isic", "gbt4754"):
        name = f"crosswalk-{system}"
        inv, uniq = _factorize_clean(lines, system)
        present = (uniq != "")[inv] & ~done
        if not present.any():
            continue
        table = crosswalk_table(system)
        lookup = dict(zip(table["division"], table["naics"], strict=True))
        divisions = [_division(u) for u in uniq]
        known = np.array([d in lookup for d in divisions])
        target = np.array([lookup.get(d, "") for d in divisions], dtype=object)
        tpos = dataset.positions(target)
        u_reason = np.array(
            [
                ""
                if not k
                else (
                    f"{system} division {d} has no representative NAICS code in the crosswalk "
                    "(no spend-based factor; use activity data)"
                    if not t
                    else (
                        f"{system} division {d} maps to NAICS {t}, which is not in {dataset_label}"
                        if p < 0
                        else ""
                    )
                )
                for d, k, t, p in zip(divisions, known, target, tpos, strict=True)
            ],
            dtype=object,
        )
        unknown = present & ~known[inv]
        if unknown.any():
            where = np.flatnonzero(unknown)
            problems.append(
                CodeProblem(
                    where,
                    system,
                    uniq[inv[where]],
                    f"unknown code: not a {system} division in the crosswalk",
                )
            )
        ok = present & (tpos >= 0)[inv]
        code[ok] = target[inv[ok]]
        reason[present] = u_reason[inv[present]]
        method[present] = METHODS.index(name)
        confidence[present] = BASE_CONFIDENCE[name]
        done |= present

    # 5: text match of the description
    inv, uniq = _factorize_clean(lines, "description")
    present = (uniq != "")[inv] & ~done
    if present.any():
        wanted = np.unique(inv[present])
        m_code, m_score, m_how = match_descriptions(uniq[wanted], dataset)
        u_code = np.full(len(uniq), "", dtype=object)
        u_score = np.zeros(len(uniq))
        u_reason = np.full(len(uniq), "", dtype=object)
        u_code[wanted] = m_code
        u_score[wanted] = m_score
        titles = dataset.factors["title"].to_numpy(dtype=object)
        mpos = dataset.positions(m_code)
        for j, i in enumerate(wanted.tolist()):
            if m_score[j] < review_threshold:
                title = titles[mpos[j]] if mpos[j] >= 0 else "?"
                u_reason[i] = (
                    f"text match {uniq[i]!r} -> {m_code[j]} ({title}) via {m_how[j]} "
                    f"confidence {m_score[j]:.0f} below threshold {review_threshold:g}"
                )
        code[present] = u_code[inv[present]]
        confidence[present] = u_score[inv[present]]
        reason[present] = u_reason[inv[present]]
        method[present] = METHODS.index("text-match")
        done |= present

    # 6: nothing usable
    reason[~done] = "unclassified: no naics, supplier_naics, isic, gbt4754 or description"

    # below-threshold lines of any method go to review, without a factor
    low = done & (confidence < review_threshold) & (reason == "")
    for i, name in enumerate(METHODS):
        mask = low & (method == i)
        if mask.any():  # confidence is constant per non-text method
            reason[mask] = (
                f"{name} confidence {BASE_CONFIDENCE.get(name, 0):.0f} below "
                f"threshold {review_threshold:g}"
            )
    review = reason != ""
    code[review] = ""
    position = dataset.positions(code)
    return Classification(code, position, method, confidence, reason, problems)
