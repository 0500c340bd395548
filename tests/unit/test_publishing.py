"""Questionnaire versions: drafts change, publishing freezes, loaded definitions are shared."""

from __future__ import annotations

import pytest

from questionnaires.publishing import (
    VersionFrozen,
    create_draft,
    definition_for,
    install_shipped,
    is_frozen,
    publish,
    update_draft,
)
from tests.support.campaigns import shipped_definition


def test_publish_freezes_and_installing_twice_changes_nothing(session):
    first = install_shipped(session)
    again = install_shipped(session)
    assert [v.id for v in first] == [v.id for v in again]
    assert all(is_frozen(v) for v in first)
    with pytest.raises(VersionFrozen):
        update_draft(session, first[0], shipped_definition())


def test_loaded_definition_follows_draft_edits_and_is_shared_once_published(session):
    definition = shipped_definition()
    draft = create_draft(session, definition, owner_id=None)
    before = definition_for(draft)
    definition["title"] = {"en": "Edited title", "zh": "修改后的标题"}
    update_draft(session, draft, definition)
    after = definition_for(draft)
    assert after is not before and after.title["en"] == "Edited title"
    publish(session, draft)
    assert definition_for(draft) is definition_for(draft)
