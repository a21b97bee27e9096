"""A lender's own ladder, its stages not the shipped ones: the case page, the queue and the
dashboard name each stage by its ladder's label in the reader's language (zh-TW's own label
if the file gives one, else zh-CN's), a case by its own ladder's, never as `stage:<name>`;
a stage named as a shipped one (early) by its own label too, not the catalogue's."""

import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from arrears.adapters.db.casework_tables import assignments
from arrears.adapters.db.tables import cases, loans
from arrears.adapters.strategy_file import load_ladder
from arrears.entrypoints.web.stage_names import stage_name
from tests.entrypoints.web.desk_book import Desk, build_desk, desk_on

# cn-cash's ladder: "chase" has no zh-TW label (zh-CN's is shown), the others have one;
# "early" is a name of the shipped ladders (the catalogue's 早期催收), labelled otherwise.
CASH = """
name = "lender-cash"
version = 1
default_stage = "paying"

[[stage]]
name = "chase"
label_zh = "追讨期"
label_en = "Chasing"
[[stage.entry]]
dpd_min = 31

[[stage]]
name = "early"
label_zh = "温和提醒"
label_zh_tw = "溫和提醒"
label_en = "Gentle reminders"
[[stage.entry]]
dpd_min = 11
dpd_max = 30

[[stage]]
name = "watch-list"
label_zh = "关注期"
label_zh_tw = "關注期"
label_en = "Watching"
[[stage.entry]]
dpd_min = 1
dpd_max = 10

[[stage]]
name = "paying"
label_zh = "正常还款"
label_zh_tw = "正常還款"
label_en = "Paying"
"""
# cn-private's: "chase" again, labelled otherwise (its cases are named by this one).
PRIVATE = """
name = "lender-private"
version = 1
default_stage = "paying"

[[stage]]
name = "chase"
label_zh = "强力追讨"
label_zh_tw = "強力追討"
label_en = "Hard chase"
[[stage.entry]]
dpd_min = 1

[[stage]]
name = "paying"
label_zh = "正常还款"
label_zh_tw = "正常還款"
label_en = "Paying"
"""
SETTINGS = """
[products.cn-cash]
jurisdiction = "cn"
cap = "licensed"
grace_days = 3
penalty_multiplier = 1.5
day_count = 360
strategy = "cash.toml"

[products.cn-private]
jurisdiction = "cn"
cap = "private"
grace_days = 3
penalty_multiplier = 1.5
day_count = 360
strategy = "private.toml"
"""
# (product, stage) → its name in each language; cn-cash is listed first (the shipped
# products' order), so its label names "chase" where no case is known.
LABELS = {
    ("cn-cash", "chase"): {"zh-CN": "追讨期", "zh-TW": "追讨期", "en": "Chasing"},
    ("cn-cash", "watch-list"): {"zh-CN": "关注期", "zh-TW": "關注期", "en": "Watching"},
    ("cn-cash", "early"): {"zh-CN": "温和提醒", "zh-TW": "溫和提醒", "en": "Gentle reminders"},
    ("cn-cash", "paying"): {"zh-CN": "正常还款", "zh-TW": "正常還款", "en": "Paying"},
    ("cn-private", "chase"): {"zh-CN": "强力追讨", "zh-TW": "強力追討", "en": "Hard chase"},
    ("cn-private", "paying"): {"zh-CN": "正常还款", "zh-TW": "正常還款", "en": "Paying"},
    # a paid-off loan's stage is the catalogue's
    ("cn-cash", "settled"): {"zh-CN": "已结清", "zh-TW": "已結清", "en": "settled"},
    ("cn-private", "settled"): {"zh-CN": "已结清", "zh-TW": "已結清", "en": "settled"},
}
LOCALES = ("zh-CN", "zh-TW", "en")


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The desk's book run on the two products' own ladders (built once: read only)."""
    work = tmp_path_factory.mktemp("own-ladders")
    (work / "cash.toml").write_text(CASH, encoding="utf-8")
    (work / "private.toml").write_text(PRIVATE, encoding="utf-8")
    (work / "arrears.toml").write_text(SETTINGS, encoding="utf-8")
    app = build_desk(f"sqlite:///{work / 'desk.db'}", work)
    yield desk_on(app)
    app.close()


def staged(desk: Desk) -> dict[str, tuple[str, str]]:
    """Each case's product and stage, as the night recorded them."""
    with desk.app.engine.connect() as conn:
        found = conn.execute(
            select(cases.c.loan_id, loans.c.product, cases.c.stage).join(
                loans, loans.c.loan_id == cases.c.loan_id
            )
        )
        return {row.loan_id: (row.product, row.stage) for row in found}


def in_locale(desk: Desk, locale: str) -> TestClient:
    """A client of the administrator reading the pages in `locale`."""
    client, csrf = desk.signed_in("admin")
    moved = client.post("/me/locale", data={"locale": locale, "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert moved.status_code == 303
    return client


def badges(html: str) -> list[str]:
    """The texts of the page's badges."""
    return [unescape(t) for t in re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html)]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_queue_names_each_case_by_its_own_ladder(own: Desk, locale: str) -> None:
    kinds = set(staged(own).values())
    assert {("cn-cash", "chase"), ("cn-cash", "watch-list"), ("cn-cash", "early"),
            ("cn-private", "chase")} <= kinds  # fmt: skip
    assert kinds <= set(LABELS)
    client = in_locale(own, locale)
    page = client.get("/queue")
    assert page.status_code == 200
    assert "stage:" not in page.text
    rows = re.findall(
        r'<a href="/cases/(\w+)">.*?<span class="badge[^"]*">([^<]*)</span>', page.text, re.S
    )
    assert len(rows) > 20
    recorded = staged(own)
    assert {(loan, unescape(shown)) for loan, shown in rows} == {
        (loan, LABELS[recorded[loan]][locale]) for loan, _ in rows
    }
    names = {"chase": "cn-cash", "early": "cn-cash", "watch-list": "cn-cash", "paying": "cn-cash"}
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', page.text)
    assert {(s, unescape(t)) for s, t in options if s in names} == {
        (s, LABELS[product, s][locale]) for s, product in names.items()
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_the_case_page_names_the_stage_by_the_cases_ladder(own: Desk, locale: str) -> None:
    client = in_locale(own, locale)
    recorded = staged(own)
    kinds = (("cn-cash", "chase"), ("cn-cash", "watch-list"), ("cn-cash", "early"),
             ("cn-private", "chase"))  # fmt: skip
    for kind in kinds:
        loan_id = next(loan for loan, found in sorted(recorded.items()) if found == kind)
        page = client.get(f"/cases/{loan_id}")
        assert page.status_code == 200
        assert "stage:" not in page.text
        stage_card = page.text.split('id="stage"', 1)[1]
        assert badges(stage_card)[0] == LABELS[kind][locale], (kind, locale)
        assert badges(page.text.split("</h1>", 1)[0])[0] == LABELS[kind][locale]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_dashboards_chart_names_the_stages(own: Desk, locale: str) -> None:
    client = in_locale(own, locale)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "stage:" not in page.text
    chart = page.text.split('id="stages"', 1)[1].split("</section>", 1)[0]
    shown = {unescape(t) for t in re.findall(r"<title>([^<]*): [\d,]+</title>", chart)}
    # Counted over both ladders: "chase" by the first product's label.
    stages = {stage for _, stage in staged(own).values()}
    assert shown == {LABELS["cn-cash", stage][locale] for stage in stages}


def test_the_api_filters_the_queue_by_a_stage_of_the_lenders_ladder(own: Desk) -> None:
    # A ladder may name a stage `watch-list`: the API's pattern refused it (helper-65).
    headers = own.bearer("admin")
    found = own.client().get("/api/v1/queue", headers=headers, params={"stage": "watch-list"})
    assert found.status_code == 200, found.text
    watched = {loan for loan, (_, stage) in staged(own).items() if stage == "watch-list"}
    shown = {case["loan_id"] for case in found.json()["cases"]}
    assert shown
    assert shown <= watched
    unknown = own.client().get("/api/v1/queue", headers=headers, params={"stage": "nope-x"})
    assert unknown.status_code == 422


def test_a_loan_on_its_ladders_own_default_stage_is_no_supervisors_pool(own: Desk) -> None:
    # The ladders rest their performing loans in "paying", not the shipped "current": every
    # supervisor could open them (helper-125). The pool is the cases in collection
    # (tests/entrypoints/web/test_scoping.py).
    with own.app.engine.connect() as conn:
        given = set(conn.execute(select(assignments.c.loan_id)).scalars())
    stages = staged(own)
    resting = sorted(loan for loan, (_, stage) in stages.items()
                     if stage == "paying" and loan not in given)  # fmt: skip
    assert resting
    supervisor = own.bearer("sup-east")
    for loan in resting[:3]:
        found = own.client().get(f"/api/v1/cases/{loan}", headers=supervisor)
        assert found.status_code == 404, loan
    board = own.client().get("/api/v1/dashboard", headers=supervisor).json()
    assert "paying" not in board["stages"]


def test_a_copy_of_a_shipped_ladder_keeps_the_catalogues_names() -> None:
    # A stage labelled as the shipped ladders label it is named from the catalogue (they give
    # no zh-TW label); labelled otherwise, by its own label.
    copy = replace(load_ladder("cn"), name="lender-cn")
    assert stage_name("early", "zh-TW", [copy]) == "早期催收"
    assert stage_name("early", "en", [copy]) == "early"
    relabelled = tuple(
        replace(s, label_zh_tw="初期提醒") if s.name == "early" else s for s in copy.stages
    )
    own = replace(copy, stages=relabelled)
    assert stage_name("early", "zh-TW", [own]) == "初期提醒"
    assert stage_name("early", "zh-CN", [own]) == "逾期初期"  # its own zh-CN label
    assert stage_name("mid", "zh-TW", [own]) == "中期催收"
    assert stage_name("settled", "zh-TW", [own]) == "已結清"
