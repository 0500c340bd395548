"""Assign a factor code (NAICS 2017) to each spend line, recording how and how sure.

Order of precedence, first hit wins:

1. ``explicit``          - the line's own ``naics`` column;
2. ``supplier``          - the supplier's main activity (``supplier_naics``), nothing on the line;
3. ``crosswalk-isic``    - ISIC Rev.4 division (2 digits) via the shipped crosswalk;
4. ``crosswalk-gbt4754`` - China GB/T 4754-2017 division via the shipped crosswalk;
5. ``text-match``        - the ``description``: Chinese/English keyword table first, then a
   rapidfuzz match against the dataset's sector titles;
6. ``unclassified``      - nothing usable; the line goes to review.

An explicit or supplier code that the dataset does not contain is a validation error (the user
asked for it), while a crosswalk target or weak text match goes to review instead of being
guessed. All work is done once per unique value and broadcast back to the lines.

``naics_system`` / ``supplier_naics_system`` (optional) name the classification of those codes
(any spelling :func:`normalise_sector_system` knows; blank = the dataset's own codes). A code of
another NAICS edition than the dataset's is used only where the same code exists in the dataset,
with lower confidence and a ``note`` saying so (no concordance ships); otherwise, and for codes
of an unrelated classification, the line goes to review.
"""

from __future__ import annotations

import re
import unicodedata
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
    "normalise_sector_system",
    "SECTOR_SYSTEM_LABELS",
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
# a code of another NAICS edition found under the same number in the dataset: usually the same
# industry, but not checked against a concordance
EDITION_CONFIDENCE_PENALTY = 10.0
SECTOR_SYSTEM_LABELS = {
    "NAICS2017": "NAICS 2017",
    "NAICS2022": "NAICS 2022",
    "ISIC4": "ISIC Rev.4",
    "GBT4754": "GB/T 4754-2017",
}
_SYSTEM_PATTERNS = (
    (re.compile(r"^(?:NAICS(?:2017|17)?|2017NAICS)$"), "NAICS2017"),
    (re.compile(r"^(?:NAICS(?:2022|22)|2022NAICS)$"), "NAICS2022"),
    (re.compile(r"^ISIC(?:REV)?(?:4|IV|40)?$"), "ISIC4"),
    (re.compile(r"^(?:GBT?4754(?:2017)?|国民经济行业分类(?:GBT?4754(?:2017)?)?)$"), "GBT4754"),
)
_CROSSWALK_FILES = {
    "isic": "crosswalk_isic4_naics2017.csv",
    "gbt4754": "crosswalk_gbt4754_naics2017.csv",
}


def normalise_sector_system(value: str | None) -> str | None:
    """Canonical key of a sector-classification name: the one place spellings are compared.

    "NAICS", "naics 2017", "2017 NAICS" -> ``NAICS2017``; "NAICS 2022" -> ``NAICS2022``;
    "ISIC Rev.4", "ISIC4", "ISICREV.4" (as stored before) -> ``ISIC4``; "GB/T 4754",
    "GBT4754-2017", "国民经济行业分类" -> ``GBT4754``. Blank gives None (the caller's default)
    and so does an unknown or other edition (NAICS 2012, ISIC Rev.3, GB/T 4754-2011, NACE):
    callers must not treat those codes as one of the known systems.
    """
    if value is None:
        return None
    compact = _compact(str(value))
    if not compact:
        return None
    for pattern, key in _SYSTEM_PATTERNS:
        if pattern.fullmatch(compact):
            return key
    return None


def _system_key(value: str) -> str:
    """Canonical key when known, else the compacted spelling (to compare unknown names)."""
    return normalise_sector_system(value) or _compact(value)


def _compact(value: str) -> str:
    """Upper-case letters, digits and CJK only, after NFKC (full-width forms) and dropping a
    parenthesised remark such as "(6-digit)"."""
    text = re.sub(r"\(.*?\)", "", unicodedata.normalize("NFKC", value)).upper()
    return re.sub(r"[^0-9A-Z\u4e00-\u9fff]", "", text)


def _system_label(value: str) -> str:
    return SECTOR_SYSTEM_LABELS.get(normalise_sector_system(value) or "", value)


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
    note: np.ndarray | None = None  # notes on used codes ("" when none); None: no notes

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


_USE, _ERROR, _REVIEW = 0, 1, 2


@dataclass
class _Outcomes:
    """Per unique (code, system) pair: use / error / review, with reason, note and penalty."""

    status: np.ndarray
    reason: np.ndarray
    note: np.ndarray
    penalty: np.ndarray


def _code_outcomes(
    column: str, codes: np.ndarray, systems: np.ndarray, dataset: FactorDataset
) -> _Outcomes:
    """Decide how each (code, system) pair may be used against the dataset's classification.

    Same system (or blank): used when present, else an error. Another NAICS edition: used
    where the same code exists in the dataset (with a note and lower confidence), else review.
    Any other classification: review, never read as the dataset's codes.
    """
    k = len(codes)
    status = np.full(k, _USE, dtype=np.int8)
    reason = np.full(k, "", dtype=object)
    note = np.full(k, "", dtype=object)
    penalty = np.zeros(k)
    classification = dataset.metadata.classification or ""
    own = _system_key(classification)
    label = f"dataset {dataset.name} {dataset.version} ({_system_label(classification)})"
    positions = dataset.positions(codes)
    for i, (code, system, pos) in enumerate(zip(codes, systems, positions, strict=True)):
        key = _system_key(system) if system else own
        if not code:
            continue
        if key == own:
            status[i] = _USE if pos >= 0 else _ERROR
        elif key.startswith("NAICS") and own.startswith("NAICS"):
            theirs = SECTOR_SYSTEM_LABELS[key]
            if pos >= 0:
                note[i] = (
                    f"{column} {code} is a {theirs} code, used as the same code of {label}; "
                    f"no {theirs} concordance applied: check the industry did not change"
                )
                penalty[i] = EDITION_CONFIDENCE_PENALTY
            else:
                status[i] = _REVIEW
                reason[i] = (
                    f"{column} {code} is a {theirs} code that {label} does not have, and no "
                    f"concordance between the editions ships: give the "
                    f"{_system_label(classification)} code"
                )
        else:
            status[i] = _REVIEW
            reason[i] = (
                f"{column} {code} is a {_system_label(system)} code; {label} uses other codes "
                "and no crosswalk between them is applied (ISIC Rev.4 and GB/T 4754 codes "
                "belong in the isic and gbt4754 columns)"
            )
    return _Outcomes(status, reason, note, penalty)


@dataclass
class _Work:
    """Per-line results filled step by step; a step leaves ``done`` lines alone."""

    code: np.ndarray
    method: np.ndarray
    confidence: np.ndarray
    reason: np.ndarray
    done: np.ndarray
    label: str  # the dataset, as named in messages
    problems: list[CodeProblem] = field(default_factory=list)
    note: np.ndarray | None = None  # allocated only when a line gets a note

    @classmethod
    def start(cls, n: int, dataset: FactorDataset) -> _Work:
        return cls(
            code=np.full(n, "", dtype=object),
            method=np.full(n, METHODS.index("unclassified"), dtype=np.int8),
            confidence=np.zeros(n, dtype=float),
            reason=np.full(n, "", dtype=object),
            done=np.zeros(n, dtype=bool),
            label=f"dataset {dataset.name} {dataset.version} ({len(dataset.codes)} codes)",
        )


def _stated_codes(lines: pd.DataFrame, dataset: FactorDataset, w: _Work) -> None:
    """Steps 1-2: the line's own code, then the supplier's; unknown codes are errors."""
    for column, name in (("naics", "explicit"), ("supplier_naics", "supplier")):
        inv, uniq = _factorize_clean(lines, column)
        present = (uniq != "")[inv] & ~w.done
        if not present.any():
            continue
        sinv, systems = _factorize_clean(lines, f"{column}_system")
        if len(systems) == 1:  # one system (or none given) for every line
            pair_of_line, pairs = inv, np.arange(len(uniq))
        else:
            pair_of_line, pairs = pd.factorize(inv * len(systems) + sinv)
        outcome = _code_outcomes(
            column, uniq[pairs // len(systems)], systems[pairs % len(systems)], dataset
        )
        status = outcome.status[pair_of_line]
        unknown = present & (status == _ERROR)
        if unknown.any():
            where = np.flatnonzero(unknown)
            w.problems.append(
                CodeProblem(where, column, uniq[inv[where]], f"unknown code: not in {w.label}")
            )
        use = present & (status == _USE)
        w.code[use] = uniq[inv[use]]
        to_review = present & (status == _REVIEW)
        if to_review.any():
            w.reason[to_review] = outcome.reason[pair_of_line[to_review]]
        w.method[present] = METHODS.index(name)
        w.confidence[present] = BASE_CONFIDENCE[name]
        if outcome.penalty.any():  # only codes of another NAICS edition carry notes
            noted = present & (outcome.penalty[pair_of_line] > 0)
            if w.note is None:
                w.note = np.full(len(w.code), "", dtype=object)
            w.note[noted] = outcome.note[pair_of_line[noted]]
            w.confidence[noted] -= outcome.penalty[pair_of_line[noted]]
        w.done |= present


def _crosswalk_reasons(
    system: str,
    divisions: list[str],
    known: np.ndarray,
    target: np.ndarray,
    tpos: np.ndarray,
    label: str,
) -> np.ndarray:
    """Review reason per unique division ("" when the crosswalk gives a usable code)."""
    out = np.full(len(divisions), "", dtype=object)
    for i, (d, k, t, p) in enumerate(zip(divisions, known, target, tpos, strict=True)):
        if k and not t:
            out[i] = (
                f"{system} division {d} has no representative NAICS code in the crosswalk "
                "(no spend-based factor; use activity data)"
            )
        elif k and p < 0:
            out[i] = f"{system} division {d} maps to NAICS {t}, which is not in {label}"
    return out


def _crosswalk_codes(lines: pd.DataFrame, dataset: FactorDataset, w: _Work) -> None:
    """Steps 3-4: ISIC Rev.4 / GB/T 4754-2017 divisions through the shipped crosswalks."""
    for system in ("isic", "gbt4754"):
        name = f"crosswalk-{system}"
        inv, uniq = _factorize_clean(lines, system)
        present = (uniq != "")[inv] & ~w.done
        if not present.any():
            continue
        table = crosswalk_table(system)
        lookup = dict(zip(table["division"], table["naics"], strict=True))
        divisions = [_division(u) for u in uniq]
        known = np.array([d in lookup for d in divisions])
        target = np.array([lookup.get(d, "") for d in divisions], dtype=object)
        tpos = dataset.positions(target)
        u_reason = _crosswalk_reasons(system, divisions, known, target, tpos, w.label)
        unknown = present & ~known[inv]
        if unknown.any():
            where = np.flatnonzero(unknown)
            w.problems.append(
                CodeProblem(
                    where,
                    system,
                    uniq[inv[where]],
                    f"unknown code: not a {system} division in the crosswalk",
                )
            )
        ok = present & (tpos >= 0)[inv]
        w.code[ok] = target[inv[ok]]
        w.reason[present] = u_reason[inv[present]]
        w.method[present] = METHODS.index(name)
        w.confidence[present] = BASE_CONFIDENCE[name]
        w.done |= present


def _text_codes(
    lines: pd.DataFrame, dataset: FactorDataset, w: _Work, review_threshold: float
) -> None:
    """Step 5: the description, matched once per unique text."""
    inv, uniq = _factorize_clean(lines, "description")
    present = (uniq != "")[inv] & ~w.done
    if not present.any():
        return
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
    w.code[present] = u_code[inv[present]]
    w.confidence[present] = u_score[inv[present]]
    w.reason[present] = u_reason[inv[present]]
    w.method[present] = METHODS.index("text-match")
    w.done |= present


def _below_threshold(w: _Work, review_threshold: float) -> None:
    """Lines of any method whose confidence is below the threshold go to review."""
    low = w.done & (w.confidence < review_threshold) & (w.reason == "")
    for i, name in enumerate(METHODS):
        mask = low & (w.method == i)
        for value in np.unique(w.confidence[mask]):  # one or two values per non-text method
            w.reason[mask & (w.confidence == value)] = (
                f"{name} confidence {value:.0f} below threshold {review_threshold:g}"
            )


def classify(
    lines: pd.DataFrame, dataset: FactorDataset, review_threshold: float = 80.0
) -> Classification:
    """Classify every line (vectorised over unique values); see module docstring for order."""
    w = _Work.start(len(lines), dataset)
    _stated_codes(lines, dataset, w)
    _crosswalk_codes(lines, dataset, w)
    _text_codes(lines, dataset, w, review_threshold)
    # 6: nothing usable
    w.reason[~w.done] = "unclassified: no naics, supplier_naics, isic, gbt4754 or description"
    _below_threshold(w, review_threshold)
    review = w.reason != ""
    w.code[review] = ""
    if w.note is not None:
        w.note[review] = ""
    position = dataset.positions(w.code)
    return Classification(w.code, position, w.method, w.confidence, w.reason, w.problems, w.note)
