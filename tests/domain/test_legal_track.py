"""The legal track's order: the main line one step at a time, preservation as a side step."""

from datetime import date

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.legal_track import LegalStep, check_next, next_steps, referral_after

DAY = date(2025, 10, 2)


def test_the_main_line_goes_one_step_at_a_time_and_preservation_fits_after_filing() -> None:
    assert next_steps([]) == ("lawyers_letter",)
    assert next_steps(["lawyers_letter"]) == ("filing", "closed")
    assert next_steps(["lawyers_letter", "filing"]) == ("judgment", "preservation", "closed")
    taken = ["lawyers_letter", "filing", "preservation", "preservation"]
    assert next_steps(taken) == ("judgment", "preservation", "closed")
    assert next_steps([*taken, "judgment", "enforcement"]) == ("preservation", "closed")
    # Closed, the track opens again only with a new lawyer's letter; that round goes on as
    # the first did (a settlement later defaulted on).
    assert next_steps([*taken, "closed"]) == ("lawyers_letter",)
    again = [*taken, "judgment", "closed", "lawyers_letter"]
    assert next_steps(again) == ("filing", "closed")
    assert next_steps([*again, "filing"]) == ("judgment", "preservation", "closed")
    with pytest.raises(DomainError, match="preservation cannot come"):
        check_next(again, LegalStep("preservation", DAY), None)


def test_enforcement_needs_a_judgment_and_no_judgment_follows_enforcement() -> None:
    with pytest.raises(DomainError, match="enforcement cannot come"):
        check_next(
            ["lawyers_letter", "filing", "preservation"], LegalStep("enforcement", DAY), None
        )
    done = ["lawyers_letter", "filing", "judgment", "enforcement", "preservation"]
    judged = LegalStep("judgment", DAY, performance_due=DAY)
    with pytest.raises(DomainError, match="judgment cannot come"):
        check_next(done, judged, None)


def test_a_judgments_day_of_performance_is_bounded() -> None:
    with pytest.raises(DomainError, match="last day of performance"):
        LegalStep("judgment", DAY, performance_due=date(9999, 1, 1))
    with pytest.raises(DomainError, match="last day of performance"):
        LegalStep("judgment", DAY, performance_due=date(2025, 1, 1))
    assert LegalStep("judgment", DAY, performance_due=date(2025, 12, 1)).step == "judgment"


def test_opening_the_track_refers_the_loan_to_legal_and_closing_it_withdraws() -> None:
    letter = LegalStep("lawyers_letter", date(2025, 10, 2))
    assert referral_after([], letter) is True
    court = "杭州市西湖区人民法院"
    filing = LegalStep("filing", date(2025, 10, 20), court=court, case_number="(2025)1号")
    assert referral_after(["lawyers_letter"], filing) is None
    assert referral_after(["lawyers_letter"], LegalStep("closed", date(2025, 11, 1))) is False


def test_opening_a_closed_track_again_refers_the_loan_again() -> None:
    letter = LegalStep("lawyers_letter", date(2026, 3, 1))
    assert referral_after(["lawyers_letter", "closed"], letter) is True
    assert referral_after(["lawyers_letter", "closed", "lawyers_letter"], letter) is None
