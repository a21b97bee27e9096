"""How a rule's legal source is cited wherever a decision, a finding or a deadline names it."""


def cited(source: str, verified: bool) -> str:
    """The source as cited: labelled "(unverified)" when the pack says its reading of the law
    was not checked (the rule stays configurable)."""
    return source if verified else f"{source} (unverified)"
