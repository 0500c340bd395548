"""Translated labels and number formatting for templates, in one place."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_decimal, get_locale, lazy_gettext

from questionnaires.model import text as definition_text

STATUS_LABELS = {
    "active": lazy_gettext("Active"),
    "under_review": lazy_gettext("Under review"),
    "delisted": lazy_gettext("Delisted"),
}
JOB_STATUS_LABELS = {
    "queued": lazy_gettext("Queued"),
    "running": lazy_gettext("Running"),
    "finished": lazy_gettext("Finished"),
    "failed": lazy_gettext("Failed"),
}
CAMPAIGN_STATUS_LABELS = {
    "draft": lazy_gettext("Draft"),
    "running": lazy_gettext("Running"),
    "closed": lazy_gettext("Closed"),
}
INVITATION_STATUS_LABELS = {
    "invited": lazy_gettext("Invited"),
    "opened": lazy_gettext("Opened"),
    "in_progress": lazy_gettext("In progress"),
    "submitted": lazy_gettext("Submitted"),
    "returned": lazy_gettext("Returned for revision"),
    "accepted": lazy_gettext("Accepted"),
    "declined": lazy_gettext("Declined"),
    "overdue": lazy_gettext("Overdue"),
}
KIND_LABELS = {
    "suppliers": lazy_gettext("Supplier import"),
    "spend": lazy_gettext("Spend import"),
    "import.suppliers": lazy_gettext("Supplier import"),
    "import.spend": lazy_gettext("Spend import"),
}


# Import problems in the user's language; the importer's English message stays the detailed one.
IMPORT_RULE_LABELS = {
    "required_missing": lazy_gettext("A required value is missing."),
    "too_long": lazy_gettext("The value is too long."),
    "unknown_currency": lazy_gettext("Unknown currency: use an ISO 4217 code such as CNY or USD."),
    "not_a_number": lazy_gettext("The value is not a number."),
    "negative_amount": lazy_gettext("The amount is negative; amounts must be zero or more."),
    "amount_too_large": lazy_gettext("The amount is implausibly large."),
    "bad_date": lazy_gettext("The date cannot be read (use for example 2025-03-31)."),
    "bad_tier": lazy_gettext("The tier must be a whole number from 1 to 10."),
    "bad_status": lazy_gettext("Unknown status: use active, under_review or delisted."),
    "bad_country": lazy_gettext("Unknown country: use a two-letter ISO code such as CN."),
    "bad_year": lazy_gettext("The year is not valid."),
    "bad_sector_code": lazy_gettext("The sector code is not valid for its classification."),
    "currency_required": lazy_gettext("An amount needs a currency."),
    "unknown_supplier": lazy_gettext("No supplier with this code: import the suppliers first."),
    "duplicate_code": lazy_gettext("This supplier code appears more than once in the file."),
    "duplicate_registration_id": lazy_gettext(
        "This registration ID appears more than once in the file."
    ),
    "registration_in_use": lazy_gettext(
        "This registration ID already belongs to another of your suppliers."
    ),
    "extra_cells": lazy_gettext("The row has more cells than the header (a stray delimiter?)."),
    "control_character": lazy_gettext(
        "The value contains a control character (shown as <U+…>); remove it from the file."
    ),
}

# Whole-file refusals by the importer's code; the parameters come from the importer.
IMPORT_REFUSAL_LABELS = {
    "encoding_uncertain": lazy_gettext(
        "Could not tell the text encoding of %(file)s: it could be %(candidates)s. "
        "Choose the encoding and import it again."
    ),
    "encoding_invalid": lazy_gettext(
        "%(file)s is not valid %(encoding)s text (byte %(byte)s). Check the encoding."
    ),
    "encoding_not_known": lazy_gettext("'%(encoding)s' is not a known text encoding."),
    "xlsx_damaged": lazy_gettext(
        "The XLSX file %(file)s is damaged or contains forbidden XML entity declarations. "
        "Open it in Excel, save a copy as .xlsx and import that."
    ),
    "xlsx_too_large": lazy_gettext(
        "The XLSX file %(file)s would expand to %(size)s MB when opened, more than the "
        "%(limit)s MB allowed."
    ),
    "xlsx_ratio": lazy_gettext(
        "The XLSX file %(file)s has a part (%(part)s) that expands %(ratio)s times, more than "
        "the %(limit)s allowed; it looks like a zip bomb."
    ),
    "xlsx_too_many_parts": lazy_gettext(
        "The XLSX file %(file)s has %(count)s parts, more than the %(limit)s allowed."
    ),
    "xlsx_odd_part": lazy_gettext(
        "The XLSX file %(file)s holds a part a workbook does not have: %(part)s."
    ),
    "too_many_rows": lazy_gettext(
        "%(file)s has more than %(limit)s rows. Split it into smaller files."
    ),
    "too_many_columns": lazy_gettext(
        "Line %(line)s of %(file)s has %(count)s columns, more than the %(limit)s allowed."
    ),
    "cell_too_long": lazy_gettext(
        "Line %(line)s of %(file)s has a cell longer than %(limit)s characters, the most a "
        "cell may hold."
    ),
}


def refusal_text(refusal: dict) -> str:
    """Why a whole import file was refused, in the user's language."""
    label = IMPORT_REFUSAL_LABELS.get(refusal.get("code") or "")
    params = dict(refusal.get("params") or {})
    if label is None:
        return ""
    params["candidates"] = ", ".join(params.get("candidates") or [])
    return str(label) % params


def problem_text(problem: dict) -> str:
    """The problem in the user's language; English users get the importer's own detail."""
    label = IMPORT_RULE_LABELS.get(problem.get("rule", ""))
    if label is None or get_locale().language != "zh":
        return problem.get("message", "")
    return str(label)


def format_magnitude(value: float, smallest: str = "0.000") -> str:
    """A number with fewer decimals the larger it is (1,234 · 12.3 · 1.23), so tonnes and
    intensities read alike; `smallest` is the pattern below 1."""
    size = abs(value)
    if size == 0:
        return format_decimal(0, format="0")
    pattern = (
        "#,##0"
        if size >= 100
        else "#,##0.0"
        if size >= 10
        else "#,##0.00"
        if size >= 1
        else smallest
    )
    return format_decimal(value, format=pattern)


def format_money(amount: Decimal | float | None, currency: str | None) -> str:
    """Money always shows its currency; no amount is ever shown without one."""
    if amount is None:
        return ""
    return f"{format_decimal(amount, format='#,##0.00')} {currency or '???'}"


def template_helpers() -> dict:
    return {
        "status_label": lambda value: STATUS_LABELS.get(value, value),
        "job_status_label": lambda value: JOB_STATUS_LABELS.get(value, value),
        "kind_label": lambda value: KIND_LABELS.get(value, value),
        "campaign_status_label": lambda value: CAMPAIGN_STATUS_LABELS.get(value, value),
        "invitation_status_label": lambda value: INVITATION_STATUS_LABELS.get(value, value),
        "definition_text": definition_text,
        "format_money": format_money,
        "problem_text": problem_text,
        "refusal_text": refusal_text,
        "get_locale": get_locale,
    }
