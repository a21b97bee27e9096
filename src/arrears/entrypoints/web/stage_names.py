"""A stage's name for the reader: the catalogue's, else its ladder's label in their language."""

from collections.abc import Iterable, Mapping

from arrears.domain.ladder import Ladder, Stage
from arrears.entrypoints.web import i18n


def stage_name(stage: str, locale: str, ladders: Iterable[Ladder]) -> str:
    """The catalogue's name of a stage (the shipped ones, and settled), else the label the
    first of `ladders` that declares it gives in `locale`, else the stage's own name."""
    found = i18n.catalogue(locale).get(f"stage:{stage}")
    if found:
        return found
    for ladder in ladders:
        declared = ladder.stage(stage)
        if declared is not None:
            return label_in(declared, locale)
    # A default stage a lender's ladder names but does not declare has no label.
    return stage


def label_in(stage: Stage, locale: str) -> str:
    """A stage's label from its ladder file in one of our locales."""
    if locale == "en":
        return stage.label_en
    if locale == "zh-TW":
        return stage.label_zh_tw or stage.label_zh
    return stage.label_zh


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
