"""The strategy's public face: what the daily run calls to stage, treat, split and guard loans."""

from arrears.domain.entry_rules import EntryRule, LoanFacts
from arrears.domain.escalation import (
    ACTIONS,
    OUTCOMES,
    ActionRecord,
    Guard,
    GuardDecision,
    Requirement,
    check_escalation,
    done_since,
)
from arrears.domain.experiments import Experiment, arm_for
from arrears.domain.ladder import (
    Ladder,
    Stage,
    StageDecision,
    Treatment,
    assign_arms,
    assign_stage,
    due_treatments,
)

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "ActionRecord",
    "EntryRule",
    "Experiment",
    "Guard",
    "GuardDecision",
    "Ladder",
    "LoanFacts",
    "Requirement",
    "Stage",
    "StageDecision",
    "Treatment",
    "arm_for",
    "assign_arms",
    "assign_stage",
    "check_escalation",
    "done_since",
    "due_treatments",
]
