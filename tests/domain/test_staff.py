"""The user-id rule, names to show and the roles' teams and agencies."""

import pytest

from arrears.domain.access import Role
from arrears.domain.errors import Refusal
from arrears.domain.staff import check_display_name, check_placement, check_user_id


@pytest.mark.parametrize("user_id", ["a", "col-east-1", "a.b_c-d", "9lives", "x" * 64])
def test_ids_within_the_rule_pass(user_id: str) -> None:
    check_user_id(user_id)


@pytest.mark.parametrize("user_id", ["", "Alice", "..", ".a", "a/b", "a\x00", "é", "x" * 65])
def test_ids_outside_the_rule_are_refused_saying_the_rule(user_id: str) -> None:
    with pytest.raises(Refusal, match="1 to 64 lower-case letters") as refused:
        check_user_id(user_id)
    assert refused.value.values == {"user_id": repr(user_id)}


@pytest.mark.parametrize("name", ["", " ", "\u3000", "a\nb", "a\x1bb"])
def test_a_blank_or_controlled_display_name_is_refused(name: str) -> None:
    with pytest.raises(Refusal, match="display name"):
        check_display_name(name)


def test_every_role_takes_what_it_needs_and_nothing_else() -> None:
    check_placement(Role.COLLECTOR, "t", None)
    check_placement(Role.SUPERVISOR, "t", None)
    check_placement(Role.AGENCY, None, "a")
    for role in (Role.ADMIN, Role.STRATEGY_MANAGER, Role.COMPLIANCE, Role.LEGAL):
        check_placement(role, None, None)
        with pytest.raises(Refusal, match="team"):
            check_placement(role, "t", None)
        with pytest.raises(Refusal, match="agency"):
            check_placement(role, None, "a")


def test_the_consoles_name_is_no_users() -> None:
    # The audit log names changes made at the console `setup`: a user of that name would
    # make their acts read as the console's (helper-61).
    with pytest.raises(Refusal, match="reserved") as refused:
        check_user_id("setup")
    assert refused.value.values == {"user_id": "'setup'"}
