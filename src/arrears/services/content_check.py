"""Use cases of the content lint: what staff write on a case (a contact's note, a case note, a
visit report, a hold's note, a visit's reason, an approver's note, a flag's reason) is read
under the packs of the loans it is about and kept with its findings, never refused for them
(it records what happened); a draft is checked under a pack before it is used (`arrears
contact lint`, POST /api/v1/content/lint), for the statements its channel needs too when it
names one."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from arrears.domain.contact import CHANNELS
from arrears.domain.content_lint import (
    ContentPack,
    Finding,
    LintedText,
    RequiredContent,
    lint,
    missing,
)
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.invisible import is_blank

NOTE_MAX = 2_000  # characters of a note (a case note, a contact's, a visit report's, …)


class UnknownPackOrChannel(DomainError):
    """No content pack of that name, or no channel of that name for a draft."""


@dataclass(frozen=True)
class DraftCheck:
    """What a pack's content lint says of a draft: the phrases it finds, and the statements
    a draft for its channel must make that it does not (none when no channel is named)."""

    findings: tuple[Finding, ...]
    missing: tuple[RequiredContent, ...] = ()

    @property
    def clean(self) -> bool:
        """Nothing found and nothing missing: the draft may be used as it is."""
        return not self.findings and not self.missing


def packs_of(
    packs: Mapping[str, ContentPack], jurisdictions: Mapping[str, str], products: Iterable[str]
) -> list[ContentPack]:
    """The content packs of the products' jurisdictions, each once (a borrower with loans in
    two jurisdictions writes under both); a product of no known jurisdiction adds none."""
    found = sorted({jurisdictions[p] for p in products if p in jurisdictions})
    return [packs[j] for j in found if j in packs]


def written(text: str, packs: Iterable[ContentPack]) -> LintedText | None:
    """A note as it will be kept (its ends' spaces trimmed), with its findings; None when
    nothing was written (nothing that shows). Too long a note is refused (before anything is
    stored)."""
    cleaned = text.strip()
    if is_blank(cleaned):
        return None
    if len(cleaned) > NOTE_MAX:
        raise Refusal(
            "a note is at most {most} characters, this one {length}",
            most=str(NOTE_MAX),
            length=str(len(cleaned)),
        )
    return LintedText(cleaned, lint(cleaned, packs))


def check_draft(
    packs: Mapping[str, ContentPack], pack: str, text: str, channel: str | None = None
) -> DraftCheck:
    """What the pack's content rules find in a draft (a template, a letter) before it is
    used, and, for a draft of `channel`, the statements the pack requires that it lacks."""
    if pack not in packs:
        raise UnknownPackOrChannel(
            f"no content pack {pack!r}; the packs are {', '.join(sorted(packs))}"
        )
    if channel is not None and channel not in CHANNELS:
        raise UnknownPackOrChannel(
            f"no channel {channel!r}; the channels are {', '.join(CHANNELS)}"
        )
    lacking = missing(text, packs[pack], channel) if channel is not None else ()
    return DraftCheck(lint(text, [packs[pack]]), lacking)


def draft_document(pack: str, channel: str | None, check: DraftCheck) -> dict[str, Any]:
    """A draft's check as JSON (`arrears contact lint --json`, POST /api/v1/content/lint):
    with its `channel` and what is `missing` when a channel was named (else as before they
    were: the pack, clean and the findings)."""
    document: dict[str, Any] = {
        "pack": pack,
        "clean": check.clean,
        "findings": [finding_document(f) for f in check.findings],
    }
    if channel is not None:
        document["channel"] = channel
        document["missing"] = [
            {"rule": r.rule_id, "source": r.cited, "phrases": list(r.phrases)}
            for r in check.missing
        ]
    return document


def finding_document(finding: Finding) -> dict[str, Any]:
    """A finding as JSON and as stored: the rule, its source, the pack's phrase, the words as
    written and where they are (character offsets, end excluded)."""
    return {
        "rule": finding.rule_id,
        "source": finding.source,
        "phrase": finding.phrase,
        "matched": finding.matched,
        "start": finding.start,
        "end": finding.end,
    }


def findings_document(note: LintedText | None) -> list[dict[str, Any]] | None:
    """A note's findings as stored beside it: None when nothing was written or found (a
    count of flagged texts reads the column's NULLs as clean)."""
    if note is None or not note.findings:
        return None
    return [finding_document(f) for f in note.findings]


def audit_findings(note: LintedText | None) -> dict[str, list[str]]:
    """What an audit entry says of a note's findings: the rules found (nothing without any)."""
    return {"findings": note.rules} if note is not None and note.findings else {}


def findings_list(note: LintedText | None) -> list[dict[str, Any]]:
    """A note's findings as an answer gives them: a list, empty when nothing was written or
    found."""
    return findings_document(note) or []
