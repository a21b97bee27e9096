"""Users, teams, agencies, sessions, API tokens and failed log-ins on SQL."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from arrears.adapters.db.audit_store import append_audit, hold_audit
from arrears.adapters.db.casework_tables import (
    agencies,
    api_tokens,
    assignments,
    login_failures,
    teams,
    users,
    web_sessions,
)
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.domain.access import Role
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.outsourcing import Agency
from arrears.services.casework_ports import UserRecord, credential


class IdentityConflict(Refusal):
    """A user, team or agency id already taken, or a reference to one that does not exist."""


class _NoSuchAgency(Exception):
    """The agency evaluated does not exist: nothing is written."""


class SqlIdentityStore:
    """Implements casework_ports.IdentityStore over a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_team(self, team_id: str, name: str, audit: AuditEntry) -> None:
        """Create a team."""
        self._insert(
            insert(teams).values(team_id=team_id, name=name),
            audit,
            IdentityConflict(
                "team {team_id} cannot be created: the id is taken", team_id=repr(team_id)
            ),
        )

    def add_agency(self, agency: Agency, audit: AuditEntry) -> None:
        """Create an agency with its commission rate, white-list standing and last
        evaluation."""
        query = insert(agencies).values(
            agency_id=agency.agency_id,
            name=agency.name,
            commission_rate=agency.commission_rate,
            listed=agency.listed,
            evaluated_on=agency.evaluated_on,
        )
        taken = IdentityConflict(
            "agency {agency_id} cannot be created: the id is taken",
            agency_id=repr(agency.agency_id),
        )
        self._insert(query, audit, taken)

    def evaluate_agency(
        self, agency_id: str, listed: bool, evaluated_on: date, audit: AuditEntry
    ) -> bool:
        """Record an agency's evaluation (its day, and its standing after it), audited; False
        when there is no such agency (nothing written)."""
        try:
            with self.engine.begin() as conn:
                # The audit append first, as a placement's: the two are decided one after the
                # other, in the order the log shows (casework_store.place).
                append_audit(conn, audit)
                done = conn.execute(
                    update(agencies)
                    .where(agencies.c.agency_id == agency_id)
                    .values(listed=listed, evaluated_on=evaluated_on)
                ).rowcount
                if not done:
                    raise _NoSuchAgency  # rolls the audit entry back
        except _NoSuchAgency:
            return False
        return True

    def set_agency_commission(
        self, agency_id: str, rate: str, audit_of: Callable[[str], AuditEntry]
    ) -> str | None:
        """Set an agency's commission rate for the placements made from now on, audited by
        the entry `audit_of` makes of the rate it replaces (it may refuse); the rate replaced,
        or None when there is no such agency (nothing written)."""
        # The audit log's lock first, as a placement and an evaluation take it before they
        # touch the agency (the other order deadlocked with them on PostgreSQL); held, no
        # one changes the agency before this does: the rate the entry names as replaced is
        # the one the update replaces. (SQLite: the database's write lock, taken at once.)
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            hold_audit(conn)
            was = conn.execute(
                select(agencies.c.commission_rate).where(agencies.c.agency_id == agency_id)
            ).scalar_one_or_none()
            if was is None:
                return None
            append_audit(conn, audit_of(was))
            conn.execute(
                update(agencies).where(agencies.c.agency_id == agency_id)
                .values(commission_rate=rate)
            )  # fmt: skip
        return str(was)

    def add_user(self, user: UserRecord, at: datetime, audit: AuditEntry) -> None:
        """Create a user: refused by name when the id is taken (in any case: "Alice" takes
        "alice") or the team or agency does not exist."""
        query = insert(users).values(
            user_id=user.user_id,
            display_name=user.display_name,
            role=user.role.value,
            team_id=user.team_id,
            agency_id=user.agency_id,
            password_hash=user.password_hash,
            locale=user.locale,
            active=user.active,
            created_at=at.astimezone(UTC),
        )
        try:
            with self.engine.begin() as conn:
                _refuse_clashes(conn, user)
                conn.execute(query)
                append_audit(conn, audit)
        except IntegrityError:  # created meanwhile (the checks above name the usual cases)
            raise IdentityConflict(
                "user {user_id} cannot be created: the id is taken or names a team or agency "
                "that does not exist",
                user_id=repr(user.user_id),
            ) from None

    def _insert(self, query: Any, audit: AuditEntry, taken: IdentityConflict) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(query)
                append_audit(conn, audit)
        except IntegrityError:
            raise taken from None

    def user(self, user_id: str) -> UserRecord | None:
        """A user by id."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
        return _user(row) if row is not None else None

    def user_named(self, user_id: str) -> UserRecord | None:
        """A user whose id matches in any case, the one spelled exactly so first (a book
        made before the id rule may hold "Alice" and "alice"; new ids are unique in any
        case: _refuse_clashes)."""
        query = select(users).where(func.lower(users.c.user_id) == user_id.lower())
        exact_first = (users.c.user_id != user_id, users.c.user_id)
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(*exact_first)).first()
        return _user(row) if row is not None else None

    def users(self) -> list[UserRecord]:
        """Every user, by id."""
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.user_id))]

    def teams(self) -> list[tuple[str, str]]:
        """Every team: (id, name)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(teams.c.team_id, teams.c.name).order_by(teams.c.team_id))
            return [(r.team_id, r.name) for r in rows]

    def agencies(self) -> list[Agency]:
        """Every agency, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(agencies).order_by(agencies.c.agency_id))
            return [agency_of(r) for r in rows]

    def set_locale(self, user_id: str, locale: str, audit: AuditEntry) -> None:
        """Change a user's language, audited."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.user_id == user_id).values(locale=locale))
            append_audit(conn, audit)

    def set_active(self, user_id: str, active: bool, audit: AuditEntry) -> bool:
        """Enable or disable a user; False if unknown. Disabling ends their sessions and
        revokes their tokens for good: enabled again, the user signs in anew (a session or
        token stolen before must not come back with the account). A collector disabled gives
        their cases back to their team's pool (audited: how many), else nobody works them."""
        with self.engine.begin() as conn:
            _lock_administrators(conn)
            found = conn.execute(
                update(users).where(users.c.user_id == user_id).values(active=active)
            ).rowcount
            if found and not active:
                _refuse_no_administrator(conn)
                _end_access(conn, user_id)
                returned = conn.execute(
                    update(assignments)
                    .where(assignments.c.collector_id == user_id)
                    .values(collector_id=None)
                ).rowcount
                if returned:
                    audit = replace(audit, detail={**audit.detail, "cases_returned": returned})
            if found:
                append_audit(conn, audit)
        return bool(found)

    def update_user(self, user: UserRecord, audit: AuditEntry) -> int:
        """Store a user's new display name, role, team and agency, audited; refused by name
        when the team or agency does not exist. A collector who leaves their team or role
        gives their cases back to the pool of the team that holds them (its supervisor
        assigns them again), in the same transaction: how many is returned and audited."""
        query = (
            update(users)
            .where(users.c.user_id == user.user_id)
            .values(
                display_name=user.display_name,
                role=user.role.value,
                team_id=user.team_id,
                agency_id=user.agency_id,
            )
        )
        a = assignments.c
        theirs = a.collector_id == user.user_id
        if user.role is Role.COLLECTOR:
            theirs = theirs & (a.team_id != user.team_id)
        try:
            # SQLite: the write lock from the start, so what is checked stays true (WAL).
            with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
                _lock_administrators(conn)
                _refuse_unknown_places(conn, user)
                conn.execute(query)
                _refuse_no_administrator(conn)
                returned = conn.execute(
                    update(assignments).where(theirs).values(collector_id=None)
                ).rowcount
                if returned:
                    audit = replace(audit, detail={**audit.detail, "cases_returned": returned})
                append_audit(conn, audit)
        except IntegrityError:  # the team or agency went meanwhile
            raise IdentityConflict(
                "user {user_id} cannot be changed: the team or agency does not exist",
                user_id=repr(user.user_id),
            ) from None
        return int(returned)

    def set_password(
        self, user_id: str, password_hash: str, audit: AuditEntry, was: str | None = None
    ) -> bool:
        """Store a user's new password hash; False if unknown, or (`was` given: the hash the
        change was checked against) if it is no longer theirs, an administrator's reset having
        come meanwhile (nothing written). Their sessions end and their tokens are revoked
        (whoever knew the old password may hold one), and the failed sign-ins counted against
        their name are forgotten: a user locked out by someone guessing signs in with the new
        password at once (the audit log keeps the failures)."""
        whose = users.c.user_id == user_id
        if was is not None:
            whose = and_(whose, users.c.password_hash == was)
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users).where(whose).values(password_hash=password_hash)
            ).rowcount
            if found:
                _end_access(conn, user_id)
                conn.execute(delete(login_failures).where(login_failures.c.user_id == user_id))
                append_audit(conn, audit)
        return bool(found)

    def reserve_attempt(
        self, user_id: str, client: str, at: datetime, since: datetime
    ) -> tuple[int, int, int]:
        """Note an attempt as failed until it succeeds, and count the failures since `since`
        with it (by user name, by client), one attempt at a time: on SQLite the insert takes
        the write lock before the counts are read; on PostgreSQL the table is locked against
        other reservations first (each would count without the others' rows otherwise)."""
        f = login_failures.c
        recent = f.at >= since.astimezone(UTC)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))
            row = {"user_id": user_id[:64], "client": client[:64], "at": at.astimezone(UTC)}
            attempt_id = conn.execute(
                insert(login_failures).values(**row).returning(f.failure_id)
            ).scalar_one()
            mine = conn.execute(select(func.count()).where(recent & (f.user_id == user_id[:64])))
            theirs = conn.execute(select(func.count()).where(recent & (f.client == client[:64])))
            return int(attempt_id), int(mine.scalar_one()), int(theirs.scalar_one())

    def release_attempt(self, attempt_id: int) -> None:
        """Forget a reserved attempt."""
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.failure_id == attempt_id))

    def record_failure(self, audit: AuditEntry) -> None:
        """Keep a reserved attempt as a failed log-in (its row stays), audited."""
        with self.engine.begin() as conn:
            append_audit(conn, audit)

    def open_session(
        self,
        token_hash: str,
        user_id: str,
        csrf: str,
        at: datetime,
        until: datetime,
        audit: AuditEntry,
        checked: str,
    ) -> None:
        """Store a session (by its token's hash) opened with the password hash `checked`."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    token_hash=token_hash,
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=at.astimezone(UTC),
                    expires_at=until.astimezone(UTC),
                    credential=credential(checked),
                )
            )
            append_audit(conn, audit)

    def session(self, token_hash: str, now: datetime) -> tuple[str, str] | None:
        """(user id, CSRF token) of a session still valid at `now`: of an active user whose
        password is still the one it was opened with (checked on every use, so a sign-in
        that was under way when the password was reset opens nothing)."""
        s = web_sessions.c
        query = (
            select(s.user_id, s.csrf_token, s.expires_at, s.credential, users.c.password_hash)
            .join(users, users.c.user_id == s.user_id)
            .where((s.token_hash == token_hash) & users.c.active)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or utc(row.expires_at) <= now:
            return None
        if row.credential != credential(row.password_hash):
            return None
        return row.user_id, row.csrf_token

    def close_session(self, token_hash: str, audit: AuditEntry) -> None:
        """End a session."""
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))
            append_audit(conn, audit)

    def add_token(
        self,
        token_hash: str,
        user_id: str,
        name: str,
        at: datetime,
        until: datetime,
        audit: AuditEntry,
        checked: str,
    ) -> None:
        """Store an API token (by its hash) issued on the password hash `checked`."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_hash=token_hash,
                    user_id=user_id,
                    name=name,
                    created_at=at.astimezone(UTC),
                    expires_at=until.astimezone(UTC),
                    revoked=False,
                    credential=credential(checked),
                )
            )
            append_audit(conn, audit)

    def token_user(self, token_hash: str, now: datetime) -> str | None:
        """The user of an API token valid at `now` (not revoked, user active, password still
        the one it was issued on)."""
        t = api_tokens.c
        query = (
            select(t.user_id, t.expires_at, t.credential, users.c.password_hash)
            .join(users, users.c.user_id == t.user_id)
            .where((t.token_hash == token_hash) & ~t.revoked & users.c.active)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or utc(row.expires_at) <= now:
            return None
        if row.credential != credential(row.password_hash):
            return None
        return str(row.user_id)


def _lock_administrators(conn: Connection) -> None:
    """Hold the active administrators' rows until the transaction ends (PostgreSQL; SQLite
    holds the whole database from the first write): two administrators taking the role
    from each other at once are decided one after the other."""
    if conn.dialect.name == "postgresql":
        admins = (users.c.role == Role.ADMIN.value) & users.c.active
        # FOR NO KEY UPDATE, in one order: two such changes wait for each other, while the
        # administrators' sign-ins (whose inserts take a key-share lock) go on.
        held = select(users.c.user_id).where(admins).order_by(users.c.user_id)
        conn.execute(held.with_for_update(key_share=True))


def _refuse_no_administrator(conn: Connection) -> None:
    """Refuse (rolling back) a change that leaves no active administrator: nobody could
    administer the users again but at the console."""
    admins = (users.c.role == Role.ADMIN.value) & users.c.active
    if conn.execute(select(func.count()).where(admins)).scalar_one() == 0:
        raise IdentityConflict(
            "no active administrator would be left: make another user an administrator first"
        )


def _end_access(conn: Connection, user_id: str) -> None:
    """End a user's sessions and revoke their tokens for good."""
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
    conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id).values(revoked=True))


def _refuse_clashes(conn: Connection, user: UserRecord) -> None:
    """Refuse a new user whose id is taken in any case, or whose team or agency is unknown."""
    taken = select(users.c.user_id).where(func.lower(users.c.user_id) == user.user_id.lower())
    if conn.execute(taken).first() is not None:
        raise IdentityConflict("user id {user_id} is taken", user_id=repr(user.user_id.lower()))
    _refuse_unknown_places(conn, user)


def _refuse_unknown_places(conn: Connection, user: UserRecord) -> None:
    """Refuse a user whose team or agency does not exist."""
    if user.team_id is not None:
        known = conn.execute(select(teams.c.team_id).where(teams.c.team_id == user.team_id))
        if known.first() is None:
            raise IdentityConflict("team {team_id} does not exist", team_id=repr(user.team_id))
    if user.agency_id is not None:
        found = select(agencies.c.agency_id).where(agencies.c.agency_id == user.agency_id)
        if conn.execute(found).first() is None:
            raise IdentityConflict(
                "agency {agency_id} does not exist", agency_id=repr(user.agency_id)
            )


def agency_of(row: Row[Any]) -> Agency:
    """An agency as its row holds it."""
    return Agency(
        agency_id=row.agency_id,
        name=row.name,
        commission_rate=row.commission_rate,
        listed=bool(row.listed),
        evaluated_on=row.evaluated_on,
    )


def _user(row: Row[Any]) -> UserRecord:
    return UserRecord(
        user_id=row.user_id,
        display_name=row.display_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        team_id=row.team_id,
        agency_id=row.agency_id,
        locale=row.locale,
        active=bool(row.active),
    )
