"""The JSON API (issue 4): questionnaires, campaigns, invitations, responses and disclosures;
supplier scores (issue 9).

Authentication is by API key only (`Authorization: Bearer <key>`); the session cookie is ignored,
which is why the blueprint can be exempt from CSRF. Register it in the application factory::

    from web import api
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)

Routes live under `/api/v1`; the OpenAPI document is at `/api/openapi.json`.
"""

from __future__ import annotations

from web.api import campaigns, disclosures, openapi, questionnaires, responses, scores
from web.api.core import bp

__all__ = ["bp", "campaigns", "disclosures", "openapi", "questionnaires", "responses", "scores"]
