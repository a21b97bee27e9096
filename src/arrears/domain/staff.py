"""Who may be a user: the user-id rule, a name to show, and which roles take a team or an
agency (the one rule the CLI, the API and the pages share); the ids of teams and agencies
follow the same rule, and an agency's commission is a rate between 0 and 1."""

import re
from decimal import Decimal

from arrears.domain.access import Role
from arrears.domain.errors import Refusal
from arrears.domain.invisible import is_blank

# Lower case only: ids told apart by case alone ("Alice", "alice") would be two people to the
# store and one to a reader of the audit log. No dots alone ("..", "."), slashes or spaces:
# ids appear in URLs and in audit subjects.
USER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
USER_ID_RULE = (
    "1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
)
# The audit log's actor for a change made at the console (`arrears staff …`, `arrears contact
# …`, the demo): no user may take the name, or their acts and the console's would read alike.
CONSOLE = "setup"
TEAM_ROLES = frozenset({Role.COLLECTOR, Role.SUPERVISOR})  # the roles whose scope is a team


def check_user_id(user_id: str) -> None:
    """Refuse a user id outside the rule, saying the rule."""
    if not USER_ID.fullmatch(user_id):
        raise Refusal(
            "user id {user_id} is not allowed: a user id is 1 to 64 lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit",
            user_id=repr(user_id),
        )
    if user_id == CONSOLE:
        raise Refusal(
            "user id {user_id} is reserved: the audit log names changes made at the console by it",
            user_id=repr(user_id),
        )


NAME_MAX = 100  # characters of a name shown (a user's, a team's, an agency's)


def check_display_name(name: str) -> None:
    """Refuse a name to show that is blank (nothing of it shows), too long or holds control
    characters."""
    if is_blank(name):
        raise Refusal("a user's display name cannot be blank")
    if len(name) > NAME_MAX:
        raise Refusal("a name has at most {n} characters", n=str(NAME_MAX))
    if _controls(name):
        raise Refusal("a user's display name cannot hold control characters")


def check_placement(role: Role, team_id: str | None, agency_id: str | None) -> None:
    """Refuse a team or an agency that the role does not take, or lacks one it needs."""
    if role is Role.AGENCY and agency_id is None:
        raise Refusal("an agency user needs the agency they work for")
    if role is not Role.AGENCY and agency_id is not None:
        raise Refusal("only agency users work for an agency: leave the agency empty")
    if role not in TEAM_ROLES and team_id is not None:
        raise Refusal("only collectors and supervisors belong to a team: leave the team empty")
    if role is Role.COLLECTOR and team_id is None:
        raise Refusal("a collector needs a team")
    if role is Role.SUPERVISOR and team_id is None:
        raise Refusal("a supervisor needs a team")


# An agency's commission on what it collects: a share, written exactly (at most 4 places).
COMMISSION = re.compile(r"0(\.[0-9]{1,4})?|1(\.0{1,4})?")  # ASCII digits only


def check_team(team_id: str, name: str) -> None:
    """Refuse a team whose id is outside the user-id rule (ids appear in URLs, in audit
    subjects and beside user ids) or whose name does not fit (_fit_name)."""
    if not USER_ID.fullmatch(team_id):
        raise Refusal(
            "team id {team_id} is not allowed: an id is 1 to 64 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit",
            team_id=repr(team_id),
        )
    if not _fit_name(name):
        raise Refusal(
            "a team's name cannot be blank, longer than 100 characters or hold control characters"
        )


def check_agency(agency_id: str, name: str) -> None:
    """Refuse an agency whose id is outside the user-id rule or whose name does not fit
    (_fit_name)."""
    if not USER_ID.fullmatch(agency_id):
        raise Refusal(
            "agency id {agency_id} is not allowed: an id is 1 to 64 lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit",
            agency_id=repr(agency_id),
        )
    if not _fit_name(name):
        raise Refusal(
            "an agency's name cannot be blank, longer than 100 characters or hold control "
            "characters"
        )


def _fit_name(name: str) -> bool:
    """A name with something to show, not too long, and no control characters."""
    return bool(name.strip()) and len(name) <= NAME_MAX and not _controls(name)


def _controls(name: str) -> bool:
    """Whether a name holds a control character (C0 or DEL)."""
    return any(ord(c) < 32 or ord(c) == 127 for c in name)


def check_commission(rate: str) -> Decimal:
    """An agency's commission rate as an exact decimal, or a refusal naming the text."""
    if not COMMISSION.fullmatch(rate):
        raise Refusal(
            "commission {rate} is not allowed: a share from 0 to 1 with at most 4 decimal "
            "places, e.g. 0.18",
            rate=repr(rate),
        )
    return Decimal(rate)
