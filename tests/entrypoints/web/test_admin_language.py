"""Account changes in the audit log and the administrator's refusals in the reader's
language, on SQLite and on PostgreSQL."""

from tests.entrypoints.web.desk_book import Desk


def test_changing_ones_language_is_audited(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("col-east-1")
    log = staffed.app.audit_log
    for locale in ("en", "en", "zh-TW"):  # the same language again changes nothing
        moved = client.post("/me/locale", data={"locale": locale, "csrf_token": csrf},
                            follow_redirects=False)  # fmt: skip
        assert moved.status_code == 303
    before = len(log.entries(subject="user:col-east-1"))
    refused = client.post("/me/locale", data={"locale": "fr", "csrf_token": csrf})
    assert refused.status_code == 422
    entries = [e.entry for e in log.entries(subject="user:col-east-1")]
    assert len(entries) == before  # nothing written for a refused language
    changes = [(e.actor, e.detail) for e in entries if e.action == "user.locale"]
    assert changes == [
        ("col-east-1", {"from": "zh-CN", "to": "en"}),
        ("col-east-1", {"from": "en", "to": "zh-TW"}),
    ]
    assert staffed.app.identity.user("col-east-1").locale == "zh-TW"  # type: ignore[union-attr]
    page, _ = staffed.signed_in("compliance")
    assert "切换界面语言" in page.get("/audit?subject=user:col-east-1").text
