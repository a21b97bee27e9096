"""Every text the pages show has its zh-CN and zh-TW translation (and a placeholder in a
translation is the source's)."""

import re
from datetime import date
from pathlib import Path

import pytest

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.content_pack import shipped_content_packs
from arrears.adapters.packs import JURISDICTIONS, cap_policies, lpr_table, read_pack
from arrears.batch.time_barred import UNKNOWN
from arrears.bootstrap import build_app
from arrears.domain.access import Permission, Role, ScopeKind
from arrears.domain.approvals import ProposalKind
from arrears.domain.caps import OWN_CAP_RULE, CapRule, cap_rule_for
from arrears.domain.contact import CHANNELS, HOLD_KINDS, OUTCOMES
from arrears.domain.escalation import ACTIONS, GUARDED_ACTIONS
from arrears.domain.escalation import OUTCOMES as GUARD_OUTCOMES
from arrears.domain.flags import FLAGS
from arrears.domain.ladder import RESERVED
from arrears.domain.legal_deadlines import deadline_after
from arrears.domain.legal_track import LegalStep
from arrears.entrypoints.web import i18n
from arrears.entrypoints.web.invalid_text import PROBLEMS
from arrears.entrypoints.web.page_render import NOT_PAYMENTS, PORTAL_ACTORS

WEB = Path(i18n.__file__).parent
SRC = WEB.parents[1]
LITERAL = re.compile(r"""_\(\s*(?:"([^"]+)"|'([^']+)')\s*[,)]""")
KEYED = re.compile(r"""_\(\s*["']([a-z_-]+:)["']\s*~""")
# Every stage of the shipped ladders, and the reserved ones (a loan paid off, one not lent
# yet): the pages name them from the catalogue (stage_names; a lender's own stage by its
# ladder's labels).
STAGES = sorted(
    {s.name for ladder in build_app(None, None).ladders.values() for s in ladder.stages}
    | {ladder.default_stage for ladder in build_app(None, None).ladders.values()}
    | set(RESERVED)
)
# The values each keyed text (e.g. _("role:" ~ role)) is used with.
VALUES = {
    "role:": [r.value for r in Role],
    # Named in a refusal (access.require: "role {role} may not {permission}").
    "permission:": [p.value for p in Permission],
    "scope:": [s.value for s in ScopeKind],
    "pii:": ["phone", "national_id", "address", "email"],
    "channel:": list(CHANNELS),
    "outcome:": sorted({o for known in OUTCOMES.values() for o in known}),
    "charge:": ["interest", "fee", "penalty", "late_fee"],
    "charge-why:": ["interest", "fee", "late_fee"],
    "part:": ["principal", "interest", "penalty", "fees", "credit"],
    # What an allocation names in place of a payment (the pages said `cap_refund`: helper-127).
    "payment:": sorted(NOT_PAYMENTS),
    "plan-part:": ["pending", "past_due", "paid"],
    "proposal:": [k.value for k in ProposalKind],
    "status:": ["approved", "pending", "rejected"],
    "promise:": ["open", "kept", "broken"],
    # Named in a refusal of a bureau dispute (services/bureau_disputes.py).
    "dispute:": ["corrected", "upheld", "reason", "answer"],
    "hold:": list(HOLD_KINDS),
    "clock:": ["ageing", "charges"],
    "done:": ["promise", "note", "hold", "visit", "visit-report", "legal", "assign", "place",
              "recall", "balance", "user", "enabled", "disabled",
              "lift", "flag", "flag-clear", "user changed", "password reset", "team", "agency",
              "evaluation"],
    "visit:": ["requested", "approved", "rejected", "done", "lapsed"],
    "flag:": sorted(FLAGS),
    "written:": ["contact", "note", "visit", "hold", "visit_request", "visit_decision",
                 "proposal_decision", "flag"],  # where a text the content lint flagged was
    "legal:": ["lawyers_letter", "filing", "preservation", "judgment", "enforcement", "closed"],
    "deadline:": ["enforcement_application"],
    "interruption:": ["last_due", "formal_notice", "letter", "lawyers_letter", "call", "payment",
                      "promise", "filing"],
    "audit:": ["login", "login.failed", "login.throttled", "logout", "pii.unmask", "contact.log",
               "contact.refused", "note.add", "promise.add", "proposal.add",
               "proposal.approve", "proposal.reject", "user.create", "token.issue",
               "case.assign", "case.place", "case.recall", "team.create", "agency.create",
               "audit.export", "visit.request", "visit.approve", "visit.reject",
               "visit.report", "hold.place", "legal.lawyers_letter", "legal.filing",
               "legal.preservation", "legal.judgment", "legal.enforcement", "legal.closed",
               "user.enable", "user.disable", "hold.lift", "flag.set", "flag.clear",
               "user.locale", "user.update", "user.password", "case.view", "contact.opt_out",
               "legal.refused", "agency.evaluate", "bureau.export", "bureau.dispute",
               "bureau.answer", "delivery.settle", "reply.read", "portal.link", "portal.sign_in",
               "portal.sign_out"],
}  # fmt: skip


def texts_used() -> set[str]:
    """Every text id the templates and routes ask for."""
    found: set[str] = set()
    sources = [*WEB.rglob("*.html"), *WEB.glob("*.py")]
    for path in sources:
        content = path.read_text(encoding="utf-8")
        found |= {a or b for a, b in LITERAL.findall(content)}
        for prefix in KEYED.findall(content):
            assert prefix in VALUES, f"{path.name}: keyed text {prefix!r} has no known values"
            found |= {prefix + value for value in VALUES[prefix]}
    found.discard("English text")  # the docstring's example
    return found


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_text_has_a_chinese_translation(locale: str) -> None:
    table = i18n.catalogue(locale)
    missing = sorted(t for t in texts_used() if not table.get(t))
    assert missing == []


def refusal_classes(sources: list[str]) -> set[str]:
    """Refusal, the classes made from it (and from those), and Words (a value in words)."""
    names = {"Refusal", "Words"}
    while True:
        bases = "|".join(sorted(names))
        found = {n for text in sources for n in re.findall(rf"class (\w+)\((?:{bases})\)", text)}
        if found <= names:
            return names
        names |= found


def refusal_templates() -> set[str]:
    """The template of every Refusal (and Words) the code makes (a page shows it translated)."""
    sources = [p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")]
    # A contact rule's detail is worded by a Detail (domain/rule_details.py), its template a
    # literal where it is made; a Detail's Words are made from that template.
    names = refusal_classes(sources) | {"Detail"}
    # A class that words its own template (GuardRefused) is made with other arguments: its
    # template is the literal it passes up.
    init = r"\(\w+\):\n(?:[ \t].*\n|\n)*?    def __init__"
    own = {
        n for text in sources for n in names - {"Refusal"} if re.search(f"class {n}{init}", text)
    }
    bases = "|".join(sorted(names - own))
    calls = re.compile(rf"(?<!class )\b(?:{bases})\(")
    # one literal, or adjacent ones (written over lines)
    literal = re.compile(
        rf"(?<!class )\b(?:{bases}|super\(\).__init__)\(\s*((?:\"[^\"]*\"\s*)+)[,)]"
    )
    templates: set[str] = set()
    for text in sources:
        made = [m for m in literal.finditer(text) if not m.group(0).startswith("super")]
        # a template written otherwise (an f-string, a variable) could not be looked up
        from_forms = text.count("Words(self.template")
        assert len(made) == len(calls.findall(text)) - from_forms, (
            "a Refusal's template is not one literal"
        )
        templates |= {"".join(re.findall(r'"([^"]*)"', m.group(1))) for m in literal.finditer(text)}
    return templates


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_refusal_has_a_chinese_translation(locale: str) -> None:
    table = i18n.catalogue(locale)
    templates = refusal_templates()
    assert len(templates) >= 15
    assert sorted(t for t in templates if not table.get(t)) == []


# Where the pages' actions are decided: everything they refuse with reaches a page.
REACHED = [
    "services/casework.py", "services/desk_contact.py", "services/legal.py",
    "services/contact_log.py",
    "services/field_visit.py", "services/assignment.py", "services/staff_setup.py",
    "domain/approvals.py",
    "domain/field_visits.py", "domain/legal_track.py", "domain/access.py", "domain/contact.py",
    "domain/flags.py", "adapters/db/casework_store.py", "adapters/db/track_store.py",
    "adapters/db/contact_store.py", "entrypoints/web/pages.py", "entrypoints/web/pages_case.py",
    "entrypoints/web/pages_desk.py", "entrypoints/web/pages_admin.py", "entrypoints/web/views.py",
]  # fmt: skip
# Raised there but not a Refusal: retried before anyone sees them, shown with their own
# translated page (a contact the rules block, a legal step they block), or worded by the
# Refusal they wrap (ContactInputError: app.refuse shows its cause).
NOT_SHOWN = {"ContactBlocked", "ExtensionsChanged", "AttemptsChanged", "_Undone", "StepBlocked",
             "ContactInputError"}  # fmt: skip


def test_what_the_pages_actions_refuse_with_is_a_refusal_with_a_template() -> None:
    # A message made another way (DomainError(f"...")) reached zh-CN and zh-TW pages in
    # English; a Refusal's template is looked up in the catalogues (the test above).
    sources = [p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")]
    # A contact rule's detail is worded by a Detail (domain/rule_details.py), its template a
    # literal where it is made; a Detail's Words are made from that template.
    names = refusal_classes(sources) | {"Detail"} | NOT_SHOWN
    raised = {
        (path, name)
        for path in REACHED
        for name in re.findall(r"raise (\w+)\(", (SRC / path).read_text(encoding="utf-8"))
    }
    assert sorted((path, name) for path, name in raised if name not in names) == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_kind_of_invalid_field_has_a_chinese_translation(locale: str) -> None:
    table = i18n.catalogue(locale)
    words = [*PROBLEMS.values(), "invalid request: {problems}"]
    assert [w for w in words if not table.get(w)] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_translations_keep_the_placeholders(locale: str) -> None:
    for source, text in i18n.catalogue(locale).items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", source)), source


def test_keyed_texts_read_as_words_in_english() -> None:
    table = i18n.catalogue("en")
    for prefix, values in VALUES.items():
        for value in values:
            assert table.get(prefix + value), f"English has no text for {prefix}{value}"


def test_the_language_is_negotiated_chinese_first() -> None:
    assert i18n.negotiate(None) == "zh-CN"
    assert i18n.negotiate("zh-TW,zh;q=0.9") == "zh-TW"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("fr-FR") == "zh-CN"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-Hant-HK", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh-MO,en;q=0.5", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hans-HK", "zh-CN"),  # simplified characters, in Hong Kong
        ("zh-SG", "zh-CN"),
        ("en;q=0.1, zh-TW;q=0.9", "zh-TW"),
        ("zh-CN;q=0.2, en-GB;q=0.8", "en"),
        ("fr, en;q=0.5, zh;q=0.4", "en"),
        ("en;q=0, zh-TW", "zh-TW"),
        ("en;q=0", "zh-CN"),  # refused: the default
        ("en;q=nonsense, zh-HK;q=0.3", "zh-TW"),
        ("zh-TW, en", "zh-TW"),  # equal q: the first
    ],
)
def test_the_language_follows_the_scripts_and_the_q_values(header: str, locale: str) -> None:
    assert i18n.negotiate(header) == locale


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_stage_has_a_name(locale: str) -> None:
    table = i18n.catalogue(locale)
    assert len(STAGES) >= 10
    assert [s for s in STAGES if not table.get(f"stage:{s}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_contact_rule_has_a_name(locale: str) -> None:
    table = i18n.catalogue(locale)
    rules = [rule.rule_id for pack in contact_packs().values() for rule in pack.rules]
    assert len(rules) >= 20
    assert [r for r in rules if not table.get(f"rule:{r}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_content_rule_has_a_name(locale: str) -> None:
    # A finding is named on the case page and counted by rule on the dashboard.
    table = i18n.catalogue(locale)
    packs = shipped_content_packs().values()
    rules = [r.rule_id for pack in packs for r in pack.rules] + [
        r.rule_id for pack in packs for r in pack.required
    ]
    assert len(rules) >= 20
    assert "us.content.electronic_opt_out" in rules
    assert [r for r in rules if not table.get(f"rule:{r}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_escalation_guard_has_a_name(locale: str) -> None:
    # The night's plan records a step its guard refused as rule escalation.<action>, which
    # the dashboard's chart of refusals names.
    table = i18n.catalogue(locale)
    ladders = build_app(None, None).ladders.values()
    actions = GUARDED_ACTIONS | {g.action for ladder in ladders for g in ladder.guards}
    assert [a for a in sorted(actions) if not table.get(f"rule:escalation.{a}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_the_legal_deadline_has_a_name(locale: str) -> None:
    # Stored with the legal case as a key and its rule's source; the case page names it and
    # cites the source (looked up by its text) in the reader's language.
    judged = LegalStep("judgment", date(2026, 1, 15), performance_due=date(2026, 2, 1))
    rules = [p.enforcement for p in contact_packs().values() if p.enforcement is not None]
    assert rules
    table = i18n.catalogue(locale)
    for rule in rules:
        found = deadline_after(judged, rule)
        assert found is not None
        assert table.get(f"deadline:{found.what}")
        assert table.get(f"{found.rule_id}: {found.source}")


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_action_has_a_name(locale: str) -> None:
    # A refusal names the ladder's action it refuses (a time-barred debt: no lawyer's letter).
    table = i18n.catalogue(locale)
    assert [a for a in ACTIONS if not table.get(f"action:{a}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_limitation_rule_has_a_name(locale: str) -> None:
    # The night's plan refuses under the limitation rule (or UNKNOWN), which the dashboard's
    # chart of refusals names.
    table = i18n.catalogue(locale)
    limits = [p.limitation for p in contact_packs().values() if p.limitation is not None]
    assert limits
    rules = [limit.rule_id for limit in limits] + [UNKNOWN]
    assert [r for r in rules if not table.get(f"rule:{r}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_shipped_limitation_source_has_a_chinese_translation(locale: str) -> None:
    # A time-barred step is refused citing the rule's source (domain.limitation.refusal),
    # looked up by its text: the us pack's is English.
    table = i18n.catalogue(locale)
    sources = [p.limitation.source for p in contact_packs().values() if p.limitation is not None]
    assert [s for s in sources if not table.get(s)] == []


def shipped_caps() -> list[CapRule]:
    """The cost caps of the shipped packs, as a loan signed on the last LPR fixing's day
    has them (an LPR cap's source names the fixing's)."""
    lpr = lpr_table()
    signed = lpr.fixings[-1].published_on
    caps = []
    for jurisdiction in JURISDICTIONS:
        policies = cap_policies(read_pack(f"{jurisdiction}.toml"), jurisdiction)
        caps += [cap_rule_for(kind, signed, policies, lpr) for kind in policies]
    return caps


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_shipped_cost_cap_has_a_name(locale: str) -> None:
    # The case page names the cap that binds the loan, and the rule of each cut.
    table = i18n.catalogue(locale)
    rules = [cap.rule_id for cap in shipped_caps()]
    assert len(rules) >= 2
    assert [r for r in rules if not table.get(f"rule:{r}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_a_products_own_cost_cap_has_a_name(locale: str) -> None:
    # Its source is the lender's own text, shown as written.
    assert i18n.catalogue(locale).get(f"rule:{OWN_CAP_RULE}")


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_shipped_cost_cap_source_has_a_chinese_translation(locale: str) -> None:
    # Looked up by its text (the licensed cap's ends in English, and zh-TW reads it in
    # traditional characters).
    table = i18n.catalogue(locale)
    assert [cap.source for cap in shipped_caps() if not table.get(cap.source)] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_every_outcome_a_guard_counts_has_a_name(locale: str) -> None:
    # A guard's refusal names the outcomes a missing step needs (formal_notice sent|delivered,
    # agency_placement done).
    table = i18n.catalogue(locale)
    assert [o for o in GUARD_OUTCOMES if not table.get(f"outcome:{o}")] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
def test_every_shipped_outsourcing_source_has_a_chinese_translation(locale: str) -> None:
    # A placement with an agency the rule does not clear is refused citing the rule's source
    # as cited (domain.outsourcing: labelled when unverified), looked up by its text.
    table = i18n.catalogue(locale)
    rules = [p.outsourcing for p in contact_packs().values() if p.outsourcing is not None]
    assert rules
    assert [r.cited for r in rules if not table.get(r.cited)] == []


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en"])
def test_the_portals_actors_have_names(locale: str) -> None:
    table = i18n.catalogue(locale)
    assert sorted(a for a in PORTAL_ACTORS if not table.get(a)) == []
