"""Account changes in the audit log and the administrator's refusals in the reader's
language, on SQLite and on PostgreSQL."""

from html import unescape

from arrears.entrypoints.demo_staff import DEMO_PASSWORD
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


def test_the_administrators_refusals_read_in_the_pages_language(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("admin")
    headers = {"X-CSRF-Token": csrf}
    form = {"user_id": "Alice", "display_name": "x", "role": "collector",
            "password": DEMO_PASSWORD, "team_id": "team-east"}  # fmt: skip
    expected = {
        "zh-CN": ("用户名 'Alice' 不符合规则", "不能停用自己的账号", "用户 'nobody' 不存在"),
        "zh-TW": ("使用者名稱 'Alice' 不符合規則", "不能停用自己的帳號", "使用者 'nobody' 不存在"),
        "en": ("user id 'Alice' is not allowed", "you cannot disable your own account",
               "user 'nobody' is not known"),
    }  # fmt: skip
    for locale, (bad_id, itself, unknown) in expected.items():
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        for extra in ({}, {"HX-Request": "true"}):  # the page, and htmx's fragment
            refused = client.post("/admin/users", headers=headers | extra, data=form)
            assert refused.status_code == 422
            assert bad_id in unescape(refused.text), (locale, refused.text)
        mine = client.post("/admin/users/admin/active", headers=headers, data={"active": "false"})
        assert (mine.status_code, itself in unescape(mine.text)) == (422, True), locale
        nobody = client.post("/admin/users/nobody/active", headers=headers, data={"active": "true"})
        assert (nobody.status_code, unknown in unescape(nobody.text)) == (404, True), locale
    api = staffed.client().post("/api/v1/users", headers=staffed.bearer("admin"), json=form)
    assert api.json()["error"].startswith("user id 'Alice' is not allowed")  # the API: English


def test_an_invalid_form_reads_in_the_pages_language(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("admin")
    headers = {"X-CSRF-Token": csrf}
    long_name = {"user_id": "alice", "display_name": "名" * 101, "role": "collector",
                 "password": DEMO_PASSWORD, "team_id": "team-east"}  # fmt: skip
    nul = {**long_name, "display_name": "ab\x00c"}
    missing = {k: v for k, v in {**long_name, "display_name": "A"}.items() if k != "role"}
    expected = {
        "zh-CN": ("请求无效：body.display_name: 最多 100 个字符",
                  "body.display_name: 第 3 个字符是 NUL 字符（U+0000）", "body.role: 为必填项"),
        "zh-TW": ("請求無效：body.display_name: 最多 100 個字元",
                  "body.display_name: 第 3 個字元是 NUL 字元（U+0000）", "body.role: 為必填項"),
        "en": ("invalid request: body.display_name: may hold at most 100 characters",
               "body.display_name: holds a NUL character (U+0000) at character 3",
               "body.role: is required"),
    }  # fmt: skip
    for locale, texts in expected.items():
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        for form, text in zip((long_name, nul, missing), texts, strict=True):
            for extra in ({}, {"HX-Request": "true"}):  # the page, and htmx's fragment
                refused = client.post("/admin/users", headers=headers | extra, data=form)
                assert refused.status_code == 422
                assert text in unescape(refused.text), (locale, refused.text)
    api = staffed.client().post("/api/v1/users", headers=staffed.bearer("admin"), json=missing)
    assert api.json()["error"] == "invalid request: body.role: Field required"  # the API's
    assert staffed.app.identity.user("alice") is None
