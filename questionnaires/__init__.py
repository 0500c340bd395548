"""Questionnaire definitions, campaigns, invitations and responses (see issue 4)."""
