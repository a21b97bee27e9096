"""Read a jurisdiction's content rules (`[[content.rule]]` in packs/<j>.toml) and the
statements its drafts must make (`[[content.required]]`) into a ContentPack, and a settings
file's `[content]`: more phrases for the rules, rules and required statements of the lender's
own, never a phrase fewer, an exception more or another way of making a shipped statement (a
lender may only be stricter)."""

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from arrears.adapters.packs import JURISDICTIONS, RulePackError, read_pack
from arrears.domain.content_lint import ContentPack, ContentRule, RequiredContent
from arrears.domain.errors import DomainError

_RULE_KEYS = frozenset({"id", "source", "verified", "phrases", "exceptions"})
# A settings file's [[content.rule]] names the pack it joins.
_OWN_RULE_KEYS = _RULE_KEYS | {"jurisdiction"}
_REQUIRED_KEYS = frozenset({"id", "source", "verified", "channels", "phrases"})
_OWN_REQUIRED_KEYS = _REQUIRED_KEYS | {"jurisdiction"}
_SETTINGS_KEYS = frozenset({"phrases", "rule", "required"})


def shipped_content_packs() -> dict[str, ContentPack]:
    """The content rules of every shipped jurisdiction, keyed by jurisdiction."""
    return {j: parse_content_pack(read_pack(f"{j}.toml"), f"{j}.toml") for j in JURISDICTIONS}


def parse_content_pack(data: Mapping[str, Any], where: str) -> ContentPack:
    """A pack file's content rules, naming the file and key of any problem."""
    pack = data.get("pack")
    if not isinstance(pack, dict) or not isinstance(pack.get("jurisdiction"), str):
        raise RulePackError(f"{where}: [pack] needs a `jurisdiction` string")
    content = data.get("content", {})
    if not isinstance(content, dict) or set(content) - {"rule", "required"}:
        raise RulePackError(
            f"{where}: [content] may only hold [[content.rule]] and [[content.required]] entries"
        )
    entries = content.get("rule", [])
    if not isinstance(entries, list) or not entries:
        # No rule would let every text through unread: never what a pack means.
        raise RulePackError(
            f"{where}: no [[content.rule]]: a pack says what collectors must not write"
        )
    rules = tuple(
        parse_content_rule(entry, f"{where}: content.rule[{i}]", _RULE_KEYS)
        for i, entry in enumerate(entries)
    )
    required = content.get("required", [])
    if not isinstance(required, list):
        raise RulePackError(f"{where}: content.required must be [[content.required]] tables")
    statements = tuple(
        parse_required(entry, f"{where}: content.required[{i}]", _REQUIRED_KEYS)
        for i, entry in enumerate(required)
    )
    contact = data.get("contact", {})
    contact_ids = {
        rule.get("id") for rule in contact.get("rule", []) if isinstance(rule, dict)
    } if isinstance(contact, dict) else set()  # fmt: skip
    for rule_id in [r.rule_id for r in rules] + [r.rule_id for r in statements]:
        if rule_id in contact_ids:  # a count by rule would add two rules up
            raise RulePackError(f"{where}: rule id {rule_id!r} is a contact rule's too")
    try:
        return ContentPack(pack["jurisdiction"], rules, statements)
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None


def parse_content_rule(entry: Any, where: str, known: frozenset[str]) -> ContentRule:
    """One `[[content.rule]]` table as a ContentRule; `where` names it in errors."""
    rule_id, source, verified, where = _common(entry, where, known)
    try:
        return ContentRule(
            rule_id,
            source,
            verified,
            texts(entry, "phrases", where, required=True),
            texts(entry, "exceptions", where, required=False),
        )
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None


def parse_required(entry: Any, where: str, known: frozenset[str]) -> RequiredContent:
    """One `[[content.required]]` table as a RequiredContent; `where` names it in errors."""
    rule_id, source, verified, where = _common(entry, where, known)
    try:
        return RequiredContent(
            rule_id,
            source,
            verified,
            texts(entry, "channels", where, required=True),
            texts(entry, "phrases", where, required=True),
        )
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None


def _common(entry: Any, where: str, known: frozenset[str]) -> tuple[str, str, bool, str]:
    """A content table's id, source and `verified`, and `where` with its id, each checked
    (the table a table, no key but `known`)."""
    if not isinstance(entry, dict):
        raise RulePackError(f"{where} must be a table")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise RulePackError(f"{where}.id must be a text that is not blank: findings name it")
    where = f"{where} ({rule_id})"
    unknown = sorted(set(entry) - known)
    if unknown:
        raise RulePackError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise RulePackError(f"{where}.source: every rule cites its legal source")
    verified = entry.get("verified")
    if not isinstance(verified, bool):
        raise RulePackError(f"{where}.verified must be true or false, got {verified!r}")
    return rule_id, source, verified, where


def texts(entry: Mapping[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    """A list of texts, refused naming the key when it is not one (or is empty, when the key
    is given: an empty list looks for nothing, unseen)."""
    if key not in entry:
        if required:
            raise RulePackError(f"{where}: missing key `{key}`")
        return ()
    value = entry[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise RulePackError(f"{where}.{key} must be a list of texts, not empty; got {value!r}")
    return tuple(value)


def stricter_packs(
    packs: Mapping[str, ContentPack], content: Any, where: str
) -> dict[str, ContentPack]:
    """The packs with a settings file's `[content]`: `[content.phrases]` gives more phrases
    for shipped rules (a rule id → its phrases), `[[content.rule]]` rules and
    `[[content.required]]` required statements of the lender's own (with their
    `jurisdiction`). Nothing else: no phrase or exception is taken away, and a shipped
    statement gets no other way of being made."""
    if not isinstance(content, dict):
        raise RulePackError(f"{where}: [content] must be a table")
    unknown = sorted(set(content) - _SETTINGS_KEYS)
    if unknown:
        raise RulePackError(
            f"{where}: unknown key(s) {unknown} in [content]; known: {sorted(_SETTINGS_KEYS)} "
            f"(a lender adds phrases and rules, never removes a shipped one)"
        )
    more = content.get("phrases", {})
    if not isinstance(more, dict):
        raise RulePackError(f'{where}: [content.phrases] must be a table: "RULE ID" = [...]')
    owner = {rule.rule_id: j for j, pack in packs.items() for rule in pack.rules}
    statements = {r.rule_id for pack in packs.values() for r in pack.required}
    added: dict[str, dict[str, tuple[str, ...]]] = {}
    for rule_id in more:
        if rule_id in statements:  # another phrase would make the statement easier to pass
            raise RulePackError(
                f"{where}: content.phrases: {rule_id!r} is a required statement: a phrase more "
                f"would let more drafts pass; a statement of your own is a [[content.required]]"
            )
        if rule_id not in owner:
            raise RulePackError(
                f"{where}: content.phrases: no shipped content rule {rule_id!r} (the packs' "
                f"rules: {', '.join(sorted(owner))}); a rule of your own is a [[content.rule]]"
            )
        phrases = texts(more, rule_id, f"{where}: content.phrases", required=True)
        added.setdefault(owner[rule_id], {})[rule_id] = phrases
    own: dict[str, list[ContentRule]] = {}
    entries = content.get("rule", [])
    if not isinstance(entries, list):
        raise RulePackError(f"{where}: content.rule must be [[content.rule]] tables")
    for i, entry in enumerate(entries):
        at = f"{where}: content.rule[{i}]"
        rule = parse_content_rule(entry, at, _OWN_RULE_KEYS)
        jurisdiction = entry.get("jurisdiction")
        if jurisdiction not in packs:
            raise RulePackError(
                f"{at}.jurisdiction must be one of {sorted(packs)}, got {jurisdiction!r}"
            )
        if rule.rule_id in owner:
            raise RulePackError(
                f"{at}: {rule.rule_id!r} is a shipped rule: add phrases to it in [content.phrases]"
            )
        own.setdefault(jurisdiction, []).append(rule)
    demanded = _own_required(packs, content, where, set(owner) | statements)
    _refuse_taken_ids(own, demanded, set(owner) | statements | _contact_rule_ids(), where)
    try:
        return {
            j: pack.stricter(added.get(j, {}), own.get(j, ()), demanded.get(j, ()))
            for j, pack in packs.items()
        }
    except DomainError as error:
        raise RulePackError(f"{where}: content: {error}") from None


def _own_required(
    packs: Mapping[str, ContentPack], content: Mapping[str, Any], where: str, shipped: set[str]
) -> dict[str, list[RequiredContent]]:
    """A settings file's `[[content.required]]` statements by jurisdiction; an id of a shipped
    rule or statement is refused."""
    entries = content.get("required", [])
    if not isinstance(entries, list):
        raise RulePackError(f"{where}: content.required must be [[content.required]] tables")
    found: dict[str, list[RequiredContent]] = {}
    for i, entry in enumerate(entries):
        at = f"{where}: content.required[{i}]"
        statement = parse_required(entry, at, _OWN_REQUIRED_KEYS)
        jurisdiction = entry.get("jurisdiction")
        if jurisdiction not in packs:
            raise RulePackError(
                f"{at}.jurisdiction must be one of {sorted(packs)}, got {jurisdiction!r}"
            )
        if statement.rule_id in shipped:
            raise RulePackError(f"{at}: {statement.rule_id!r} is a shipped rule's id")
        found.setdefault(jurisdiction, []).append(statement)
    return found


@cache
def _contact_rule_ids() -> frozenset[str]:
    """The ids of the shipped packs' contact rules (package data: read once a process)."""
    found: set[str] = set()
    for jurisdiction in JURISDICTIONS:
        contact = read_pack(f"{jurisdiction}.toml").get("contact", {})
        found |= {
            str(r["id"]) for r in contact.get("rule", []) if isinstance(r, dict) and "id" in r
        }
    return frozenset(found)


def _refuse_taken_ids(
    own: Mapping[str, Sequence[ContentRule]],
    demanded: Mapping[str, Sequence[RequiredContent]],
    shipped: set[str],
    where: str,
) -> None:
    """Refuse a lender's rule or statement whose id a shipped rule (a content or contact rule,
    a statement, of any pack) or another of the lender's has: counts and findings are by id,
    so one id would add two rules up."""
    seen: set[str] = set()
    for rule_id in [r.rule_id for rules in own.values() for r in rules] + [
        r.rule_id for rules in demanded.values() for r in rules
    ]:
        if rule_id in shipped:
            raise RulePackError(f"{where}: content: {rule_id!r} is a shipped rule's id")
        if rule_id in seen:
            raise RulePackError(f"{where}: content: {rule_id!r} is given twice")
        seen.add(rule_id)
