"""Ladder files: the shipped ladders load, and every kind of mistake is refused naming its key."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import String

from arrears.adapters.db import tables
from arrears.adapters.strategy_file import (
    ARM_CHARS,
    LADDER_CHARS,
    STAGE_CHARS,
    TEMPLATE_CHARS,
    StrategyFileError,
    ladder_for,
    ladders_for,
    load_ladder,
)
from arrears.bootstrap import build_app
from arrears.domain.delinquency import bucket_for
from arrears.domain.product import Product
from arrears.domain.stages import default_stage
from arrears.domain.strategy import (
    ActionRecord,
    LoanFacts,
    assign_stage,
    check_escalation,
    due_treatments,
)

BASE = """
name = "test-ladder"
version = 3

[[stage]]
name = "mid"
label_zh = "逾期中期"
label_en = "Mid"
[[stage.entry]]
dpd_min = 31
dpd_max = 90
[[stage.treatment]]
day = 0
action = "formal_notice"
template = "notice"

[[stage]]
name = "early"
label_zh = "逾期初期"
label_en = "Early"
[[stage.entry]]
dpd_min = 1
dpd_max = 30
[[stage.treatment]]
day = 0
action = "sms"
template = "sms"
"""
EXPERIMENT = """
[[experiment]]
name = "e"
salt = "s"
arms = { a = 1, b = 1 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ladder.toml"
    path.write_text(text, encoding="utf-8")
    return path


def facts(dpd: int, grace: int, due_in: int | None) -> LoanFacts:
    return LoanFacts("L1", dpd, 100_000, 100_000, bucket_for(dpd, grace), False, due_in)


def test_a_ladder_file_loads_with_its_name_and_version(tmp_path: Path) -> None:
    ladder = load_ladder(write(tmp_path, BASE))
    assert (ladder.name, ladder.version, ladder.label) == ("test-ladder", 3, "test-ladder v3")
    assert [s.name for s in ladder.stages] == ["mid", "early"]
    assert [t.template for t in due_treatments(ladder, "mid", 0)] == ["notice"]


def test_a_stage_may_name_itself_in_traditional_characters(tmp_path: Path) -> None:
    text = BASE.replace('label_en = "Mid"', 'label_en = "Mid"\nlabel_zh_tw = "逾期中期（繁）"')
    ladder = load_ladder(write(tmp_path, text))
    labels = [(s.label_zh, s.label_zh_tw, s.label_en) for s in ladder.stages]
    assert labels == [("逾期中期", "逾期中期（繁）", "Mid"), ("逾期初期", None, "Early")]


def test_the_shipped_china_ladder_loads_worst_first() -> None:
    ladder = load_ladder("cn")
    assert ladder.label == "cn-default v5"
    assert [s.name for s in ladder.stages] == ["legal", "late", "mid", "early", "grace", "pre_due"]
    assert [e.name for e in ladder.experiments] == ["early-first-call"]
    visit = ladder.guard_for("field_visit_request")
    assert visit is not None
    assert visit.needs_approval
    assert [r.action for r in visit.requires] == ["call", "formal_notice", "agency_placement"]
    # The agency tried is an account it held a while (lender policy), not one placed and
    # recalled at once: a month before a visit, a week before a lawyer's letter.
    letter = ladder.guard_for("lawyers_letter")
    assert letter is not None
    assert [(r.action, r.min_days) for r in (*visit.requires, *letter.requires)
            if r.action == "agency_placement"] == [("agency_placement", 30),
                                                   ("agency_placement", 7)]  # fmt: skip
    suit = load_ladder("us").guard_for("legal_review")
    assert suit is not None
    assert [r.min_days for r in suit.requires if r.action == "agency_placement"] == [30]


@pytest.mark.parametrize("grace", [0, 3, 15])
@pytest.mark.parametrize("due_in", [None, 2, 10])
def test_every_dpd_from_0_to_400_matches_exactly_one_china_stage(
    grace: int, due_in: int | None
) -> None:
    ladder = load_ladder("cn")
    for dpd in range(401):
        loan = facts(dpd, grace, due_in)
        matching = [s.name for s in ladder.stages if any(r.matches(loan) for r in s.entry)]
        assert len(matching) <= 1, (dpd, matching)
        expected = matching[0] if matching else ladder.default_stage
        assert assign_stage(ladder, loan).stage == expected
        # The ladder supersedes the hard-coded stages without moving any loan.
        assert expected == default_stage(dpd, grace, due_in, False), dpd


def test_the_china_ladder_schedules_the_seed_process() -> None:
    ladder = load_ladder("cn")

    def due(stage: str, day: int, arm: str = "champion", *ever: str) -> list[str]:
        return [t.action for t in due_treatments(ladder, stage, day, arm, ever=ever)]

    notices = ("formal_notice", "credit_pre_notice")  # on record: sent in "mid"
    assert due("pre_due", 0) == ["sms"]
    assert due("grace", 0) == ["sms"]
    assert due("early", 0) == ["sms"]
    assert due("early", 1) == ["call"]
    assert due("early", 0, "challenger") == ["sms", "call"]  # a day earlier
    assert due("mid", 0) == ["formal_notice", "credit_pre_notice", "call"]
    assert due("mid", 0, "champion", *notices) == ["formal_notice", "credit_pre_notice", "call"]
    assert due("late", 0, "champion", *notices) == ["agency_placement"]
    # A loan first seen in "late" (it skipped "mid") is owed the notices there.
    assert due("late", 0) == ["agency_placement", "formal_notice", "credit_pre_notice"]
    assert due("late", 0, "champion", "formal_notice") == ["agency_placement", "credit_pre_notice"]
    assert due("late", 7, "champion", *notices) == ["agency_placement"]  # tried until done
    assert "field_visit_request" not in {a for d in range(90) for a in due("late", d)}
    placed = (*notices, "agency_placement")
    assert due("legal", 0, "champion", *placed) == ["agency_recall", "lawyers_letter"]
    # Never placed (first seen in "legal", or referred there early): nothing to recall, and
    # the placement the letter's guard asks for is owed there, weekly until done (v4).
    assert due("legal", 0, "champion", *notices) == ["lawyers_letter", "agency_placement"]
    # Refused by its guard on day 0 (or not yet placed), each is asked again a week later.
    assert due("legal", 7, "champion", *placed) == ["agency_recall", "lawyers_letter"]
    assert due("legal", 15, "champion", *notices) == ["legal_review"]
    assert due("legal", 21, "champion", *notices) == ["lawyers_letter", "agency_placement"]
    assert due("legal", 22, "champion", *notices) == ["legal_review"]


def test_an_owed_placement_is_offered_in_the_harsher_stages_it_is_owed_in() -> None:
    # China ladder v4: the late stage's placement is owed, so a loan referred to "legal"
    # before "late" is placed there; its guard must not refuse it as not offered there.
    ladder = load_ladder("cn")
    assert ladder.offers("legal", "agency_placement")
    assert not ladder.offers("mid", "agency_placement")  # gentler: not owed there
    calls = [ActionRecord("call", date(2026, 6, day), "no_answer") for day in (1, 2, 2)]
    history = [*calls, ActionRecord("formal_notice", date(2026, 5, 20), "sent")]
    decision = check_escalation(ladder, "agency_placement", history, date(2026, 6, 30),
                                stage="legal")  # fmt: skip
    assert decision.allowed, decision.reasons


def test_the_us_ladder_sends_the_validation_notice_first() -> None:
    ladder = load_ladder("us")
    first = next(
        (s.name, t.template)
        for s in reversed(ladder.stages)  # mildest first
        for t in sorted(s.treatments, key=lambda t: t.day)
    )
    assert first == ("early", "us.validation_notice")


def test_the_uk_ladder_offers_forbearance_before_anything_else_in_arrears() -> None:
    ladder = load_ladder("uk")
    assert [t.template for t in due_treatments(ladder, "early", 0)] == [
        "uk.forbearance_offer",
        "uk.forbearance_offer",
    ]


def test_a_product_uses_its_own_ladder_file_else_its_jurisdictions(tmp_path: Path) -> None:
    (tmp_path / "ladders").mkdir()
    (tmp_path / "ladders" / "cash.toml").write_text(BASE, encoding="utf-8")
    own = Product("cash-30", strategy="ladders/cash.toml")
    assert ladder_for(own, tmp_path).name == "test-ladder"
    assert ladder_for(Product("us-installment", jurisdiction="us")).name == "us-default"


def test_two_products_may_share_a_ladder_but_not_a_label_for_two(tmp_path: Path) -> None:
    # A lender copies a ladder file, edits it and keeps its name and version: a case records
    # the label, and the run found one product's stages and the other's treatments by it.
    (tmp_path / "a.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "same.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(BASE.replace("dpd_min = 31", "dpd_min = 45"), "utf-8")
    products = {code: Product(code, strategy=f"{code}.toml") for code in ("a", "same", "b")}
    shared = ladders_for({c: products[c] for c in ("a", "same")}, tmp_path)
    assert shared["a"] == shared["same"]
    with pytest.raises(StrategyFileError) as refused:
        ladders_for(products, tmp_path)
    assert str(refused.value) == (
        "the ladders of products 'a' (a.toml) and 'b' (b.toml) differ under one name and "
        "version 'test-ladder v3': a case records its ladder by name and version, so give the "
        "edited copy its own `name` (or a new `version`)"
    )
    # Named as the settings load (a server would have started and then refused its pages).
    config = tmp_path / "arrears.toml"
    config.write_text('[products.a]\nstrategy = "a.toml"\n[products.b]\nstrategy = "b.toml"\n',
                      encoding="utf-8")  # fmt: skip
    with pytest.raises(StrategyFileError, match="the ladders of products 'a'"):
        build_app(None, str(config))
    renamed = BASE.replace("dpd_min = 31", "dpd_min = 45").replace("version = 3", "version = 4")
    (tmp_path / "b.toml").write_text(renamed, "utf-8")
    assert ladders_for(products, tmp_path)["b"].label == "test-ladder v4"


def test_a_missing_file_or_unknown_shipped_ladder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StrategyFileError, match="does not exist"):
        load_ladder(tmp_path / "nope.toml")
    # Named by the product whose key chose it (helper-115: which of several, unsaid).
    products = {"a": Product("a", strategy="ladders/cash.toml"), "b": Product("b")}
    with pytest.raises(StrategyFileError, match=r"^products\.a\.strategy: strategy file .*"
                       r"ladders/cash\.toml does not exist"):  # fmt: skip
        ladders_for(products, tmp_path)
    with pytest.raises(StrategyFileError, match=r"unknown shipped strategy 'fr' \(shipped: cn"):
        load_ladder("fr")


APPEND = ""  # marks a case that adds text instead of replacing it


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('action = "sms"', 'action = "fax"', "stage 'early' treatment 1: action 'fax' is unknown"),
        (
            "dpd_min = 31\ndpd_max = 90",
            "dpd_min = 90\ndpd_max = 31",
            "stage 'mid' entry 1: dpd_min 90 > dpd_max 31",
        ),
        (
            "dpd_min = 1\ndpd_max = 30",
            "dpd_min = 40\ndpd_max = 60",
            "stage 'early' entry 1 can never match: earlier stage(s) 'mid' take every loan",
        ),
        (
            APPEND,
            EXPERIMENT + 'stages = ["late"]',
            "experiment 'e' stages: unknown stage 'late'",
        ),
        (
            APPEND,
            EXPERIMENT.replace("b = 1", "b = 0"),
            "experiment 'e': arm 'b' weight must be a positive integer, got 0",
        ),
        (
            APPEND,
            EXPERIMENT.replace("b = 1", "b = 0.5"),
            "experiment 'e' arms: b must be an integer, got 0.5",
        ),
        ('name = "early"', 'name = "mid"', "stage 'mid' is declared twice"),
        ("version = 3\n", "", "missing key 'version'"),
        ("version = 3", 'version = "3"', "version must be an integer, got '3'"),
        ("version = 3", "version = 0", "version must be a positive integer, got 0"),
        (
            'day = 0\naction = "sms"',
            'day = -1\naction = "sms"',
            "stage 'early' treatment 1: day must not be negative, got -1",
        ),
        (
            'day = 0\naction = "sms"',
            'day = 0\nevery = 0\naction = "sms"',
            "stage 'early' treatment 1: every must be at least 1",
        ),
        ('template = "sms"\n', "", "stage 'early' treatment 1: missing key 'template'"),
        # Past the engines' integers a bound would stop every run instead of matching nothing.
        (
            "dpd_min = 31\ndpd_max = 90",
            "dpd_min = 9223372036854775807",
            "stage 'mid' entry 1: dpd_min must be at most 109572 in size",
        ),
        (
            "dpd_min = 31\ndpd_max = 90",
            'dpd_min = 31\namount_min = "92233720368547758.08"',
            "stage 'mid' entry 1: amount_min must be at most 1000000000000000 in size",
        ),
        (
            'day = 0\naction = "sms"',
            'day = 0\nevery = 200000\naction = "sms"',
            "stage 'early' treatment 1: every must be at most 109572, got 200000",
        ),
        (
            'day = 0\naction = "sms"',
            'day = 0\nowed = "yes"\naction = "sms"',
            "stage 'early' treatment 1: owed must be true or false",
        ),
        (APPEND, "[guards.visit]", "guards.visit: action 'visit' is unknown"),
        (
            APPEND,
            '[guards.agency_placement]\n[[guards.agency_placement.requires]]\naction = "visit"',
            "guards.agency_placement requires 1: action 'visit' is unknown",
        ),
        (
            APPEND,
            '[guards.agency_placement]\n[[guards.agency_placement.requires]]\naction = "call"\n'
            'outcomes = ["hung_up"]',
            "guards.agency_placement requires 1: outcome(s) ['hung_up'] unknown",
        ),
        (APPEND, "[guards.field_visit_request]\napproval = false", "always needs approval"),
        # An empty guard would let the heavy step go first, with no reason on record.
        (
            APPEND,
            "[guards.lawyers_letter]",
            "guards.lawyers_letter: lawyers_letter must require at least one gentler step",
        ),
        (
            APPEND,
            '[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\naction = "sms"\n'
            "distinct_days = 3\nwithin_days = 1",
            "guards.lawyers_letter requires 1: sms: distinct_days 3 cannot fit in the last 1 "
            "days (at most 2 days): never met",
        ),
        # Without a window these were kept as guards never met (helper-115).
        (
            APPEND,
            '[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\naction = "sms"\n'
            "at_least = 9223372036854775808",
            "guards.lawyers_letter requires 1: at_least must be at most 109572, got 9223372036",
        ),
        (
            APPEND,
            '[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\naction = "sms"\n'
            "distinct_days = 200000",
            "guards.lawyers_letter requires 1: distinct_days must be at most 109572, got 200000",
        ),
        (
            APPEND,
            "[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\n"
            'action = "agency_placement"\nmin_days = "7"',
            "guards.lawyers_letter requires 1: min_days must be an integer, got '7'",
        ),
        (
            APPEND,
            "[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\n"
            'action = "agency_placement"\nmin_days = 0',
            "guards.lawyers_letter requires 1: min_days must be at least 1, got 0",
        ),
        (
            APPEND,
            "[guards.lawyers_letter]\n[[guards.lawyers_letter.requires]]\n"
            'action = "agency_placement"\nwithin_days = 20\nmin_days = 30',
            "guards.lawyers_letter requires 1: agency_placement: min_days 30 cannot be met by a "
            "record of the last 20 days: never met",
        ),
        ('template = "sms"', 'template = "  "', "stage 'early' treatment 1: template must not"),
        ('template = "sms"', 'template = "' + "s" * 65 + '"', "is longer than 64 characters"),
        (
            'name = "test-ladder"',
            'name = "' + "n" * 62 + '"',
            "the ladder's name and version '" + "n" * 62 + " v3' are longer than 64",
        ),
        ('label_en = "Mid"', 'label_en = " "', "stage 'mid': label_en must not be blank"),
        (
            'label_en = "Mid"',
            'label_en = "Mid"\nlabel_zh_tw = " "',
            "stage 'mid': label_zh_tw must not be blank",
        ),
        (
            'label_en = "Mid"',
            'label_en = "Mid"\nlabel_zh_tw = 3',
            "stage 'mid': label_zh_tw must be a string, got 3",
        ),
        (
            'template = "sms"',
            'template = "sms"\nwhen_done = "fax"',
            "stage 'early' treatment 1: when_done: action 'fax' is unknown",
        ),
        (
            'label_en = "Early"',
            'label_en = "Early"\ncolour = "red"',
            "stage 'early' has unknown key(s) ['colour']",
        ),
        ("version = 3", "version = 3\nowner = 'x'", "has unknown key(s) ['owner']"),
        ('label_zh = "逾期中期"\n', "", "stage 'mid': missing key 'label_zh'"),
        (
            "dpd_min = 31",
            'dpd_min = "31"',
            "stage 'mid' entry 1: dpd_min must be an integer, got '31'",
        ),
        (
            "dpd_min = 31",
            'amount_min = "5k"',
            "stage 'mid' entry 1: amount_min: '5k' is not an amount",
        ),
        ("dpd_min = 1\n", 'buckets = ["M9"]\n', "stage 'early' entry 1: bucket(s) ['M9'] unknown"),
        (
            'template = "sms"',
            'template = "sms"\narms = ["challenger"]',
            "stage 'early' treatment 1: arm(s) ['challenger'] are not arms of any experiment",
        ),
        (
            'label_en = "Mid"',
            'label_en = "Mid"\nheavy = ["field_visit_request"]',
            "stage 'mid' heavy: field_visit_request has no guard",
        ),
        (
            'action = "formal_notice"',
            'action = "lawyers_letter"',
            "lawyers_letter is used but has no guard (guards.lawyers_letter)",
        ),
        (
            APPEND,
            '[guards.lawyers_letter]\nrequires = [{ action = "legal_review" }]\n'
            '[guards.legal_review]\nrequires = [{ action = "lawyers_letter" }]',
            "guards form a cycle, so none can ever pass: lawyers_letter → legal_review",
        ),
        (
            "[[stage.entry]]\ndpd_min = 1\ndpd_max = 30\n",
            "",
            "stage 'early' has no entry rule and is not the default: never entered",
        ),
        ("version = 3", "version = 3\n[[stage", "is not valid TOML"),
        # No store keeps a NUL: PostgreSQL refused one after the night's work (helper-115).
        (
            'name = "early"',
            'name = "ear\\u0000ly"',
            "stage #2.name holds a control character (U+0000): text may hold none but tabs",
        ),
        ("version = 3", "version = 3\nguards = 3", "guards must be a table, got 3"),
        (APPEND, '[[experiment]]\nname = "e"\nsalt = "s"\narms = 5', "arms must be a table"),
        (
            'name = "early"',
            'name = "early-with-a-long-name"',
            "stage name 'early-with-a-long-name' is longer than 16 characters",
        ),
        (
            "version = 3",
            'version = 3\ndefault_stage = "performing-as-agreed"',
            "stage name 'performing-as-agreed' is longer than 16 characters",
        ),
        (
            APPEND,
            '[[experiment]]\nname = "late-stage-sms-cadence-2026"\nsalt = "s"\n'
            "arms = { daily-cadence-challenger = 1, champion = 1 }",
            "a case's arms can read 'late-stage-sms-cadence-2026=daily-cadence-challenger'",
        ),
        # A case records the label: ' v3' told nobody which ladder staged it.
        ('name = "test-ladder"', 'name = " "', "name must not be blank"),
        # An empty default stage was taken as "current" without a word.
        (
            "version = 3",
            'version = 3\ndefault_stage = ""',
            "default_stage must name a stage (not blank, not 'settled' or 'not_lent')",
        ),
        ('name = "early"', 'name = "  "', "a stage needs a name"),
        # Two experiments of one salt split the book alike: their arms always go together
        # (helper-60: 5,022 and 4,978 loans in two of the four pairs, none in the others).
        (
            APPEND,
            '[[experiment]]\nname = "e"\nsalt = "s"\narms = { a = 1, b = 1 }\n'
            '[[experiment]]\nname = "f"\nsalt = "s"\narms = { c = 1, d = 1 }',
            "experiments 'e', 'f' share the salt 's': their splits would be the same",
        ),
        (
            APPEND,
            '[[experiment]]\nname = "e"\nsalt = " "\narms = { a = 1 }',
            "salt must not be blank",
        ),
        (
            APPEND,
            '[[experiment]]\nname = "e"\nsalt = "s"\narms = { " " = 1 }',
            "an arm needs a name",
        ),
        # An experiment in no stage never draws an arm: off without a word (helper-60).
        (
            APPEND,
            '[[experiment]]\nname = "e"\nsalt = "s"\narms = { a = 1 }\nstages = []',
            "stages must not be empty (leave it out for every stage)",
        ),
    ],
)
def test_a_bad_ladder_file_is_refused_naming_the_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old == APPEND or old in BASE, old
    text = BASE + "\n" + new if old == APPEND else BASE.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(StrategyFileError) as refused:
        load_ladder(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_treatment_for_an_arm_is_refused_where_its_experiment_does_not_run(
    tmp_path: Path,
) -> None:
    # A case draws an experiment's arm when it first enters one of the experiment's stages:
    # a treatment for the arm in another stage would never fall due.
    early_for_a = BASE.replace('template = "sms"', 'template = "sms"\narms = ["a"]')
    experiment = EXPERIMENT + 'stages = ["mid"]\n'
    path = write(tmp_path, early_for_a + experiment)
    with pytest.raises(StrategyFileError) as refused:
        load_ladder(path)
    assert str(refused.value) == (
        f"{path}: stage 'early' treatment 1: arm 'a' of experiment 'e', which does not run in "
        f"'early' (its stages: mid): a loan draws its arm as it enters them"
    )
    path = write(tmp_path, early_for_a + EXPERIMENT + 'stages = ["mid", "early"]\n')
    assert load_ladder(path).experiments[0].runs_in("early")
    # Owed, it falls due in the harsher stages too: the experiment must run there as well.
    owed = early_for_a.replace('arms = ["a"]', 'arms = ["a"]\nowed = true')
    path = write(tmp_path, owed + EXPERIMENT + 'stages = ["early"]\n')
    with pytest.raises(StrategyFileError, match="arm 'a' of experiment 'e', which does not run "
                       "in 'mid'"):  # fmt: skip
        load_ladder(path)


def test_a_ladder_without_stages_is_refused(tmp_path: Path) -> None:
    # Every loan would sit in the default stage with nothing ever done (helper-115).
    with pytest.raises(StrategyFileError, match=r"a ladder needs at least one \[\[stage\]\]"):
        load_ladder(write(tmp_path, 'name = "empty"\nversion = 1\n'))


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # Windows Notepad writes one; the feeds read past it too (CONTRACT.md).
    path = tmp_path / "ladder.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    (tmp_path / "plain").mkdir()
    assert load_ladder(path) == load_ladder(write(tmp_path / "plain", BASE))


def test_the_name_limits_are_the_stores_columns() -> None:
    # A ladder the loader accepts must fit every store's columns.
    columns = [c for t in tables.metadata.tables.values() for c in t.c]
    stages = [
        c.type.length or 0 for c in columns if c.name == "stage" and isinstance(c.type, String)
    ]
    arms = [c.type.length or 0 for c in columns if c.name == "arm" and isinstance(c.type, String)]
    assert min(stages) == STAGE_CHARS
    assert min(arms) == ARM_CHARS
    for name, kept in (("ladder", LADDER_CHARS), ("template", TEMPLATE_CHARS)):
        lengths = [c.type.length for c in columns if c.name == name and isinstance(c.type, String)]
        assert lengths, name
        assert min(length or 0 for length in lengths) == kept, name


def test_each_arms_owed_step_is_owed_in_the_harsher_stages(tmp_path: Path) -> None:
    # Early owes an SMS to arm a on day 0 and to arm b on day 1: a loan first seen in "mid"
    # is owed its own arm's (arm b's was dropped, one key taken for both). Steps of arms of
    # two experiments may both reach one loan: the nearest one only, as for a step of all.
    def ladder(experiments: str) -> str:
        owed = ('[[stage.treatment]]\nday = {day}\naction = "sms"\ntemplate = "sms"\n'
                'arms = ["{arm}"]\nowed = true\n')  # fmt: skip
        early = BASE.replace(
            '[[stage.treatment]]\nday = 0\naction = "sms"\ntemplate = "sms"\n',
            owed.format(day=0, arm="a") + owed.format(day=1, arm="b"),
        )
        return early + experiments

    one = '[[experiment]]\nname = "e"\nsalt = "s"\narms = { a = 1, b = 1 }\n'
    path = tmp_path / "ladder.toml"
    path.write_text(ladder(one), encoding="utf-8")
    split = load_ladder(path)
    assert [(t.day, t.action) for t in due_treatments(split, "mid", 0, "a")] == [
        (0, "formal_notice"), (0, "sms")
    ]  # fmt: skip
    assert [(t.day, t.action) for t in due_treatments(split, "mid", 1, "b")] == [(1, "sms")]
    two = ('[[experiment]]\nname = "e"\nsalt = "s"\narms = { a = 1, c = 1 }\n'
           '[[experiment]]\nname = "f"\nsalt = "t"\narms = { b = 1, d = 1 }\n')  # fmt: skip
    path.write_text(ladder(two), encoding="utf-8")
    crossed = load_ladder(path)
    assert [t.day for t in due_treatments(crossed, "mid", 0, ["a", "b"]) if t.action == "sms"] == [
        0
    ]
    assert due_treatments(crossed, "mid", 1, ["a", "b"]) == []
