"""Roles, scopes and masks: who sees which cases and which identifiers in clear."""

import pytest

from arrears.domain.access import (
    PERMISSIONS,
    Forbidden,
    Permission,
    Principal,
    Role,
    Scope,
    ScopeKind,
    require,
    scope_of,
)
from arrears.domain.errors import DomainError
from arrears.domain.pii import mask_address, mask_email, mask_national_id, mask_phone, shown


@pytest.mark.parametrize(
    ("principal", "scope"),
    [
        (Principal("a", Role.ADMIN), Scope(ScopeKind.ALL)),
        (Principal("s", Role.STRATEGY_MANAGER), Scope(ScopeKind.ALL)),
        (Principal("c", Role.COMPLIANCE), Scope(ScopeKind.ALL)),
        (Principal("sup", Role.SUPERVISOR, team_id="t1"), Scope(ScopeKind.TEAM, "t1")),
        (Principal("sup", Role.SUPERVISOR), Scope(ScopeKind.NONE)),
        (Principal("col", Role.COLLECTOR, team_id="t1"), Scope(ScopeKind.OWN, "col")),
        (Principal("ag", Role.AGENCY, agency_id="x"), Scope(ScopeKind.AGENCY, "x")),
        (Principal("l", Role.LEGAL), Scope(ScopeKind.LEGAL)),
    ],
)
def test_each_role_has_its_scope(principal: Principal, scope: Scope) -> None:
    assert scope_of(principal) == scope


def test_an_agency_user_names_their_agency() -> None:
    with pytest.raises(DomainError, match="names no agency"):
        Principal("ag", Role.AGENCY)


def test_require_refuses_what_the_role_lacks_and_names_it() -> None:
    require(Principal("sup", Role.SUPERVISOR, "t"), Permission.APPROVE)
    with pytest.raises(Forbidden, match=r"collector may not proposal\.approve"):
        require(Principal("col", Role.COLLECTOR, "t"), Permission.APPROVE)


def test_only_the_administrator_manages_users_and_the_strategy_manager_unmasks_nothing() -> None:
    assert [r for r in Role if Permission.USERS in PERMISSIONS[r]] == [Role.ADMIN]
    assert not {p for p in PERMISSIONS[Role.STRATEGY_MANAGER] if p.value.startswith("pii.")}


def test_masks_keep_only_what_identifies_the_record() -> None:
    assert mask_phone("+8613812341234") == "+86138****1234"
    assert mask_phone("+12125551234") == "+121****1234"
    assert mask_phone("12345") == "*****"
    assert mask_national_id("110101199003071234") == "1101**********1234"
    assert mask_national_id("1234") == "****"
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区******"
    assert mask_address("北京") == "**"
    assert mask_email("zhu.fang@example.cn") == "z******@example.cn"
    assert mask_email("no-at-sign") == "**********"


def test_a_value_is_clear_only_when_unmasked_by_a_role_that_may() -> None:
    collector = Principal("col", Role.COLLECTOR, "t")
    number, national_id = "+8613812341234", "110101199003071234"
    assert shown(collector, "phone", number, unmasked=False) == "+86138****1234"
    assert shown(collector, "phone", number, unmasked=True) == number
    assert shown(collector, "national_id", national_id, unmasked=True) == "1101**********1234"
    assert shown(collector, "address", None, unmasked=True) is None
