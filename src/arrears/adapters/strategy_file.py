"""Strategy ladder files (TOML): read, validate naming the key at fault, build the domain Ladder."""

import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from arrears.adapters.toml_text import control_character
from arrears.domain.entry_rules import EntryRule
from arrears.domain.errors import DomainError
from arrears.domain.escalation import DONE_OUTCOMES, Guard, Requirement
from arrears.domain.experiments import Experiment
from arrears.domain.ladder import DEFAULT_STAGE, Ladder, Stage, Treatment, label_clash
from arrears.domain.money import parse_amount
from arrears.domain.product import Product

SHIPPED = ("cn", "us", "uk")  # arrears/packs/strategy_<key>.toml
_TOP = {"name", "version", "default_stage", "stage", "experiment", "guards"}
_STAGE = {"name", "label_zh", "label_en", "label_zh_tw", "entry", "treatment", "heavy"}
_ENTRY = {
    "dpd_min", "dpd_max", "amount_min", "amount_max", "score_min", "score_max", "segments",
    "buckets", "flags", "due_within",
}  # fmt: skip
_TREATMENT = {
    "day", "every", "until", "until_done", "when_done", "owed", "action", "template", "arms",
}  # fmt: skip
_EXPERIMENT = {"name", "salt", "arms", "stages"}
_GUARD = {"approval", "requires"}
_REQUIREMENT = {"action", "outcomes", "at_least", "distinct_days", "within_days", "min_days"}
_KIND_NAMES = {
    int: "an integer", str: "a string", bool: "true or false", list: "a list", dict: "a table",
}  # fmt: skip
# What the stores keep of a case (adapters/db/tables.py; a test keeps them in step): a stage
# name in 16 characters (loan_states.stage), a case's arms, "experiment=arm;…", in 32, its
# ladder's label ("cn-default v4") in 64 (cases.ladder), a treatment's template in 64
# (outbox.template).
STAGE_CHARS, ARM_CHARS, LADDER_CHARS, TEMPLATE_CHARS = 16, 32, 64, 64


class StrategyFileError(DomainError):
    """A ladder file is missing, unreadable or invalid (the file and key are named)."""


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """Re-raise a domain refusal with the place in the file it concerns."""
    try:
        yield
    except StrategyFileError:
        raise
    except DomainError as error:
        raise StrategyFileError(f"{where}: {error}") from None


@dataclass(frozen=True)
class _Table:
    """One TOML table and where it sits in the file, with typed reads that name the key."""

    data: Mapping[str, Any]
    where: str

    @classmethod
    def of(cls, value: Any, where: str, known: set[str]) -> "_Table":
        if not isinstance(value, dict):
            raise StrategyFileError(f"{where} must be a table")
        unknown = set(value) - known
        if unknown:
            raise StrategyFileError(
                f"{where} has unknown key(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        return cls(value, where)

    def get(self, key: str, kind: type, required: bool = False, default: Any = None) -> Any:
        """The value of `key` if of type `kind` (bool is not an int here), else `default`."""
        if key not in self.data:
            if required:
                raise StrategyFileError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise StrategyFileError(
                f"{self.where}: {key} must be {_KIND_NAMES[kind]}, got {value!r}"
            )
        return value

    def names(self, key: str) -> frozenset[str] | None:
        """A list of strings as a set, or None when absent."""
        return None if key not in self.data else frozenset(self.strings(key))

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings, in order (empty when absent)."""
        values = self.get(key, list) or []
        if not all(isinstance(v, str) for v in values):
            raise StrategyFileError(f"{self.where}: {key} must be a list of strings")
        return tuple(values)

    def amount(self, key: str) -> int | None:
        """A money amount given as a decimal string in major units ('5000.00'), in minor units."""
        text = self.get(key, str)
        if text is None:
            return None
        with _naming(f"{self.where}: {key}"):
            return parse_amount(text)


def load_ladder(ref: str | Path, base_dir: Path | None = None) -> Ladder:
    """A shipped ladder by key ('cn', 'us', 'uk'), or a ladder file by path (from base_dir)."""
    if isinstance(ref, str) and "/" not in ref and not ref.endswith(".toml"):
        if ref not in SHIPPED:
            raise StrategyFileError(
                f"unknown shipped strategy {ref!r} (shipped: {', '.join(SHIPPED)}; "
                f"give a path ending in .toml for your own)"
            )
        name = f"strategy_{ref}.toml"
        text = resources.files("arrears.packs").joinpath(name).read_text(encoding="utf-8-sig")
        return parse_ladder(_parse_toml(text, name), name)
    path = Path(ref)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    try:
        # A byte-order mark (a file saved by Windows Notepad) is read past, as the feeds do.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StrategyFileError(f"strategy file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StrategyFileError(f"cannot read strategy file {path}: {error}") from None
    return parse_ladder(_parse_toml(text, str(path)), str(path))


def ladder_for(product: Product, base_dir: Path | None = None) -> Ladder:
    """The product's own ladder file, else the shipped ladder of its jurisdiction."""
    return load_ladder(product.strategy or product.jurisdiction, base_dir)


def _ladder_of(code: str, product: Product, base_dir: Path | None) -> Ladder:
    """ladder_for, a refusal naming the product's key that chose the ladder (helper-115: a
    missing file was named without the product, whichever of several it was)."""
    try:
        return ladder_for(product, base_dir)
    except StrategyFileError as error:
        raise StrategyFileError(f"products.{code}.strategy: {error}") from None


def ladders_for(products: Mapping[str, Product], base_dir: Path | None = None) -> dict[str, Ladder]:
    """Each product's ladder (ladder_for); refused when two products' ladders differ under one
    label (a ladder copied and edited, its `name` and `version` left as they were)."""
    ladders = {code: _ladder_of(code, product, base_dir) for code, product in products.items()}
    clash = label_clash(ladders)
    if clash is not None:
        first, second = (f"{code!r} ({_source(products[code])})" for code in clash)
        raise StrategyFileError(
            f"the ladders of products {first} and {second} differ under one name and version "
            f"{ladders[clash[0]].label!r}: a case records its ladder by name and version, so "
            f"give the edited copy its own `name` (or a new `version`)"
        )
    return ladders


def _source(product: Product) -> str:
    """Where a product's ladder comes from, in words."""
    return product.strategy or f"the shipped {product.jurisdiction} ladder"


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StrategyFileError(f"strategy file {where} is not valid TOML: {error}") from None
    wrong = control_character(data)
    if wrong is not None:
        raise StrategyFileError(f"strategy file {where}: {wrong}")
    return data


def parse_ladder(data: Mapping[str, Any], where: str) -> Ladder:
    """Build and validate a Ladder from a parsed ladder file; `where` names it in errors."""
    top = _Table.of(dict(data), where, _TOP)
    name = top.get("name", str, required=True)
    version = top.get("version", int, required=True)
    stages = tuple(_stage(spec, where, n) for n, spec in enumerate(_tables(top, "stage"), 1))
    experiments = tuple(
        _experiment(spec, where, n) for n, spec in enumerate(_tables(top, "experiment"), 1)
    )
    guards_spec = top.get("guards", dict) or {}
    guards = tuple(_guard(action, spec, where) for action, spec in guards_spec.items())
    default = top.get("default_stage", str)
    default = DEFAULT_STAGE if default is None else default
    with _naming(where):
        ladder = Ladder(name, version, stages, experiments, guards, default)
    _refuse_too_long(ladder, where)
    return ladder


def _refuse_too_long(ladder: Ladder, where: str) -> None:
    """Refuse a name longer than the stores keep (it would fail a run on PostgreSQL, after
    the work, or be cut): the ladder's label, a stage's, a template's, a case's arms."""
    if len(ladder.label) > LADDER_CHARS:
        raise StrategyFileError(
            f"{where}: the ladder's name and version {ladder.label!r} are longer than "
            f"{LADDER_CHARS} characters"
        )
    for stage in ladder.stages:
        for number, treatment in enumerate(stage.treatments, 1):
            if len(treatment.template) > TEMPLATE_CHARS:
                raise StrategyFileError(
                    f"{where}: stage {stage.name!r} treatment {number}: template "
                    f"{treatment.template!r} is longer than {TEMPLATE_CHARS} characters"
                )
    for name in [s.name for s in ladder.stages] + [ladder.default_stage]:
        if len(name) > STAGE_CHARS:
            raise StrategyFileError(
                f"{where}: stage name {name!r} is longer than {STAGE_CHARS} characters"
            )
    longest = ";".join(
        f"{e.name}={max((arm for arm, _ in e.arms), key=len)}"
        for e in sorted(ladder.experiments, key=lambda e: e.name)
    )
    if len(longest) > ARM_CHARS:
        raise StrategyFileError(
            f"{where}: a case's arms can read {longest!r}, longer than the {ARM_CHARS} "
            f"characters kept: shorten the experiments' or arms' names"
        )


def _tables(table: _Table, key: str) -> list[Any]:
    """An array of tables ([[key]]), empty when absent."""
    return list(table.get(key, list) or [])


def _named(spec: Any, kind: str, number: int) -> str:
    """Where a table sits, in words: stage 'mid' when it has a name, else stage 2 (1-based)."""
    name = spec.get("name") if isinstance(spec, dict) else None
    return f"{kind} {name!r}" if isinstance(name, str) else f"{kind} {number}"


def _stage(spec: Any, file: str, number: int) -> Stage:
    where = f"{file}: {_named(spec, 'stage', number)}"
    table = _Table.of(spec, where, _STAGE)
    name = table.get("name", str, required=True)
    entry = tuple(
        _entry(rule, f"{where} entry {n}") for n, rule in enumerate(_tables(table, "entry"), 1)
    )
    treatments = tuple(
        _treatment(item, f"{where} treatment {n}")
        for n, item in enumerate(_tables(table, "treatment"), 1)
    )
    with _naming(where):
        return Stage(
            name=name,
            label_zh=table.get("label_zh", str, required=True),
            label_en=table.get("label_en", str, required=True),
            entry=entry,
            treatments=treatments,
            heavy=table.strings("heavy"),
            label_zh_tw=table.get("label_zh_tw", str),
        )


def _entry(spec: Any, where: str) -> EntryRule:
    table = _Table.of(spec, where, _ENTRY)
    with _naming(where):
        return EntryRule(
            dpd_min=table.get("dpd_min", int),
            dpd_max=table.get("dpd_max", int),
            amount_min=table.amount("amount_min"),
            amount_max=table.amount("amount_max"),
            score_min=table.get("score_min", int),
            score_max=table.get("score_max", int),
            segments=table.names("segments"),
            buckets=table.names("buckets"),
            flags=table.names("flags") or frozenset(),
            due_within=table.get("due_within", int),
        )


def _treatment(spec: Any, where: str) -> Treatment:
    table = _Table.of(spec, where, _TREATMENT)
    with _naming(where):
        return Treatment(
            day=table.get("day", int, required=True),
            action=table.get("action", str, required=True),
            template=table.get("template", str, required=True),
            every=table.get("every", int),
            until=table.get("until", int),
            arms=table.names("arms"),
            until_done=table.get("until_done", bool) or False,
            when_done=table.get("when_done", str),
            owed=table.get("owed", bool) or False,
        )


def _experiment(spec: Any, file: str, number: int) -> Experiment:
    table = _Table.of(spec, f"{file}: {_named(spec, 'experiment', number)}", _EXPERIMENT)
    name = table.get("name", str, required=True)
    arms = _Table(table.get("arms", dict, required=True), f"{table.where} arms")
    weights = tuple((arm, arms.get(arm, int)) for arm in arms.data)
    with _naming(table.where):
        return Experiment(
            name, table.get("salt", str, required=True), weights, table.names("stages")
        )


def _guard(action: str, spec: Any, file: str) -> Guard:
    where = f"{file}: guards.{action}"
    table = _Table.of(spec, where, _GUARD)
    requires = tuple(
        _requirement(item, f"{where} requires {n}")
        for n, item in enumerate(_tables(table, "requires"), 1)
    )
    with _naming(where):
        return Guard(action, requires, table.get("approval", bool))


def _requirement(spec: Any, where: str) -> Requirement:
    table = _Table.of(spec, where, _REQUIREMENT)
    with _naming(where):
        return Requirement(
            action=table.get("action", str, required=True),
            outcomes=table.strings("outcomes") if "outcomes" in table.data else DONE_OUTCOMES,
            at_least=table.get("at_least", int, default=1),
            distinct_days=table.get("distinct_days", int, default=1),
            within_days=table.get("within_days", int),
            min_days=table.get("min_days", int),
        )
