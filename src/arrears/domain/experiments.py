"""Champion/challenger experiments: a stable, weighted split of loans into arms."""

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from arrears.domain.errors import DomainError

# What separates a case's recorded arms (batch/stages.arm_text).
_SEPARATORS = frozenset("=;")


@dataclass(frozen=True)
class Experiment:
    """A named split: arms with positive integer weights, a salt, optionally the stages it tests."""

    name: str
    salt: str
    arms: tuple[tuple[str, int], ...]
    stages: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise DomainError("an experiment needs a name")
        for name in (self.name, *(arm for arm, _ in self.arms)):
            if _SEPARATORS & set(name):
                # A case records its arms as 'experiment=arm;…' (batch/stages.arm_text): a
                # name holding either would be read back as another arm, matching nothing.
                raise DomainError(
                    f"{name!r}: an experiment's or arm's name must not contain '=' or ';'"
                )
        if not self.salt.strip():
            raise DomainError("salt must not be blank")
        if self.stages is not None and not self.stages:
            # An experiment in no stage never draws an arm: switched off without a word.
            raise DomainError("stages must not be empty (leave it out for every stage)")
        if not self.arms:
            raise DomainError("an experiment needs at least one arm")
        names = [arm for arm, _ in self.arms]
        if len(set(names)) != len(names):
            raise DomainError("arm names must be unique")
        for arm, weight in self.arms:
            if not arm.strip():
                raise DomainError("an arm needs a name")
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
                raise DomainError(f"arm {arm!r} weight must be a positive integer, got {weight!r}")

    def runs_in(self, stage: str) -> bool:
        """Whether the experiment runs in `stage` (every stage when it names none)."""
        return self.stages is None or stage in self.stages

    @property
    def arm_names(self) -> tuple[str, ...]:
        """The arms in the order the split walks them: by name, so reordering a file is harmless."""
        return tuple(sorted(arm for arm, _ in self.arms))


def split_point(salt: str, loan_id: str, total: int) -> int:
    """A stable point in 0..total-1: sha256('salt:loan_id'), first 8 bytes big-endian, mod total."""
    # sha256, not hash(): Python salts hash() per process, and the split must be the same on every
    # run and machine (and reproducible by the batch engine). 2**64 mod total biases < 1e-15.
    digest = hashlib.sha256(f"{salt}:{loan_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


def arm_for(loan_id: str, experiment: Experiment) -> str:
    """The arm a loan falls into; the caller records it on the case."""
    return arms_for([loan_id], experiment)[0]


def arms_for(loan_ids: Sequence[str], experiment: Experiment) -> list[str]:
    """The arm each loan falls into (arm_for; the walk worked out once for them all)."""
    names = experiment.arm_names
    weights = dict(experiment.arms)
    # Arms are walked by name: raising the weight of the first arm only moves loans into it.
    ends = list(accumulate(weights[arm] for arm in names))
    return [names[bisect_right(ends, split_point(experiment.salt, loan, ends[-1]))]
            for loan in loan_ids]  # fmt: skip
