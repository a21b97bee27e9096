"""The default collection stage of a loan from its delinquency (until a strategy ladder is set)."""

# The stage of a loan signed after the day: nothing is owed or collected before the money is
# lent (no reminder to a borrower not lent it yet); reserved, no ladder declares it.
NOT_LENT = "not_lent"
# Days before a due date on which the pre-due reminder goes out (seed articles: "a few days").
PRE_DUE_DAYS = 3


def default_stage(dpd: int, grace_days: int, days_to_next_due: int | None, settled: bool) -> str:
    """Map delinquency to the default China ladder: pre-due → grace → early → mid → late → legal."""
    if settled:
        return "settled"
    if dpd == 0:
        if days_to_next_due is not None and 0 <= days_to_next_due <= PRE_DUE_DAYS:
            return "pre_due"
        return "current"
    if dpd <= grace_days:
        return "grace"
    if dpd <= 30:
        return "early"
    if dpd <= 90:
        return "mid"
    if dpd <= 180:
        return "late"
    return "legal"
