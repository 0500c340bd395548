"""Service refusals in the user's language: the services raise codes, the web layer words them."""

from __future__ import annotations

from flask_babel import lazy_gettext

MESSAGES = {
    "token_invalid": lazy_gettext("This link is not valid"),
    "token_expired": lazy_gettext("This link has expired"),
    "token_revoked": lazy_gettext("This link has been withdrawn"),
    "response_locked": lazy_gettext("This response is submitted and locked."),
    "not_owner": lazy_gettext("Only the supplier that owns a response can share it."),
    "share_mismatch": lazy_gettext(
        "That response answers a different questionnaire version or reporting year."
    ),
    "unknown_question": lazy_gettext("Unknown question: %(keys)s"),
    "decline_submitted": lazy_gettext("A submitted response cannot be declined."),
    "not_submitted": lazy_gettext("Only a submitted response can be accepted or returned."),
    "already_accepted": lazy_gettext("This submission has already been accepted."),
    "already_declined": lazy_gettext("You have already declined this questionnaire."),
    "invitation_declined": lazy_gettext(
        "You declined this questionnaire; answers can no longer be saved or submitted."
    ),
    "invitation_withdrawn": lazy_gettext(
        "Your customer has withdrawn this invitation; answers can no longer be saved or submitted."
    ),
    "not_shared": lazy_gettext("This response is not shared with any customer."),
    "password_too_short": lazy_gettext("Passwords need at least 8 characters."),
    "current_password_wrong": lazy_gettext("The current password is not correct."),
    "email_taken": lazy_gettext("An account with this email already exists. Sign in instead."),
    "campaign_closed": lazy_gettext("This campaign is closed."),
    "comment_required": lazy_gettext(
        "Say what needs to change: add a comment to at least one question."
    ),
}


def describe(exc: Exception) -> str:
    """The translated message for a service error, or its own text when no code is known."""
    template = MESSAGES.get(getattr(exc, "code", ""))
    if template is None:
        return str(exc)
    params = getattr(exc, "params", {}) or {}
    return str(template) % params if params else str(template)
