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
        "get_locale": get_locale,
    }
