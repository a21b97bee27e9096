"""A stage's name for the reader: its ladder's label in their language when the ladder is a
lender's own, the catalogue's for a stage of the shipped ladders (and settled)."""

from collections.abc import Iterable, Mapping
from functools import cache

from arrears.adapters.strategy_file import SHIPPED, load_ladder
from arrears.domain.ladder import Ladder, Stage
from arrears.entrypoints.web import i18n


def stage_name(stage: str, locale: str, ladders: Iterable[Ladder]) -> str:
    """The name of a stage as the first of `ladders` that declares it labels it in `locale`;
    the catalogue's when that ladder labels it as the shipped ladders do (they give no zh-TW
    label, and the catalogue names them in each language), or when no ladder declares it
    (settled, a default stage); else the stage's own name."""
    found = (ladder.stage(stage) for ladder in ladders)
    declared = next((s for s in found if s is not None), None)
    named = i18n.catalogue(locale).get(f"stage:{stage}")
    if declared is not None and not (named and _labels(declared) in _shipped_labels(stage)):
        return label_in(declared, locale)
    # A default stage a lender's ladder names but does not declare has no label.
    return named or stage


def label_in(stage: Stage, locale: str) -> str:
    """A stage's label from its ladder file in one of our locales."""
    if locale == "en":
        return stage.label_en
    if locale == "zh-TW":
        return stage.label_zh_tw or stage.label_zh
    return stage.label_zh


def _labels(stage: Stage) -> tuple[str, str, str | None]:
    return stage.label_zh, stage.label_en, stage.label_zh_tw


@cache
def _shipped_labels(stage: str) -> frozenset[tuple[str, str, str | None]]:
    """The labels the shipped ladders give a stage of that name (a copy of one keeps them)."""
    declared = (load_ladder(key).stage(stage) for key in SHIPPED)
    return frozenset(_labels(found) for found in declared if found is not None)


def own_first(
    ladders: Mapping[str, Ladder], product: str | None = None, label: str | None = None
) -> list[Ladder]:
    """The products' ladders in their order, a case's own first: the one of the label the
    case recorded, else its product's (the recorded one may be a version no longer set)."""
    mine = next((ladder for ladder in ladders.values() if ladder.label == label), None)
    mine = mine or (ladders.get(product) if product is not None else None)
    return [ladder for ladder in [mine] if ladder is not None] + [
        ladder for ladder in ladders.values() if ladder is not mine
    ]
