"""What a disabled account, a forged audit row and guesses past the sign-in limit leave."""

from tests.entrypoints.web.desk_book import Desk


def test_a_disabled_user_enabled_again_signs_in_anew(desk: Desk) -> None:
    # A session and a token taken before the account was disabled (stolen, say) must not come
    # back when it is enabled again: disabling ends the sessions and revokes the tokens.
    admin = desk.bearer("admin")
    session, _ = desk.signed_in("col-east-1")
    token = desk.bearer("col-east-1")
    assert session.get("/queue", follow_redirects=False).status_code == 200
    for active in (False, True):
        switched = desk.client().put(
            "/api/v1/users/col-east-1/active", headers=admin, json={"active": active}
        )
        assert switched.status_code == 200, switched.text
    assert session.get("/queue", follow_redirects=False).status_code == 303
    assert desk.client().get("/api/v1/me", headers=token).status_code == 401
    again, _ = desk.signed_in("col-east-1")  # a new sign-in works
    assert again.get("/queue", follow_redirects=False).status_code == 200
