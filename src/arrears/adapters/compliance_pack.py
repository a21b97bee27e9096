"""Read a jurisdiction's contact rules (`[[contact.rule]]` in packs/<j>.toml) into a RulePack,
with its limitation period, its deadlines and its outsourcing rule."""

from collections.abc import Callable, Mapping
from datetime import time
from functools import cache
from types import MappingProxyType
from typing import Any, TypeVar

from arrears.adapters.packs import JURISDICTIONS, RulePackError, read_pack
from arrears.domain.bureau import CONTACTED_FIRST, PRE_NOTICE, ReportingRule
from arrears.domain.bureau_disputes import DisputeRule
from arrears.domain.contact import ALL_OUTCOMES
from arrears.domain.contact_rules import zone
from arrears.domain.errors import DomainError
from arrears.domain.legal_deadlines import DeadlineRule
from arrears.domain.limitation import Limitation, LimitationPeriod
from arrears.domain.outsourcing import OutsourcingRule
from arrears.domain.replies import ReplyRule
from arrears.domain.rule_pack import RULE_KINDS, ContactRule, RulePack

# Keys every rule may have; the rest depend on its kind (domain.contact_rules.RULE_KINDS).
_COMMON = frozenset({"id", "kind", "source", "verified", "channels", "count_channels"})
_WORDS = frozenset({"channels", "count_channels", "outcomes", "last_outcomes", "hold_kinds"})
_COUNTS = frozenset({"limit", "days"})
_TIMES = frozenset({"quiet_from", "quiet_until"})
# What a jurisdiction's pack file holds: these contact rules, its limitation period, its
# deadlines and its outsourcing rule, its caps and allocation (packs.py) and its content rules
# (content_pack.py). A misspelt section must not leave the rules out without a word.
_SECTIONS = frozenset({
    "pack", "contact", "caps", "allocation", "limitation", "limitation_period", "deadlines",
    "content", "outsourcing", "bureau", "bureau_disputes", "replies",
})  # fmt: skip
_LIMITATION_KEYS = frozenset({"id", "years", "actions", "source", "verified"})
_BUREAU_KEYS = {
    PRE_NOTICE: frozenset({"id", "kind", "action", "source", "verified"}),
    CONTACTED_FIRST: frozenset({"id", "kind", "outcomes", "letter_days", "source", "verified"}),
}
_Counted = TypeVar("_Counted", LimitationPeriod, DeadlineRule, OutsourcingRule, DisputeRule)
_DEADLINES = frozenset({"enforcement"})  # [deadlines.enforcement]: the one a judgment starts
# [pack] zones: which zones the time of day must suit for the borrower: the recorded zone,
# else every zone of the number dialled (the default); or the recorded zone and every zone of
# the number (when the two conflict, both).
_ZONE_POLICIES = ("recorded_else_number", "recorded_and_number")
_CONTACT_ZONE_POLICIES = ("contact", "contact_and_debtor")
_PACK_KEYS = frozenset({"jurisdiction", "name", "locale", "timezone", "day_count", "zones",
                        "contact_zones"})  # fmt: skip
_REPLIES_KEYS = frozenset({"id", "opt_out", "anywhere", "honour_within_business_days", "source",
                           "verified"})  # fmt: skip


def contact_packs() -> dict[str, RulePack]:
    """The contact rules of every shipped jurisdiction, keyed by jurisdiction (a dict of its
    own for each caller; the packs themselves are frozen)."""
    return dict(_shipped_packs())


@cache
def _shipped_packs() -> Mapping[str, RulePack]:
    """The shipped packs, parsed once a process, read-only: they are package data, and parsing
    them takes 7 ms, which each night's context, each desk request reading a loan's history
    and each Parquet or Spark engine paid again."""
    packs = {j: parse_contact_pack(read_pack(f"{j}.toml"), f"{j}.toml") for j in JURISDICTIONS}
    for jurisdiction, pack in packs.items():
        if pack.jurisdiction != jurisdiction:  # its rules would judge another country's loans
            raise RulePackError(
                f"{jurisdiction}.toml: pack.jurisdiction {pack.jurisdiction!r} is not the file's "
                f"{jurisdiction!r}"
            )
    return MappingProxyType(packs)


def parse_contact_pack(data: Mapping[str, Any], where: str) -> RulePack:
    """Build a RulePack from a parsed pack file, naming the file and key of any problem."""
    pack = data.get("pack")
    if not isinstance(pack, dict) or not isinstance(pack.get("jurisdiction"), str):
        raise RulePackError(f"{where}: [pack] needs a `jurisdiction` string")
    unknown_keys = sorted(set(pack) - _PACK_KEYS)
    if unknown_keys:
        # A misspelt `zones` would drop the stricter policy without a word (helper-60).
        raise RulePackError(
            f"{where}: unknown key(s) {unknown_keys} in [pack]; known: {sorted(_PACK_KEYS)}"
        )
    default_zone = pack.get("timezone")
    if not isinstance(default_zone, str):
        raise RulePackError(f"{where}: [pack] needs a `timezone` (IANA name)")
    try:
        zone(default_zone)
    except DomainError as error:
        raise RulePackError(f"{where}: pack.timezone: {error}") from None
    zones_from = pack.get("zones", _ZONE_POLICIES[0])
    if zones_from not in _ZONE_POLICIES:
        raise RulePackError(
            f"{where}: pack.zones must be one of {list(_ZONE_POLICIES)}, got {zones_from!r}"
        )
    contact_zones = pack.get("contact_zones", _CONTACT_ZONE_POLICIES[0])
    if contact_zones not in _CONTACT_ZONE_POLICIES:
        raise RulePackError(
            f"{where}: pack.contact_zones must be one of {list(_CONTACT_ZONE_POLICIES)}, "
            f"got {contact_zones!r}"
        )
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise RulePackError(f"{where}: unknown section(s) {unknown}; known: {sorted(_SECTIONS)}")
    contact = data.get("contact", {})
    if not isinstance(contact, dict) or set(contact) - {"rule"}:
        raise RulePackError(f"{where}: [contact] may only hold [[contact.rule]] entries")
    entries = contact.get("rule", [])
    if not isinstance(entries, list):
        raise RulePackError(f"{where}: contact.rule must be an array of tables ([[contact.rule]])")
    if not entries:
        # No rule would allow every contact at every hour: never what a pack means.
        raise RulePackError(f"{where}: no [[contact.rule]]: a pack must say what is lawful")
    rules = tuple(
        parse_rule(entry, f"{where}: contact.rule[{i}]") for i, entry in enumerate(entries)
    )
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise RulePackError(f"{where}: rule id {rule.rule_id!r} appears twice")
        seen.add(rule.rule_id)
    limitation = (
        parse_limitation(data["limitation"], f"{where}: [limitation]")
        if "limitation" in data
        else None
    )
    return RulePack(pack["jurisdiction"], default_zone, rules,
                    number_zones_too=zones_from == _ZONE_POLICIES[1],
                    debtor_zones_for_contacts=contact_zones == _CONTACT_ZONE_POLICIES[1],
                    limitation=limitation,
                    enforcement=parse_deadlines(data.get("deadlines", {}), where),
                    limitation_period=parse_period(data, where),
                    outsourcing=parse_outsourcing(data, where),
                    bureau=parse_bureau(data, where),
                    bureau_disputes=parse_disputes(data, where),
                    replies=parse_replies(data, where))  # fmt: skip


def parse_replies(data: Mapping[str, Any], where: str) -> ReplyRule | None:
    """`[replies]`: the words that ask for no more texts, sent alone (`opt_out`) or anywhere
    in a reply (`anywhere`, optional) (None: the pack names none)."""
    if "replies" not in data:
        return None
    at = f"{where}: [replies]"
    table = _known_table(data["replies"], at, _REPLIES_KEYS)
    lists = {}
    for key in ("opt_out", "anywhere"):
        words = _typed(table, key, list, at) if key in table or key == "opt_out" else []
        if not all(isinstance(word, str) for word in words):
            raise RulePackError(f"{at}: {key} must be a list of strings, got {words!r}")
        lists[key] = tuple(words)
    source = _typed(table, "source", str, at)
    if not source.strip():
        raise RulePackError(f"{at}.source: every rule cites its legal source")
    pack = data.get("pack", {})
    days = table.get("honour_within_business_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        raise RulePackError(f"{at}.honour_within_business_days must be int, got {days!r}")
    try:
        return ReplyRule(_typed(table, "id", str, at), lists["opt_out"], source,
                         _typed(table, "verified", bool, at), pack.get("jurisdiction", ""),
                         lists["anywhere"], days, pack.get("timezone", "UTC"))  # fmt: skip
    except DomainError as error:
        raise RulePackError(f"{at}: {error}") from None


def parse_disputes(data: Mapping[str, Any], where: str) -> DisputeRule | None:
    """`[bureau_disputes]`: the days a dispute of a furnished record is answered in (None:
    the pack sets none)."""
    if "bureau_disputes" not in data:
        return None
    return _counted_rule(DisputeRule, data["bureau_disputes"], f"{where}: [bureau_disputes]",
                         "days")  # fmt: skip


def parse_bureau(data: Mapping[str, Any], where: str) -> ReportingRule | None:
    """`[bureau]`: what a credit-bureau record waits on before it is furnished (None: the
    pack sets nothing)."""
    if "bureau" not in data:
        return None
    at = f"{where}: [bureau]"
    entry = data["bureau"]
    kind = entry.get("kind") if isinstance(entry, dict) else None
    if kind not in _BUREAU_KEYS:
        raise RulePackError(f"{at}: kind must be one of {sorted(_BUREAU_KEYS)}, got {kind!r}")
    table = _known_table(entry, at, _BUREAU_KEYS[kind])
    try:
        if kind == PRE_NOTICE:
            return ReportingRule(
                _typed(table, "id", str, at), kind, _typed(table, "source", str, at),
                _typed(table, "verified", bool, at), action=_typed(table, "action", str, at),
            )  # fmt: skip
        outcomes = _typed(table, "outcomes", list, at)
        if not all(isinstance(o, str) and o in ALL_OUTCOMES for o in outcomes):
            raise RulePackError(f"{at}: outcomes must be some of {list(ALL_OUTCOMES)}")
        return ReportingRule(
            _typed(table, "id", str, at), kind, _typed(table, "source", str, at),
            _typed(table, "verified", bool, at), outcomes=tuple(outcomes),
            letter_days=_typed(table, "letter_days", int, at),
        )  # fmt: skip
    except DomainError as error:
        raise RulePackError(f"{at}: {error}") from None


def parse_outsourcing(data: Mapping[str, Any], where: str) -> OutsourcingRule | None:
    """`[outsourcing]`: the white list and the interval its agencies are evaluated in before a
    case is placed with one (None: the pack has no such rule, lender policy)."""
    if "outsourcing" not in data:
        return None
    # A misspelt `evaluation_months` must not leave the interval out without a word.
    return _counted_rule(OutsourcingRule, data["outsourcing"], f"{where}: [outsourcing]",
                         "evaluation_months")  # fmt: skip


def parse_period(data: Mapping[str, Any], where: str) -> LimitationPeriod | None:
    """`[limitation_period]`: a limitation period shown as information, refusing nothing
    (None: the pack has none)."""
    if "limitation_period" not in data:
        return None
    return _counted_rule(LimitationPeriod, data["limitation_period"],
                         f"{where}: [limitation_period]", "years")  # fmt: skip


def parse_deadlines(entry: Any, where: str) -> DeadlineRule | None:
    """`[deadlines.enforcement]`: the deadline a judgment starts (None: the pack sets none)."""
    if not isinstance(entry, dict):
        raise RulePackError(f"{where}: [deadlines] must be a table")
    unknown = sorted(set(entry) - _DEADLINES)
    if unknown:
        raise RulePackError(
            f"{where}: unknown deadline(s) {unknown} in [deadlines]; known: {sorted(_DEADLINES)}"
        )
    if "enforcement" not in entry:
        return None
    return _counted_rule(DeadlineRule, entry["enforcement"], f"{where}: [deadlines.enforcement]",
                         "years")  # fmt: skip


def _counted_rule(kind: Callable[..., _Counted], table: Any, at: str, count: str) -> _Counted:
    """A table of id, `count` (a whole number: years, months, days), source and verified, and
    no other key, as a rule of `kind`; `at` names it in errors."""
    table = _known_table(table, at, frozenset({"id", count, "source", "verified"}))
    try:
        return kind(
            rule_id=_typed(table, "id", str, at),
            source=_typed(table, "source", str, at),
            verified=_typed(table, "verified", bool, at),
            **{count: _typed(table, count, int, at)},
        )
    except DomainError as error:
        raise RulePackError(f"{at}: {error}") from None


def _known_table(table: Any, at: str, keys: frozenset[str]) -> dict[str, Any]:
    """`table` if it is a table of known keys only (`at` names it in errors)."""
    if not isinstance(table, dict):
        raise RulePackError(f"{at} must be a table")
    extra = sorted(set(table) - keys)
    if extra:
        raise RulePackError(f"{at}: unknown key(s) {extra}; known: {sorted(keys)}")
    return table


def parse_limitation(entry: Any, where: str) -> Limitation:
    """The `[limitation]` table as a Limitation; `where` names it in errors."""
    if not isinstance(entry, dict):
        raise RulePackError(f"{where} must be a table")
    unknown = sorted(set(entry) - _LIMITATION_KEYS)
    if unknown:
        raise RulePackError(f"{where}: unknown key(s) {unknown}; known: {sorted(_LIMITATION_KEYS)}")
    actions = _typed(entry, "actions", list, where)
    if not all(isinstance(action, str) for action in actions):
        raise RulePackError(f"{where}.actions must be a list of strings, got {actions!r}")
    try:
        return Limitation(
            rule_id=_typed(entry, "id", str, where),
            years=_typed(entry, "years", int, where),
            actions=frozenset(actions),
            source=_typed(entry, "source", str, where),
            verified=_typed(entry, "verified", bool, where),
        )
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None


def parse_rule(entry: Any, where: str) -> ContactRule:
    """One `[[contact.rule]]` table as a ContactRule; `where` names it in errors."""
    if not isinstance(entry, dict):
        raise RulePackError(f"{where} must be a table")
    rule_id = _typed(entry, "id", str, where)
    if not rule_id.strip():
        raise RulePackError(f"{where}.id is empty: every decision names its rule")
    where = f"{where} ({rule_id})"
    kind = _typed(entry, "kind", str, where)
    if kind not in RULE_KINDS:
        raise RulePackError(f"{where}.kind: unknown kind {kind!r}; known: {sorted(RULE_KINDS)}")
    unknown = sorted(set(entry) - _COMMON - RULE_KINDS[kind])
    if unknown:
        allowed = sorted(_COMMON | RULE_KINDS[kind])
        raise RulePackError(
            f"{where}: unknown key(s) {unknown} for a {kind} rule; known: {allowed}"
        )
    missing = sorted((RULE_KINDS[kind] | {"source", "verified"}) - set(entry))
    if missing:
        raise RulePackError(f"{where}: a {kind} rule needs {missing}")
    params = {name: _parameter(entry, name, where) for name in set(entry) - {"id", "kind"}}
    if not params.get("source", "").strip():
        raise RulePackError(f"{where}.source: every rule cites its legal source")
    try:
        return ContactRule(rule_id=rule_id, kind=kind, **params)
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None


def _parameter(entry: Mapping[str, Any], name: str, where: str) -> Any:
    """A rule parameter, checked and converted to the type ContactRule holds."""
    if name in _WORDS:
        value = _typed(entry, name, list, where)
        if not all(isinstance(item, str) for item in value):
            raise RulePackError(f"{where}.{name} must be a list of strings, got {value!r}")
        if not value:
            # An empty list makes the rule govern or count nothing: it would be off unseen.
            raise RulePackError(f"{where}.{name} is empty (leave it out for its default)")
        return frozenset(value)
    if name in _COUNTS:
        return _typed(entry, name, int, where)
    if name in _TIMES:
        return _clock(entry[name], f"{where}.{name}")
    if name == "verified":
        return _typed(entry, name, bool, where)
    return _typed(entry, name, str, where)  # source


def _typed(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    """entry[key] when present and of type `kind` (a bool is not an int here)."""
    if key not in entry:
        raise RulePackError(f"{where}: missing key `{key}`")
    value = entry[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RulePackError(f"{where}.{key} must be {kind.__name__}, got {value!r}")
    return value


def _clock(value: Any, where: str) -> time:
    """A wall-clock time written "HH:MM" (or a TOML local time)."""
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(value)
        return time(int(hours), int(minutes))
    except ValueError:
        raise RulePackError(f'{where} must be a time "HH:MM", got {value!r}') from None
