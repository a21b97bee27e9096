"""The demo's people: two collection teams, an agency (on the white list, evaluated the day
the desk opens), and one user of every role, with the cases balanced over the collectors every
day and half the late ones placed with the agency."""

from datetime import date, datetime

from rich.console import Console

from arrears.bootstrap import App
from arrears.domain.access import Role
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.outsourcing import Agency
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.desk_calendar import desk_day
from arrears.services.assignment import balance_queue, place_case
from arrears.services.casework import work_queue
from arrears.services.casework_ports import QueueFilter, UserRecord
from arrears.services.field_visit import GuardRefused
from arrears.services.identity import create_user
from arrears.services.staff_setup import evaluate_agency
from arrears.services.step_checks import StepBlocked

DEMO_PASSWORD = "arrears-demo-2025"  # printed with the log-ins: a demo, not a secret
TEAMS = {"team-east": "华东一组", "team-west": "华西二组"}
AGENCY = ("agency-hz", "杭州信达资产管理（演示）", "0.18")
STAFF = (
    UserRecord("admin", "系统管理员", Role.ADMIN, ""),
    UserRecord("strategy", "策略经理 周敏", Role.STRATEGY_MANAGER, ""),
    UserRecord("sup-east", "组长 王磊", Role.SUPERVISOR, "", team_id="team-east"),
    UserRecord("col-east-1", "催收员 李娜", Role.COLLECTOR, "", team_id="team-east"),
    UserRecord("col-east-2", "催收员 张伟", Role.COLLECTOR, "", team_id="team-east"),
    UserRecord("sup-west", "组长 陈静", Role.SUPERVISOR, "", team_id="team-west"),
    UserRecord("col-west-1", "催收员 刘洋", Role.COLLECTOR, "", team_id="team-west"),
    UserRecord("compliance", "合规专员 赵芳", Role.COMPLIANCE, ""),
    UserRecord("legal", "法务 孙强", Role.LEGAL, ""),
    UserRecord("agency-hz-1", "委外催收员 吴敏", Role.AGENCY, "", agency_id="agency-hz"),
)


def seed_staff(app: App, today: date, now: datetime) -> str:
    """Create the demo's teams, agency and users; place half the late cases and balance the
    others; what was done, as a line to print."""

    def setup(action: str, subject: str) -> AuditEntry:
        return AuditEntry(now, CONSOLE, action, subject, {})

    for team_id, name in TEAMS.items():
        app.identity.add_team(team_id, name, setup("team.create", f"team:{team_id}"))
    agency_id, agency_name, rate = AGENCY
    # On the white list and evaluated the day the desk opens: the cn pack places cases only
    # with such an agency (cn.outsourcing), for 12 months from that day.
    agency = Agency(agency_id, agency_name, rate, listed=True, evaluated_on=today)
    app.identity.add_agency(agency, setup("agency.create", f"agency:{agency_id}"))
    for user in STAFF:
        create_user(app.identity, app.passwords, None, user, DEMO_PASSWORD, now)
    admin = STAFF[0].principal()
    late = work_queue(app.desk, admin, QueueFilter(stage="late"), app.settings.queue_scale)
    placed = 0
    for item in late:
        if placed == max(1, len(late) // 2):
            break
        try:
            place_case(app.desk, app.track, app.step_terms, admin, item.row.loan_id, agency_id,
                       today, now)  # fmt: skip
        except (GuardRefused, StepBlocked):
            continue  # its gentler steps are not all on record, or a hold: placed when not
        placed += 1
    given = balance_cases(app, today, now)
    return (
        f"on {today}: cases balanced over the collectors: "
        f"{', '.join(f'{u} {n}' for u, n in sorted(given.items()))}; "
        f"placed with {agency_id} (on the white list, evaluated {today}: cn.outsourcing "
        f"allows placements with it for 12 months): {placed} of {len(late)} late"
    )


def evaluate_for_today(app: App, now: datetime) -> str:
    """Evaluate the demo's agency again on the desk's day the demo is served (the book's days
    may be more than the cn pack's 12 months before it: the pages would refuse its
    placements, cn.outsourcing); the line to print."""
    agency_id = AGENCY[0]
    today = desk_day(now)
    evaluate_agency(app.identity, None, agency_id, today, True, today, now)
    return f"{agency_id} evaluated again on the desk's day {today} (cn.outsourcing)"


def balance_cases(app: App, today: date, now: datetime) -> dict[str, int]:
    """Give the cases no collector has yet to the teams' collectors (as a supervisor does each
    morning: a collector is credited with what is paid once the case is theirs)."""
    admin = STAFF[0].principal()
    return balance_queue(app.desk, admin, list(TEAMS), today, now, app.settings.queue_scale)


def print_logins(url: str, console: Console) -> None:
    """The URL and one log-in per role."""
    console.print(f"[bold]web workbench[/]: {url}  (password for every demo user: {DEMO_PASSWORD})")
    for user in STAFF:
        console.print(f"  {user.user_id:<12} {user.role.value:<17} {user.display_name}")
