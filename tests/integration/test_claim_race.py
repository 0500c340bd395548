"""A confirmation link makes one account, however many times it is clicked at once.

Ten browsers post the same confirmation at the same moment against the real PostgreSQL: one
creates the account, the others are told the link was used, nothing answers 500. The service
test replays the race deterministically on both databases: the second session read the claim
before the first confirmed it, so only the conditional update can stop it.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from questionnaires import claims
from questionnaires.tokens import hash_token
from supplychain.db import session_factory, unit_of_work
from supplychain.models import InvitationClaim, MembershipInvitation, User
from tests.support import campaigns as cs
from web import create_app

pytestmark = pytest.mark.integration

RACERS = 10
PASSWORD = "s3cret-pass"


def _pending_claim(url: str, settings) -> tuple[str, str]:
    """A claim asked through the invitation link; (its confirmation token, the contact)."""
    with unit_of_work(url) as s:
        brand, rels = cs.brand_with_suppliers(s, "race", n=1)
        campaign, links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        link_token = links[rels[0].id].rsplit("/", 1)[-1]
        _claim, token = claims.start_claim(
            s,
            invitation,
            hash_token(link_token),
            display_name="Wang",
            password=PASSWORD,
            locale="zh_CN",
        )
        return token, rels[0].contact_email


def _count(url: str, model, *conditions) -> int:
    with unit_of_work(url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*conditions))


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


def test_parallel_confirmations_create_one_account(pg_app, postgres_url):
    token, contact = _pending_claim(postgres_url, pg_app.extensions["settings"])
    clients = [pg_app.test_client() for _ in range(RACERS)]
    barrier = threading.Barrier(RACERS)
    answers: list = [None] * RACERS

    def confirm(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = clients[index].post(
                f"/portal/claims/{token}", data={"password": PASSWORD}
            )
        except Exception as exc:  # reported by the assertions below, not lost in the thread
            answers[index] = exc

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not [a for a in answers if isinstance(a, Exception)]
    assert sorted(a.status_code for a in answers) == [302] + [410] * (RACERS - 1)
    for refused in (a for a in answers if a.status_code == 410):
        assert re.search(r'data-code="claim_used"', refused.get_data(True))
    assert _count(postgres_url, User, User.email == contact) == 1
    assert _count(postgres_url, MembershipInvitation) == 1


def test_a_confirmation_read_before_another_committed_is_refused(any_db_url, tmp_path):
    app = create_app({"TESTING": True, "database_url": any_db_url, "instance_path": tmp_path})
    token, contact = _pending_claim(any_db_url, app.extensions["settings"])
    make = session_factory(any_db_url)
    first, second = make(), make()
    try:
        stale = claims.claim_for_token(second, token)  # loaded while still unconfirmed
        assert stale.confirmed_at is None
        claims.confirm_claim(first, token, PASSWORD)
        first.commit()
        with pytest.raises(claims.ClaimUsed):
            claims.confirm_claim(second, token, PASSWORD)
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _count(any_db_url, User, User.email == contact) == 1
    assert _count(any_db_url, InvitationClaim, InvitationClaim.user_id.is_not(None)) == 1
