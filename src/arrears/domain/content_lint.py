"""Content lint (话术质检, 敏感词): the phrases a jurisdiction's pack says collectors must not
use, found in a text however it is cased, spaced or written in full-width characters.

A pack may also require a statement in every draft for some channels (`[[content.required]]`,
one of its phrases written in it: the us pack's opt-out in each e-mail and text, 12 CFR
1006.6(e)). That is judged only of a draft said to be for a channel (`missing`), never of a
note, which records what happened rather than what is sent.

A finding flags a text, it never refuses one: a note records what happened and is kept with
its findings for the compliance officer to read (hiding it would hide evidence); a draft is
checked before it is used. The phrases are data in the packs (`[[content.rule]]`), each rule
citing the law it stands for (REGULATIONS.md, "Prohibited conduct and content").

Matching works on a folded copy of the text, each of whose characters knows where it came
from, so a finding gives the words as written and their place:

- NFKC (full-width ｐｏｌｉｃｅ and ＰＯＬＩＣＥ are police), case folded, accents dropped
  (pólice), curly quotes straightened (won’t), every hyphen and dash the ASCII one (opt—out);
- characters nobody sees (zero-width spaces and joiners, the soft hyphen) dropped;
- spaces and separators put between two Chinese characters dropped (坐 牢, 坐*牢, 坐·牢 are
  坐牢) but not a sentence's marks (请坐，牢记 is not 坐牢); other runs of spaces are one;
- a phrase that begins or ends with a letter or digit is found only as whole words there
  (police is not in policeman; 我是police is), Chinese having no spaces to bound words by;
- an `exception` of a rule is a longer phrase in which its phrase is not meant (借钱还钱, the
  saying "a debt is repaid", is not 借钱还 "borrow to repay"): a match inside one is none.
"""

import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from arrears.domain.citation import cited
from arrears.domain.contact import CHANNELS
from arrears.domain.errors import DomainError
from arrears.domain.invisible import is_invisible

# What is put between two Chinese characters to break a phrase up (besides spaces), dropped
# there. Not a sentence's marks (，。！？：；、 and their ASCII forms): 请坐，牢记 stays apart.
_SEPARATORS = frozenset("*·•・-_~|/\\.+=#")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"',
                         # hyphens and dashes of every width read as the ASCII hyphen-minus
                         **dict.fromkeys(map(chr, range(0x2010, 0x2016)), "-"),
                         "\u2212": "-", "\ufe58": "-", "\ufe63": "-"})  # fmt: skip
_DASHES = frozenset("\u2014\u2015\u2e3a\u2e3b")  # em dash, horizontal bar, two- and three-em
_HAN = (
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x3134F),  # Extensions B to G
)


def is_han(char: str) -> bool:
    """Whether a character is a Chinese character (汉字)."""
    point = ord(char)
    return any(low <= point <= high for low, high in _HAN)


def _wordy(char: str) -> bool:
    """A letter or digit of a script that spaces its words (a phrase's edge is bounded by it)."""
    return char.isalnum() and not is_han(char)


def _fold_char(char: str) -> str:
    """One character as matching reads it: NFKC, quotes straightened, case folded, accents
    dropped (possibly several characters, ß → ss; or none, a combining accent)."""
    text = unicodedata.normalize("NFKC", char).translate(_QUOTES).casefold()
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def _gap(char: str) -> bool:
    return char.isspace() or char in _SEPARATORS


@dataclass(frozen=True)
class Folded:
    """A text as matching reads it, and for each of its characters the index of the
    character of the original text it came from."""

    text: str
    origin: tuple[int, ...]


def _sentence_mark(text: str, index: int) -> bool:
    """Whether the character at `index` is a sentence's mark that folds to separators: an
    ellipsis (…, 省略号, NFKC's "...") or a dash of two or more (——, 破折号). 请坐……牢记还款日
    is not 坐牢 (helper-125: it was); a lone dash still breaks a phrase up (坐—牢)."""
    char = text[index]
    if char in "…‥":
        return True
    near = text[index - 1 : index] + text[index + 1 : index + 2]
    return char in _DASHES and any(c in _DASHES for c in near)


def fold(text: str) -> Folded:
    """The folded text (the module's rules) with where each of its characters came from."""
    pieces = [
        (out, index, _gap(out) and not _sentence_mark(text, index))
        for index, char in enumerate(text)
        if not is_invisible(char)  # dropped wherever they are: 坐\u200b牢 reads 坐牢
        for out in _fold_char(char)
    ]
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(pieces):
        char, at, apart = pieces[i]
        if not apart:
            chars.append(char)
            origin.append(at)
            i += 1
            continue
        end = i
        while end < len(pieces) and pieces[end][2]:
            end += 1
        if not (chars and is_han(chars[-1]) and end < len(pieces) and is_han(pieces[end][0])):
            for mark, where, _ in pieces[i:end]:
                if not mark.isspace():
                    chars.append(mark)
                    origin.append(where)
                elif not chars or chars[-1] != " ":
                    chars.append(" ")
                    origin.append(where)
        i = end
    return Folded("".join(chars), tuple(origin))


def folded_phrase(phrase: str) -> str:
    """A phrase as it is looked for (folded as texts are, without spaces at its ends)."""
    return fold(phrase).text.strip()


def _occurrences(text: str, phrase: str) -> Iterator[tuple[int, int]]:
    """Where a folded phrase is in a folded text, as whole words at a lettered edge."""
    start = text.find(phrase)
    while start != -1:
        end = start + len(phrase)
        open_start = not (_wordy(phrase[0]) and start > 0 and _wordy(text[start - 1]))
        open_end = not (_wordy(phrase[-1]) and end < len(text) and _wordy(text[end]))
        if open_start and open_end:
            yield start, end
        start = text.find(phrase, start + 1)


@dataclass(frozen=True)
class ContentRule:
    """One rule of a pack's content lint: the phrases it looks for, the longer phrases in
    which they are not meant (`exceptions`), and the law it stands for."""

    rule_id: str
    source: str
    verified: bool
    phrases: tuple[str, ...]
    exceptions: tuple[str, ...] = ()
    _folded: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _excused: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse a rule without id, source or phrases, a phrase that folds to nothing or is
        given twice, and an exception that could never excuse (or would excuse every) match."""
        if not self.rule_id.strip():
            raise DomainError("a content rule needs an id: every finding names its rule")
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")
        if not self.phrases:
            raise DomainError(f"{self.rule_id}: a content rule needs phrases to look for")
        folded = _folded_all(self.rule_id, "phrase", self.phrases)
        excused = _folded_all(self.rule_id, "exception", self.exceptions)
        for exception, written in zip(excused, self.exceptions, strict=True):
            if exception in folded:
                raise DomainError(
                    f"{self.rule_id}: {written!r} is both a phrase and an exception: it would "
                    f"never be found"
                )
            if not any(True for p in folded for _ in _occurrences(exception, p)):
                raise DomainError(
                    f"{self.rule_id}: the exception {written!r} holds none of the rule's "
                    f"phrases, so it excuses nothing"
                )
        object.__setattr__(self, "_folded", folded)
        object.__setattr__(self, "_excused", excused)

    @property
    def cited(self) -> str:
        """The source as a finding cites it ("(unverified)" when the pack says so)."""
        return cited(self.source, self.verified)

    def with_phrases(self, more: Sequence[str]) -> "ContentRule":
        """The rule with more phrases (stricter); a phrase it has already is refused."""
        have = set(self._folded)
        again = [p for p in more if folded_phrase(p) in have]
        if again:
            raise DomainError(f"{self.rule_id}: already looks for {again}")
        return replace(self, phrases=(*self.phrases, *more))

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """Where the rule's phrases are in a folded text (start, end, the phrase as the pack
        writes it), none inside an exception, none inside another of its matches."""
        excused = [span for e in self._excused for span in _occurrences(text, e)]
        found = [
            (start, end, written)
            for phrase, written in zip(self._folded, self.phrases, strict=True)
            for start, end in _occurrences(text, phrase)
            if not any(a <= start and end <= b for a, b in excused)
        ]
        found.sort(key=lambda m: (m[0], -m[1]))
        kept: list[tuple[int, int, str]] = []
        for match in found:
            if not any(k[0] <= match[0] and match[1] <= k[1] for k in kept):
                kept.append(match)
        return kept


def _folded_all(rule_id: str, what: str, written: Sequence[str]) -> tuple[str, ...]:
    """Each phrase folded; refused when one folds to nothing or two fold alike."""
    folded: list[str] = []
    for phrase in written:
        looked = folded_phrase(phrase)
        if not looked:
            raise DomainError(f"{rule_id}: the {what} {phrase!r} has nothing to look for")
        if looked in folded:
            raise DomainError(f"{rule_id}: the {what} {phrase!r} is given twice")
        folded.append(looked)
    return tuple(folded)


@dataclass(frozen=True)
class RequiredContent:
    """A statement every draft for `channels` must make, in one of `phrases` (as a content
    rule looks for them), and the law it stands for."""

    rule_id: str
    source: str
    verified: bool
    channels: tuple[str, ...]
    phrases: tuple[str, ...]
    _folded: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse a requirement without id, source, channels or phrases, a channel not known
        and a phrase that folds to nothing or is given twice."""
        if not self.rule_id.strip():
            raise DomainError("a required statement needs an id: what is missing names it")
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")
        unknown = sorted(set(self.channels) - set(CHANNELS))
        if not self.channels or unknown:
            raise DomainError(
                f"{self.rule_id}: channels must be some of {', '.join(CHANNELS)}"
                + (f", not {unknown}" if unknown else "")
            )
        if not self.phrases:
            raise DomainError(f"{self.rule_id}: a required statement needs its phrases")
        object.__setattr__(self, "_folded", _folded_all(self.rule_id, "phrase", self.phrases))

    @property
    def cited(self) -> str:
        """The source as a finding cites it ("(unverified)" when the pack says so)."""
        return cited(self.source, self.verified)

    def made_in(self, folded: str) -> bool:
        """Whether a folded text makes the statement (holds one of the phrases), its words
        quoted or not (reply "STOP" is reply STOP)."""
        bare = "".join(folded[i] for i in _quotes_out(folded))
        return any(True for text in (folded, bare) for phrase in self._folded
                   for _ in _occurrences(text, phrase))  # fmt: skip


@dataclass(frozen=True)
class ContentPack:
    """A jurisdiction's content rules, in the order they are reported, and the statements
    its drafts must make."""

    jurisdiction: str
    rules: tuple[ContentRule, ...]
    required: tuple[RequiredContent, ...] = ()

    def __post_init__(self) -> None:
        ids = [r.rule_id for r in self.rules] + [r.rule_id for r in self.required]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise DomainError(
                f"content rule id(s) {twice} appear twice in the {self.jurisdiction} pack"
            )

    def rule(self, rule_id: str) -> ContentRule | None:
        """The rule of that id, if the pack has it."""
        return next((r for r in self.rules if r.rule_id == rule_id), None)

    def stricter(
        self,
        phrases: Mapping[str, Sequence[str]],
        rules: Sequence[ContentRule] = (),
        required: Sequence[RequiredContent] = (),
    ) -> "ContentPack":
        """The pack with a lender's additions: more phrases for its rules (keyed by rule id;
        never fewer, never an exception more), rules and required statements of the lender's
        own (never another way of making a shipped one: that would let more drafts pass)."""
        unknown = sorted(set(phrases) - {r.rule_id for r in self.rules})
        if unknown:
            raise DomainError(f"the {self.jurisdiction} pack has no content rule {unknown}")
        grown = tuple(
            r.with_phrases(phrases[r.rule_id]) if r.rule_id in phrases else r for r in self.rules
        )
        return ContentPack(self.jurisdiction, grown + tuple(rules), self.required + tuple(required))


@dataclass(frozen=True)
class Finding:
    """A phrase of a rule found in a text: the rule, the law it cites, the pack's phrase, the
    words as written in the text and their place (character offsets, end excluded)."""

    rule_id: str
    source: str
    phrase: str
    matched: str
    start: int
    end: int


def lint(text: str, packs: Iterable[ContentPack]) -> tuple[Finding, ...]:
    """Every phrase of every pack's rules found in the text, quoted or not, in the order
    they occur."""
    folded_text = fold(text)
    readings = (folded_text, _unquoted(folded_text))
    found: set[Finding] = set()
    for pack in packs:
        for rule in pack.rules:
            for folded in readings:
                for start, end, phrase in rule.matches(folded.text):
                    first, last = folded.origin[start], folded.origin[end - 1] + 1
                    while last < len(text) and unicodedata.combining(text[last]):
                        last += 1  # an accent written apart belongs to its letter
                    found.add(
                        Finding(rule.rule_id, rule.cited, phrase, text[first:last], first, last)
                    )
    return tuple(sorted(found, key=lambda f: (f.start, f.end, f.rule_id, f.phrase)))


def _unquoted(folded: Folded) -> Folded:
    """A folded text without its quotes, each character still knowing where it came from: a
    phrase is found quoted as a required statement is (do not reply "STOP" denies the
    opt-out as do not reply STOP does; helper-125: it passed as clean)."""
    kept = _quotes_out(folded.text)
    return Folded("".join(folded.text[i] for i in kept), tuple(folded.origin[i] for i in kept))


def _quotes_out(text: str) -> list[int]:
    """The places of a folded text's characters but its quotes: every double quote, and a
    single one unless it is an apostrophe within a word (don't, I'm: the phrases keep theirs;
    helper-126: a quoted "don't reply 'STOP'" passed as clean)."""

    def apostrophe(i: int) -> bool:
        return 0 < i < len(text) - 1 and _wordy(text[i - 1]) and _wordy(text[i + 1])

    return [i for i, char in enumerate(text)
            if char != '"' and (char != "'" or apostrophe(i))]  # fmt: skip


def missing(text: str, pack: ContentPack, channel: str) -> tuple[RequiredContent, ...]:
    """The statements the pack requires of a draft for `channel` that the text does not make."""
    folded = fold(text).text
    return tuple(r for r in pack.required if channel in r.channels and not r.made_in(folded))


def rules_found(findings: Iterable[Finding]) -> list[str]:
    """The ids of the rules that found something, each once, sorted (what an audit entry and
    a count record)."""
    return sorted({f.rule_id for f in findings})


@dataclass(frozen=True)
class LintedText:
    """A text someone wrote (a note), kept as written, with what the lint found in it."""

    text: str
    findings: tuple[Finding, ...] = ()

    @property
    def rules(self) -> list[str]:
        """The ids of the rules that found something in it."""
        return rules_found(self.findings)
