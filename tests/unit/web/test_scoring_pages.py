"""The procurement console for supplier scores (issue 9): ranking, grid, scorecard, corrective
actions and scoring settings, in English and Chinese, with their role and tenant checks.

The brand comes from `tests.support.scoring.scored_brand`: eight suppliers, four with accepted
responses of different profiles, four without one, scored through the real service.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from scoring.actions import ACTION_CODES, NOT_DISCLOSED_ITEM
from scoring.engine import ITEMS, example_frame, score_suppliers
from scoring.methodology import load_methodology
from scoring.service import run_scoring
from supplychain.db import unit_of_work
from supplychain.models import (
    ActionStatus,
    AuditEvent,
    CorrectiveAction,
    Organization,
    Role,
    ScoreItem,
    ScoringRun,
    ScoringSettings,
    SupplierRelationship,
    SupplierScore,
)
from tests.support import builders
from tests.support.scoring import scored_brand
from tests.unit.web.conftest import login
from tests.unit.web.test_headers import assert_html_is_policy_safe
from web import create_app
from web import scoring_labels as labels

ADMIN = "admin@scored.example"
BUYER = "buyer@scored.example"  # procurement, made by scored_brand
GREEN = "green@scored.example"  # sustainability
CONTACT = "contact@supplier.example"  # a supplier contact of one of the brand's suppliers


@dataclass
class World:
    url: str
    brand_id: int
    run_id: int


def _build_world(url: str, settings) -> World:
    with unit_of_work(url) as s:
        brand, run = scored_brand(s, settings, "scored")
        builders.user(s, ADMIN, brand, Role.ADMIN)
        builders.user(s, GREEN, brand, Role.SUSTAINABILITY)
        supplier = s.scalars(
            select(Organization)
            .join(SupplierRelationship, SupplierRelationship.supplier_id == Organization.id)
            .where(SupplierRelationship.brand_id == brand.id)
            .order_by(SupplierRelationship.supplier_code)
        ).first()
        builders.user(s, CONTACT, supplier, Role.SUPPLIER)
        return World(url, brand.id, run.id)


@pytest.fixture
def world(app, sqlite_url) -> World:
    return _build_world(sqlite_url, app.extensions["settings"])


def client_for(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


@pytest.fixture
def buyer(csrf_off, world):
    return client_for(csrf_off, BUYER)


@pytest.fixture
def admin(csrf_off, world):
    return client_for(csrf_off, ADMIN)


# --- reading pages ---------------------------------------------------------------------------


def table_rows(html: str, table_id: str) -> list[str]:
    """Relationship public ids of the rows of one ranking table, in page order."""
    start = html.find(f'id="{table_id}"')
    if start < 0:
        return []
    table = html[start : html.index("</table>", start)]
    return re.findall(r'data-relationship="([^"]+)"', table)


def shown(html: str) -> list[str]:
    return table_rows(html, "ranking-disclosed") + table_rows(html, "ranking-not-disclosed")


def visible_text(html: str) -> str:
    body = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def scores(world: World, run_id: int | None = None) -> dict[str, dict]:
    """Every stored score of the run with the facts the filters look at, by public id."""
    with unit_of_work(world.url) as s:
        rows = s.execute(
            select(SupplierScore, SupplierRelationship, Organization)
            .join(SupplierRelationship, SupplierRelationship.id == SupplierScore.relationship_id)
            .join(Organization, Organization.id == SupplierScore.supplier_id)
            .where(SupplierScore.run_id == (run_id or world.run_id))
        ).all()
        return {
            str(rel.public_id): {
                "code": rel.supplier_code,
                "band": score.band,
                "group": score.disclosed_group,
                "rank": score.rank,
                "composite": score.composite,
                "spend": score.spend,
                "dq": score.dq_score,
                "tier": rel.tier,
                "category": rel.category,
                "country": org.country,
                "cell": score.grid_cell,
            }
            for score, rel, org in rows
        }


def relationship_id(world: World, code_suffix: str) -> str:
    return next(k for k, v in scores(world).items() if v["code"].endswith(code_suffix))


def raw_codes(world: World) -> set[str]:
    """Stable keys people must never see: items, the run's reasons, action codes."""
    with unit_of_work(world.url) as s:
        reasons = set(s.scalars(select(ScoreItem.reason).distinct()))
    keys = {item for _dim, item in ITEMS} | reasons | set(ACTION_CODES) | {NOT_DISCLOSED_ITEM}
    return {key for key in keys if "_" in key}


# --- ranking ---------------------------------------------------------------------------------


def test_ranking_ranks_disclosed_suppliers_and_lists_the_others_apart(buyer, world):
    html = buyer.get("/console/scores").get_data(as_text=True)
    stored = scores(world)
    disclosed = table_rows(html, "ranking-disclosed")
    apart = table_rows(html, "ranking-not-disclosed")
    assert {k for k, v in stored.items() if v["group"] == "disclosed"} == set(disclosed)
    assert {k for k, v in stored.items() if v["group"] == "not_disclosed"} == set(apart)
    assert len(disclosed) == 4 and len(apart) == 4
    assert [stored[k]["rank"] for k in disclosed] == sorted(stored[k]["rank"] for k in disclosed)
    assert all(stored[k]["rank"] is None for k in apart)
    # each row names what moved its score most, in words
    text = visible_text(html)
    assert "raised the score" in text and "lowered the score" in text
    assert "Intensity against the sector reference" in text
    assert not any(code in text for code in raw_codes(world))


FILTERS = [
    ("band=rejected", lambda v: v["band"] == "rejected"),
    ("band=approved", lambda v: v["band"] == "approved"),
    ("category=Packaging", lambda v: v["category"] == "Packaging"),
    ("country=vn", lambda v: v["country"] == "VN"),
    ("tier=1", lambda v: v["tier"] == 1),
    ("tier=2", lambda v: v["tier"] == 2),
    ("score_min=40", lambda v: v["composite"] >= 40),
    ("score_max=40&score_min=10", lambda v: 10 <= v["composite"] <= 40),
    ("dq_max=2", lambda v: v["dq"] is not None and v["dq"] <= 2),
    ("dq_min=2.5", lambda v: v["dq"] is not None and v["dq"] >= 2.5),
    ("spend_min=60000", lambda v: v["spend"] is not None and v["spend"] >= 60000),
    ("spend_max=60000", lambda v: v["spend"] is not None and v["spend"] <= 60000),
    (
        "band=rejected&category=Metal%20parts",
        lambda v: v["band"] == "rejected" and v["category"] == "Metal parts",
    ),
    ("q=SCORED-00", lambda v: True),
    ("q=SCORED-001", lambda v: v["code"] == "SCORED-001"),
    ("tier=abc&score_min=lots", lambda v: True),  # unreadable values are ignored
]


def test_ranking_filters(buyer, world):
    stored = scores(world)
    sizes = set()
    for query, keep in FILTERS:
        response = buyer.get(f"/console/scores?{query}")
        assert response.status_code == 200, query
        expected = {k for k, v in stored.items() if keep(v)}
        assert set(shown(response.get_data(as_text=True))) == expected, query
        sizes.add(len(expected))
    assert 0 in sizes and 8 in sizes and len(sizes) >= 4  # the cases tell the filters apart


def test_ranking_group_filter_shows_one_group(buyer, world):
    html = buyer.get("/console/scores?group=not_disclosed").get_data(as_text=True)
    assert 'id="ranking-disclosed"' not in html
    stored = scores(world)
    assert {stored[k]["group"] for k in shown(html)} == {"not_disclosed"}


def test_ranking_sorts_within_each_group(buyer, world):
    stored = scores(world)
    for sort, direction, key in (
        ("composite", "desc", "composite"),
        ("composite", "asc", "composite"),
        ("spend", "asc", "spend"),
        ("spend", "desc", "spend"),
        ("dq_score", "asc", "dq"),
        ("supplier_code", "desc", "code"),
    ):
        html = buyer.get(f"/console/scores?sort={sort}&dir={direction}").get_data(as_text=True)
        for table in ("ranking-disclosed", "ranking-not-disclosed"):
            values = [stored[k][key] for k in table_rows(html, table)]
            assert len(values) == 4
            assert values == sorted(values, reverse=direction == "desc"), (sort, table)


# --- grid ------------------------------------------------------------------------------------


def test_grid_counts_add_up_to_the_ranking_and_cells_list_their_suppliers(buyer, world):
    html = buyer.get("/console/scores/grid").get_data(as_text=True)
    cells = dict(re.findall(r'data-cell="([a-z]+:[a-z]+)" data-count="(\d+)"', html))
    assert len(cells) == 9
    ranking = buyer.get("/console/scores").get_data(as_text=True)
    assert sum(int(n) for n in cells.values()) == len(shown(ranking)) == 8
    stored = scores(world)
    for cell, count in cells.items():
        listed = shown(buyer.get(f"/console/scores?grid_cell={cell}").get_data(as_text=True))
        assert len(listed) == int(count), cell
        assert {stored[k]["cell"] for k in listed} <= {cell}


# --- scorecard -------------------------------------------------------------------------------


def test_scorecard_explains_every_item_in_english_and_chinese(buyer, world):
    leader = relationship_id(world, "-000")  # verified, SBTi validated, low intensity
    url = f"/console/scores/suppliers/{leader}"
    codes = raw_codes(world)

    html = buyer.get(url).get_data(as_text=True)
    text = visible_text(html)
    assert "kg CO2e per 1,000 USD" in text
    assert re.search(r"Intensity [\d.,]+ kg CO2e per 1,000 USD is \d+ % below the sector", text)
    assert "Science-based target validated by the SBTi." in text
    assert "Emissions verified by a third party (reasonable assurance)." in text
    assert "the 1.5 °C-aligned benchmark is 4.2 % a year" in text
    assert "Corrective actions" in text and "points at stake" in text
    assert not any(code in html for code in codes)
    assert "{" not in html and "e+" not in html and "None" not in text

    buyer.post("/language", data={"lang": "zh_CN"})
    html = buyer.get(url).get_data(as_text=True)
    text = visible_text(html)
    assert re.search(
        r"排放强度为每 1,000 USD [\d.,]+ 千克 CO2e，比行业参考值（[\d.,]+）低 \d+%", text
    )
    assert "科学碳目标已通过 SBTi 验证。" in text
    assert "below the sector reference" not in text
    assert not any(code in html for code in codes)
    assert "{" not in html and "e+" not in html and "None" not in text


def test_scorecard_of_a_supplier_without_a_response(buyer, world):
    silent = relationship_id(world, "-007")
    html = buyer.get(f"/console/scores/suppliers/{silent}").get_data(as_text=True)
    assert 'id="not-disclosed"' in html
    assert "No response: scored on secondary data only." in html
    assert "Not ranked (no response)" in html
    # one action for the whole questionnaire, not one per item
    assert html.count('data-action="') == 1
    assert "Response to the climate questionnaire" in html
    assert re.search(
        r"Answer the climate questionnaire so the score rests on your own data: \d+ items are "
        r"scored on secondary data only until then\.",
        html,
    )
    buyer.post("/language", data={"lang": "zh_CN"})
    html = buyer.get(f"/console/scores/suppliers/{silent}").get_data(as_text=True)
    assert "回复气候调查问卷" in html
    assert re.search(r"在此之前，有 \d+ 个评分项只能依据二手数据评分。", html)


def test_years_have_their_own_ranking_and_the_scorecard_keeps_the_history(buyer, world):
    with unit_of_work(world.url) as s:
        run_scoring(s, brand_id=world.brand_id, year=2024)  # no disclosures for 2024
    latest = buyer.get("/console/scores").get_data(as_text=True)
    assert '<dd id="run-year">2025</dd>' in latest
    assert len(table_rows(latest, "ranking-disclosed")) == 4
    earlier = buyer.get("/console/scores?year=2024").get_data(as_text=True)
    assert '<dd id="run-year">2024</dd>' in earlier
    assert table_rows(earlier, "ranking-disclosed") == []
    assert len(table_rows(earlier, "ranking-not-disclosed")) == 8

    leader = f"/console/scores/suppliers/{relationship_id(world, '-000')}"
    html = buyer.get(leader).get_data(as_text=True)
    history = html[html.index('id="history"') :]
    assert re.findall(r"year=(\d{4})\">\d{4}</a>", history) == ["2025", "2024"]
    assert "Not ranked (no response)" not in html
    assert "Not ranked (no response)" in buyer.get(f"{leader}?year=2024").get_data(as_text=True)


# --- corrective actions ----------------------------------------------------------------------


def first_action_form(html: str) -> tuple[str, str]:
    action_id = re.search(r'action="/console/scores/actions/([0-9a-f-]+)"', html)[1]
    lock = re.search(r'name="lock_version" value="(\d+)"', html)[1]
    return action_id, lock


def stored_action(world: World, public_id: str) -> CorrectiveAction:
    with unit_of_work(world.url) as s:
        action = s.scalars(
            select(CorrectiveAction).where(CorrectiveAction.public_id == uuid.UUID(public_id))
        ).one()
        s.expunge(action)
        return action


def test_action_update_then_a_stale_edit_is_refused(buyer, world):
    rel = relationship_id(world, "-003")  # the laggard: many actions
    page = f"/console/scores/suppliers/{rel}"
    action_id, lock = first_action_form(buyer.get(page).get_data(as_text=True))
    url = f"/console/scores/actions/{action_id}"

    saved = buyer.post(
        url,
        data={
            "status": "in_progress",
            "due_date": "2026-03-31",
            "note": "Call the plant manager",
            "lock_version": lock,
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"{page}#actions")
    action = stored_action(world, action_id)
    assert action.status == ActionStatus.IN_PROGRESS
    assert action.due_date == date(2026, 3, 31)
    assert action.note == "Call the plant manager"
    assert action.lock_version == int(lock) + 1
    with unit_of_work(world.url) as s:
        assert s.scalar(
            select(func.count()).where(
                AuditEvent.action == "scoring.action_update", AuditEvent.entity_id == action_id
            )
        )

    # a second person still holding the old version is told, and nothing is overwritten
    stale = buyer.post(
        url, data={"status": "dismissed", "due_date": "", "note": "Ignore", "lock_version": lock}
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "someone else changed this action" in html
    assert "Call the plant manager" in html  # their version is shown
    after = stored_action(world, action_id)
    assert (after.status, after.note, after.lock_version) == (
        ActionStatus.IN_PROGRESS,
        "Call the plant manager",
        int(lock) + 1,
    )


def test_invalid_action_edits_are_refused_whole(buyer, world):
    rel = relationship_id(world, "-003")
    page = f"/console/scores/suppliers/{rel}"
    action_id, lock = first_action_form(buyer.get(page).get_data(as_text=True))
    before = stored_action(world, action_id)
    data = {"status": "done", "due_date": "2026-06-30", "note": "ok", "lock_version": lock}
    for change in (
        {"status": "finished"},
        {"due_date": "31/03/2026"},
        {"due_date": "1800-01-01"},
        {"note": "x" * 2001},
        {"lock_version": "two"},
    ):
        response = buyer.post(f"/console/scores/actions/{action_id}", data={**data, **change})
        assert response.status_code == 400, change
        assert "The action was not saved" in response.get_data(as_text=True)
        after = stored_action(world, action_id)
        assert (after.status, after.due_date, after.note, after.lock_version) == (
            before.status,
            before.due_date,
            before.note,
            before.lock_version,
        ), change


def test_action_form_needs_the_csrf_token(app, world):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))[1]
    client.post("/login", data={"email": BUYER, "password": builders.PASSWORD, "csrf_token": token})
    rel = relationship_id(world, "-003")
    html = client.get(f"/console/scores/suppliers/{rel}").get_data(as_text=True)
    action_id, lock = first_action_form(html)
    data = {"status": "done", "lock_version": lock}
    url = f"/console/scores/actions/{action_id}"
    assert client.post(url, data=data).status_code == 400
    assert stored_action(world, action_id).status == ActionStatus.OPEN
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
    assert stored_action(world, action_id).status == ActionStatus.DONE


def test_another_brands_action_cannot_be_edited(client_a, tenants, sqlite_url):
    other = tenants[1].action_id
    response = client_a.post(
        f"/console/scores/actions/{other}", data={"status": "dismissed", "lock_version": "1"}
    )
    assert response.status_code == 404
    with unit_of_work(sqlite_url) as s:
        status = s.scalar(
            select(CorrectiveAction.status).where(CorrectiveAction.public_id == uuid.UUID(other))
        )
    assert status == ActionStatus.OPEN


def test_simultaneous_edits_of_one_action_on_postgres(postgres_url, tmp_path):
    """Two buyers save the same version at the same moment: one wins, the other gets 409."""
    app = create_app(
        {"TESTING": True, "database_url": postgres_url, "instance_path": tmp_path / "instance"}
    )
    app.config["WTF_CSRF_ENABLED"] = False
    world = _build_world(postgres_url, app.extensions["settings"])
    clients = [client_for(app, BUYER), client_for(app, ADMIN)]
    rel = relationship_id(world, "-003")
    action_id, lock = first_action_form(
        clients[0].get(f"/console/scores/suppliers/{rel}").get_data(as_text=True)
    )
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def edit(client, note: str) -> None:
        start.wait()
        response = client.post(
            f"/console/scores/actions/{action_id}",
            data={"status": "in_progress", "note": note, "lock_version": lock},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=edit, args=(client, f"note {i}"))
        for i, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    action = stored_action(world, action_id)
    assert action.lock_version == int(lock) + 1 and action.note in ("note 0", "note 1")


# --- settings and re-scoring -----------------------------------------------------------------

VALID_SETTINGS = {
    "weight_emissions": "50",
    "weight_targets": "20",
    "weight_maturity": "20",
    "weight_data_quality": "10",
    "approved_min": "65",
    "conditional_min": "50",
    "correction_months": "6",
    "sbti_share": "80",
    "sbti_year": "2030",
}


INVALID_SETTINGS = [
    ({"weight_targets": "-5"}, "Enter a number from 0 to 100.", "请输入 0 到 100 之间的数字。"),
    (
        {"approved_min": "60", "conditional_min": "60"},
        "The conditional threshold must be below the approved threshold.",
        "有条件批准线必须低于批准线。",
    ),
    (
        {"approved_min": "55", "conditional_min": "60"},
        "The conditional threshold must be below the approved threshold.",
        "有条件批准线必须低于批准线。",
    ),
    (
        {f"weight_{d}": "0" for d in ("emissions", "targets", "maturity", "data_quality")},
        "At least one weight must be above 0.",
        "至少一个权重必须大于 0。",
    ),
    ({"correction_months": "0"}, "Enter a number of months from 1 to 36.", "请输入 1 到 36"),
    ({"weight_emissions": ""}, "Enter a number.", "请输入一个数字。"),
]


def test_settings_are_validated_with_translated_messages(admin, world):
    for locale in ("en", "zh_CN"):
        admin.post("/language", data={"lang": locale})
        for change, english, chinese in INVALID_SETTINGS:
            response = admin.post("/console/scores/settings", data={**VALID_SETTINGS, **change})
            assert response.status_code == 400, change
            html = response.get_data(as_text=True)
            assert (english if locale == "en" else chinese) in html, (locale, change)
    with unit_of_work(world.url) as s:
        assert s.scalar(select(func.count()).select_from(ScoringSettings)) == 0


def test_saving_settings_does_not_rescore_until_asked(admin, world):
    response = admin.post("/console/scores/settings", data=VALID_SETTINGS)
    assert response.status_code == 302
    with unit_of_work(world.url) as s:
        overrides = s.scalars(select(ScoringSettings.overrides)).one()
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 1
    assert overrides["weights"] == {
        "emissions": 50.0,
        "targets": 20.0,
        "maturity": 20.0,
        "data_quality": 10.0,
    }
    assert overrides["bands"]["approved_min"] == 65.0
    assert overrides["bands"]["correction_months"] == 6
    assert overrides["sbti_target"] == {"share": 0.8, "year": 2030}

    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="rescore"' in page and "Re-score now" in page
    assert 'name="weight_emissions"' in page and 'value="50.0"' in page

    assert (
        admin.post("/console/scores/run", data={"year": "2025", "back": "settings"}).status_code
        == 302
    )
    with unit_of_work(world.url) as s:
        newest = s.scalars(select(ScoringRun).order_by(ScoringRun.id.desc())).first()
        assert newest.id != world.run_id
        assert newest.methodology["weights"]["emissions"] == pytest.approx(0.5)
        assert newest.methodology["bands"]["approved_min"] == 65.0
    # bands follow the new thresholds: nobody under 65 is approved any more
    assert all(
        v["band"] != "approved" or v["composite"] >= 65 for v in scores(world, newest.id).values()
    )


def test_score_now_when_the_brand_has_no_run(csrf_off, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        brand = builders.brand(s, "newcomer")
        builders.user(s, "buyer@newcomer.example", brand, Role.PROCUREMENT)
        rel = builders.relationship(s, brand, builders.supplier(s, "新来供应商"), "NEW-001")
        builders.spend_line(s, rel, "2500.00")
        rel_id = str(rel.public_id)
    client = client_for(csrf_off, "buyer@newcomer.example")
    html = client.get("/console/scores").get_data(as_text=True)
    assert 'id="no-run"' in html and "Score now" in html
    assert client.post("/console/scores/run", data={"year": "1066"}).status_code == 302
    assert "Choose a reporting year." in client.get("/console/scores").get_data(as_text=True)

    response = client.post("/console/scores/run", data={"year": "2025"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Suppliers scored for 2025." in html
    assert table_rows(html, "ranking-not-disclosed") == [rel_id]


# --- roles -----------------------------------------------------------------------------------


def test_roles(csrf_off, world):
    rel = relationship_id(world, "-003")
    scorecard = f"/console/scores/suppliers/{rel}"

    contact = client_for(csrf_off, CONTACT)
    for url in ("/console/scores", scorecard, "/console/scores/grid", "/console/scores/settings"):
        assert contact.get(url).status_code == 403, url

    green = client_for(csrf_off, GREEN)
    assert green.get("/console/scores").status_code == 200
    html = green.get(scorecard).get_data(as_text=True)
    assert "Corrective actions" in html and "/console/scores/actions/" not in html
    assert "Scoring settings" not in html
    with unit_of_work(world.url) as s:
        action = s.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)).first()
        action_id, lock = str(action.public_id), str(action.lock_version)
    edit = {"status": "dismissed", "lock_version": lock}
    assert green.post(f"/console/scores/actions/{action_id}", data=edit).status_code == 403
    assert contact.post(f"/console/scores/actions/{action_id}", data=edit).status_code == 403
    assert stored_action(world, action_id).status == ActionStatus.OPEN
    assert green.get("/console/scores/settings").status_code == 403

    buyer = client_for(csrf_off, BUYER)
    assert buyer.get("/console/scores/settings").status_code == 403
    assert buyer.post("/console/scores/settings", data=VALID_SETTINGS).status_code == 403
    assert "/console/scores/actions/" in buyer.get(scorecard).get_data(as_text=True)

    admin = client_for(csrf_off, ADMIN)
    settings_page = admin.get("/console/scores/settings")
    assert settings_page.status_code == 200
    assert_html_is_policy_safe(settings_page, "/console/scores/settings")
    assert "Scoring settings" in admin.get("/console/scores").get_data(as_text=True)

    anonymous = csrf_off.test_client()
    assert anonymous.get("/console/scores").status_code == 302


# --- labels ----------------------------------------------------------------------------------


def test_every_code_the_engine_emits_has_words_in_both_languages(app):
    """A new item, reason or action code in the engine must not reach people untranslated."""
    result = score_suppliers(example_frame(3000, seed=7), load_methodology())
    reasons = result.items.drop_duplicates("reason")
    fallbacks = {"en": set(), "zh_CN": set()}
    with app.test_request_context():
        for locale in fallbacks:
            fallbacks[locale] = {
                labels.reason_text("no-such-code", {}, locale),
                labels.action_text("no-such-code", {}, locale),
                labels.item_label("no-such-item"),
            }
        for item in (*(key for _dim, key in ITEMS), NOT_DISCLOSED_ITEM):
            assert labels.item_label(item) != labels.item_label("no-such-item"), item
        for rec in reasons.to_dict("records"):
            english = labels.reason_text(rec["reason"], rec["params"], "en", currency="CNY")
            chinese = labels.reason_text(rec["reason"], rec["params"], "zh_CN", currency="CNY")
            assert english not in fallbacks["en"], rec["reason"]
            assert chinese not in fallbacks["zh_CN"] and chinese != english, rec["reason"]
            assert "{" not in english + chinese and "e+" not in english + chinese
        for code in {*labels.FIXED_REASONS, *labels.FORMATTED_REASONS}:
            english = labels.reason_text(code, {}, "en")
            assert labels.reason_text(code, {}, "zh_CN") != english, code
        for code in ACTION_CODES:
            english = labels.action_text(code, {}, "en")
            chinese = labels.action_text(code, {}, "zh_CN")
            assert english not in fallbacks["en"], code
            assert chinese not in fallbacks["zh_CN"] and chinese != english, code
