"""Once-only state changes of a response stay once-only under real concurrency.

Ten clients submit (or accept) at the same moment against the real PostgreSQL: exactly one wins,
the others are told it already happened, nothing answers 500 and exactly one row is written.
The service-level tests replay the same race deterministically on both databases with two
sessions that both read the record before either writes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from questionnaires import responses
from supplychain.api_keys import create_api_key
from supplychain.db import session_factory, unit_of_work
from supplychain.models import (
    AuditEvent,
    Disclosure,
    Invitation,
    InvitationEvent,
    InvitationStatus,
    QuestionnaireResponse,
    ResponseSubmission,
    ReviewComment,
    Role,
    User,
)
from tests.support import builders
from tests.support import campaigns as cs
from web import create_app

pytestmark = pytest.mark.integration

RACERS = 10


@dataclass
class Ready:
    """A response with complete answers, not yet submitted, and keys for both sides."""

    response_id: int
    response_public_id: str
    invitation_id: int
    invitation_public_id: str
    link: str
    supplier_key: str
    brand_key: str


def _ready(url: str, settings) -> Ready:
    with unit_of_work(url) as s:
        brand, rels = cs.brand_with_suppliers(s, "race", n=1)
        campaign, links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        response = responses.start_response(s, invitation, user_id=None)
        responses.save_answers(s, response, dict(cs.BASE_ANSWERS), expected_lock=1, user_id=None)
        buyer = s.scalars(select(User).where(User.email == "buyer@race.example")).one()
        contact = builders.user(s, "contact@race-supplier.example", rels[0].supplier)
        contact.memberships[0].role = Role.SUPPLIER
        return Ready(
            response.id,
            str(response.public_id),
            invitation.id,
            str(invitation.public_id),
            links[rels[0].id].replace("http://testserver", ""),
            create_api_key(s, contact, rels[0].supplier, "sync")[1],
            create_api_key(s, buyer, brand, "ERP")[1],
        )


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    return create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # a crash answers 500, as in production
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "database_url": postgres_url,
            "instance_path": tmp_path / "instance",
        }
    )


@pytest.fixture
def ready(pg_app, postgres_url) -> Ready:
    return _ready(postgres_url, pg_app.extensions["settings"])


def _race(clients, request) -> list:
    """Run `request(client)` for every client at the same moment; the answers, in order."""
    barrier = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = request(clients[index])
        except Exception as exc:  # reported by the assertions below, not lost in the thread
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    crashed = [a for a in answers if isinstance(a, Exception)]
    assert not crashed, crashed
    return answers


def _count(url: str, model, *conditions) -> int:
    with unit_of_work(url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*conditions))


def test_parallel_api_submits_store_one_submission(pg_app, ready, postgres_url):
    clients = [pg_app.test_client() for _ in range(RACERS)]
    url = f"/api/v1/responses/{ready.response_public_id}/submit"
    headers = {"Authorization": f"Bearer {ready.supplier_key}"}
    answers = _race(clients, lambda c: c.post(url, headers=headers))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (RACERS - 1)
    for refused in (a for a in answers if a.status_code == 409):
        error = refused.get_json()["error"]
        assert error["code"] == "response_locked" and error["message"]
    assert _count(postgres_url, ResponseSubmission) == 1
    assert _count(postgres_url, AuditEvent, AuditEvent.action == "response.submitted") == 1
    with unit_of_work(postgres_url) as s:
        invitation = s.get(Invitation, ready.invitation_id)
        submission = s.scalars(select(ResponseSubmission)).one()
        assert invitation.status == InvitationStatus.SUBMITTED
        assert invitation.reviewed_submission_id == submission.id and submission.number == 1


def test_parallel_portal_submits_store_one_submission(pg_app, ready, postgres_url):
    opener = pg_app.test_client()
    landing = opener.get(ready.link)
    assert landing.status_code == 302
    cookie = opener.get_cookie("session")
    clients = []
    for _ in range(RACERS):
        client = pg_app.test_client()
        client.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
        clients.append(client)
    url = f"/portal/invitations/{ready.invitation_public_id}/submit"
    answers = _race(clients, lambda c: c.post(url))

    assert [a.status_code for a in answers] == [302] * RACERS
    assert _count(postgres_url, ResponseSubmission) == 1
    pages = [c.get(landing.location).get_data(True) for c in clients]
    assert sum("will review your answers" in page for page in pages) == 1
    assert sum("This response is submitted and locked." in page for page in pages) == RACERS - 1


def test_parallel_accepts_make_one_disclosure(pg_app, ready, postgres_url):
    with unit_of_work(postgres_url) as s:
        responses.submit(s, s.get(QuestionnaireResponse, ready.response_id), user_id=None)
    clients = [pg_app.test_client() for _ in range(RACERS)]
    url = f"/api/v1/invitations/{ready.invitation_public_id}/accept"
    headers = {"Authorization": f"Bearer {ready.brand_key}"}
    answers = _race(clients, lambda c: c.post(url, headers=headers))

    assert sorted(a.status_code for a in answers) == [201] + [409] * (RACERS - 1)
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.get_json()["error"]["code"] == "already_accepted"
    assert _count(postgres_url, Disclosure) == 1
    assert (
        _count(
            postgres_url,
            InvitationEvent,
            InvitationEvent.status == InvitationStatus.ACCEPTED,
        )
        == 1
    )


# --- the same races, replayed with two sessions on both databases --------------------------------


@pytest.fixture
def both(any_db_url, tmp_path):
    app = create_app({"TESTING": True, "database_url": any_db_url, "instance_path": tmp_path})
    return any_db_url, _ready(any_db_url, app.extensions["settings"])


def _two_sessions(url: str):
    make = session_factory(url)
    return make(), make()


def test_second_of_two_stale_submits_is_refused(both):
    url, ready = both
    first, second = _two_sessions(url)
    try:
        mine = first.get(QuestionnaireResponse, ready.response_id)
        theirs = second.get(QuestionnaireResponse, ready.response_id)
        assert theirs.submissions == []  # both read a draft without submissions
        responses.submit(first, mine, user_id=None)
        first.commit()
        with pytest.raises(responses.ResponseLocked):
            responses.submit(second, theirs, user_id=None)
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(url, ResponseSubmission) == 1


def test_a_save_read_before_a_submit_cannot_change_the_submitted_answers(both):
    url, ready = both
    first, second = _two_sessions(url)
    try:
        saver = second.get(QuestionnaireResponse, ready.response_id)
        lock = saver.lock_version
        responses.submit(first, first.get(QuestionnaireResponse, ready.response_id), user_id=None)
        first.commit()
        with pytest.raises(responses.ResponseLocked):
            responses.save_answers(
                second, saver, {"employees": 1}, expected_lock=lock, user_id=None
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    with unit_of_work(url) as s:
        assert s.get(QuestionnaireResponse, ready.response_id).answers["employees"] == 120


def _submitted(url: str, ready: Ready) -> None:
    with unit_of_work(url) as s:
        responses.submit(s, s.get(QuestionnaireResponse, ready.response_id), user_id=None)


def test_second_of_two_stale_accepts_is_refused(both):
    url, ready = both
    _submitted(url, ready)
    first, second = _two_sessions(url)
    try:
        mine = first.get(Invitation, ready.invitation_id)
        theirs = second.get(Invitation, ready.invitation_id)
        assert theirs.status == InvitationStatus.SUBMITTED
        responses.accept(first, mine, user_id=None)
        first.commit()
        with pytest.raises(responses.WrongState) as refused:
            responses.accept(second, theirs, user_id=None)
        assert refused.value.code == "already_accepted"
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(url, Disclosure) == 1


def test_return_and_accept_read_together_do_not_both_apply(both):
    url, ready = both
    _submitted(url, ready)
    first, second = _two_sessions(url)
    try:
        returning = first.get(Invitation, ready.invitation_id)
        accepting = second.get(Invitation, ready.invitation_id)
        responses.return_for_revision(
            first, returning, {"employees": "Count contractors too."}, user_id=None
        )
        first.commit()
        with pytest.raises(responses.WrongState):
            responses.accept(second, accepting, user_id=None)
        second.rollback()
        with pytest.raises(responses.WrongState):
            responses.return_for_revision(
                second, accepting, {"employees": "Count contractors too."}, user_id=None
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(url, Disclosure) == 0
    assert _count(url, ReviewComment) == 1
    with unit_of_work(url) as s:
        assert s.get(Invitation, ready.invitation_id).status == InvitationStatus.RETURNED
        assert s.get(QuestionnaireResponse, ready.response_id).status.value == "draft"


def test_second_of_two_stale_declines_is_refused(both):
    url, ready = both
    first, second = _two_sessions(url)
    try:
        mine = first.get(Invitation, ready.invitation_id)
        theirs = second.get(Invitation, ready.invitation_id)
        responses.decline(first, mine, reason="not this year", user_id=None)
        first.commit()
        with pytest.raises(responses.WrongState) as refused:
            responses.decline(second, theirs, reason="not this year", user_id=None)
        assert refused.value.code == "already_declined"
        second.rollback()
    finally:
        first.close()
        second.close()
    declined = InvitationEvent.status == InvitationStatus.DECLINED
    assert _count(url, InvitationEvent, declined) == 1
    assert _count(url, AuditEvent, AuditEvent.action == "invitation.declined") == 1


def test_a_submit_read_before_a_decline_is_refused(both):
    url, ready = both
    first, second = _two_sessions(url)
    try:
        declining = first.get(Invitation, ready.invitation_id)
        submitting = second.get(Invitation, ready.invitation_id)
        response = submitting.response
        responses.decline(first, declining, reason="not this year", user_id=None)
        first.commit()
        with pytest.raises(responses.WrongState) as refused:
            responses.submit(second, response, user_id=None, invitation=submitting)
        assert refused.value.code == "invitation_declined"
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(url, ResponseSubmission) == 0
    with unit_of_work(url) as s:
        assert s.get(Invitation, ready.invitation_id).status == InvitationStatus.DECLINED


def test_two_starts_read_together_make_one_response(any_db_url, tmp_path):
    app = create_app({"TESTING": True, "database_url": any_db_url, "instance_path": tmp_path})
    with unit_of_work(any_db_url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "start", n=1)
        campaign, _links = cs.launch_campaign(s, app.extensions["settings"], brand)
        invitation_id = campaign.invitations[0].id
    first, second = _two_sessions(any_db_url)
    try:
        mine = first.get(Invitation, invitation_id)
        theirs = second.get(Invitation, invitation_id)
        assert theirs.response_id is None
        kept = responses.start_response(first, mine, user_id=None)
        first.commit()
        again = responses.start_response(second, theirs, user_id=None)
        second.commit()
        assert again.id == kept.id
    finally:
        first.close()
        second.close()
    assert _count(any_db_url, QuestionnaireResponse) == 1
