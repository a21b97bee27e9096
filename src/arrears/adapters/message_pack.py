"""Read the shipped message texts (packs/messages_<j>.toml) and a settings file's
`[[messages]]`, each checked against its jurisdiction's content rules as it loads."""

from collections.abc import Mapping
from typing import Any

from arrears.adapters.packs import JURISDICTIONS, RulePackError, read_pack
from arrears.domain.content_lint import ContentPack
from arrears.domain.errors import DomainError
from arrears.domain.messages import KnownMessage, MessageTemplate, faults

_KEYS = frozenset({"template", "channel", "subject", "body"})
# A settings file's entry names the jurisdiction whose content rules it is read under.
_OWN_KEYS = _KEYS | {"jurisdiction"}


def shipped_messages(content: Mapping[str, ContentPack]) -> dict[str, KnownMessage]:
    """Every shipped jurisdiction's messages, keyed by template id."""
    known: dict[str, KnownMessage] = {}
    for jurisdiction in JURISDICTIONS:
        where = f"messages_{jurisdiction}.toml"
        entries = read_pack(where).get("message", [])
        for i, entry in enumerate(_tables(entries, where)):
            message = parse_message(entry, f"{where}: message[{i}]", _KEYS, jurisdiction, content)
            _add(known, message, f"{where}: message[{i}]")
    return known


def own_messages(
    entries: Any,
    where: str,
    shipped: Mapping[str, KnownMessage],
    content: Mapping[str, ContentPack],
) -> dict[str, KnownMessage]:
    """The shipped messages with a settings file's `[[messages]]` in place of those of the
    same template id, and any of its own added."""
    known = dict(shipped)
    mine: dict[str, KnownMessage] = {}
    for i, entry in enumerate(_tables(entries, where)):
        at = f"{where}: messages[{i}]"
        jurisdiction = entry.get("jurisdiction")
        if jurisdiction not in JURISDICTIONS:
            raise RulePackError(
                f"{at}: `jurisdiction` must be one of {', '.join(JURISDICTIONS)} (the content "
                f"rules it is read under), not {jurisdiction!r}"
            )
        _add(mine, parse_message(entry, at, _OWN_KEYS, jurisdiction, content), at)
    known.update(mine)
    return known


def parse_message(
    entry: Mapping[str, Any],
    where: str,
    keys: frozenset[str],
    jurisdiction: str,
    content: Mapping[str, ContentPack],
) -> KnownMessage:
    """One entry as a template, refused (naming `where`) when a key is unknown or missing,
    the template cannot be filled, or its jurisdiction's content rules find fault with it."""
    unknown = sorted(set(entry) - keys)
    if unknown:
        raise RulePackError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = {}
    for key in ("template", "channel", "body", "subject"):
        value = entry.get(key, "")
        if not isinstance(value, str) or (key != "subject" and not value.strip()):
            raise RulePackError(f"{where}: `{key}` must be a non-empty string")
        values[key] = value
    try:
        template = MessageTemplate(values["template"], values["channel"], values["body"],
                                   values["subject"])  # fmt: skip
    except DomainError as error:
        raise RulePackError(f"{where}: {error}") from None
    found = faults(template.texts, template.channel, [content[jurisdiction]])
    if found:
        raise RulePackError(
            f"{where}: template {template.template_id!r} breaks the {jurisdiction} pack's "
            f"content rules: {'; '.join(found)}"
        )
    return KnownMessage(jurisdiction, template)


def _tables(entries: Any, where: str) -> list[Mapping[str, Any]]:
    """The entries as a list of tables, or RulePackError naming the file."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RulePackError(f"{where}: messages must be [[...]] tables")
    return entries


def _add(known: dict[str, KnownMessage], message: KnownMessage, where: str) -> None:
    """Add a message, refusing a second of one template id."""
    template_id = message.template.template_id
    if template_id in known:
        raise RulePackError(f"{where}: template {template_id!r} is given twice")
    known[template_id] = message
