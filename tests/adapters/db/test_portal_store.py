"""The portal's links and sessions on SQLite and PostgreSQL: a link opens one session however
many ask with it at once, only for its own borrower, and nothing once its time is up."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import audit_log
from arrears.adapters.db.portal_store import SqlPortalStore
from arrears.domain.audit_chain import AuditEntry
from arrears.services.identity import digest
from arrears.services.portal import (
    PortalGrant,
    PortalRefused,
    PortalSession,
    issue_link,
    open_link,
    portal_session,
)

AT = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)


def seeded(engine: Engine) -> SqlPortalStore:
    with engine.begin() as conn:
        conn.execute(insert(tables.borrowers), [
            {"borrower_id": "B1", "name": "张三", "phone": "+8613800000001", "locale": "zh-CN"},
            {"borrower_id": "B2", "name": "李四", "phone": "+8613800000002", "locale": None},
        ])  # fmt: skip
        conn.execute(insert(tables.loans), [
            {"loan_id": "L2", "borrower_id": "B1", "product": "cn-cash", "currency": "CNY",
             "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2025, 3, 1)},
            {"loan_id": "L1", "borrower_id": "B1", "product": "cn-cash", "currency": "CNY",
             "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2025, 5, 1)},
            {"loan_id": "L3", "borrower_id": "B2", "product": "cn-cash", "currency": "CNY",
             "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2025, 1, 1)},
        ])  # fmt: skip
    return SqlPortalStore(engine)


def count(engine: Engine, table: object, where: object = None) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    with engine.connect() as conn:
        return int(conn.execute(query if where is None else query.where(where)).scalar_one())  # type: ignore[arg-type]


def test_two_requests_with_one_link_open_one_session(migrated: Engine) -> None:
    store = seeded(migrated)
    token, _ = issue_link(store, "B1", 60, AT, "setup")
    both_looked = threading.Barrier(2, timeout=10)
    looked = store.link_borrower

    def look_then_wait(link_hash: str, now: datetime) -> str | None:
        found = looked(link_hash, now)
        both_looked.wait()  # each has seen the link still open before either uses it
        return found

    store.link_borrower = look_then_wait  # type: ignore[method-assign]
    grants: list[PortalGrant] = []
    refused: list[Exception] = []

    def use() -> None:
        try:
            grants.append(open_link(store, token, AT + timedelta(seconds=1), "zh-CN"))
        except PortalRefused as error:
            refused.append(error)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert (len(grants), len(refused)) == (1, 1)
    assert count(migrated, tables.portal_sessions) == 1
    assert count(migrated, audit_log, audit_log.c.action == "portal.sign_in") == 1
    assert portal_session(store, grants[0].token, AT + timedelta(minutes=29)) is not None


def test_a_link_opens_only_its_own_borrowers_session(migrated: Engine) -> None:
    store = seeded(migrated)
    token, _ = issue_link(store, "B1", 60, AT, "setup")
    theirs = PortalSession("B2", "c" * 43, "zh-CN", AT + timedelta(minutes=30))
    entry = AuditEntry(AT, "portal:borrower", "portal.sign_in", "borrower:B2", {})
    assert not store.redeem(digest(token), AT, theirs, digest("other"), entry)
    assert count(migrated, tables.portal_sessions) == 0
    assert store.link_borrower(digest(token), AT) == "B1"  # still unused


def test_a_link_opens_until_its_last_instant_only(migrated: Engine) -> None:
    store = seeded(migrated)
    token, until = issue_link(store, "B1", 5, AT, "setup")
    assert until == AT + timedelta(minutes=5)
    assert store.link_borrower(digest(token), until - timedelta(microseconds=1)) == "B1"
    assert store.link_borrower(digest(token), until) is None
    with pytest.raises(PortalRefused):
        open_link(store, token, until, "zh-CN")
    grant = open_link(store, token, until - timedelta(seconds=1), "en")
    assert grant.session.locale == "zh-CN"  # the borrower's on record, not the browser's
    assert grant.session.expires_at == until - timedelta(seconds=1) + timedelta(minutes=30)
    assert portal_session(store, grant.token, grant.session.expires_at) is None


def test_a_borrowers_loans_come_by_contract_date(migrated: Engine) -> None:
    store = seeded(migrated)
    assert store.loan_ids("B1") == ["L2", "L1"]
    assert store.loan_ids("B9") == []


def test_links_and_sessions_over_are_dropped_when_a_link_is_made(migrated: Engine) -> None:
    store = seeded(migrated)
    used, _ = issue_link(store, "B1", 5, AT, "setup")
    grant = open_link(store, used, AT, "zh-CN")  # its session ends at AT + 30 minutes
    unused, _ = issue_link(store, "B2", 60, AT, "setup")
    issue_link(store, "B2", 60, AT + timedelta(minutes=30), "setup")
    assert count(migrated, tables.portal_sessions) == 0
    assert portal_session(store, grant.token, AT) is None
    assert count(migrated, tables.portal_links) == 2  # the hour-long one, and the new one
    assert store.link_borrower(digest(unused), AT + timedelta(minutes=30)) == "B2"
