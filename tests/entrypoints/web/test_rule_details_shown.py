"""A contact rule's detail is shown in the reader's language (the API keeps the English)."""

import html

import pytest

from arrears.entrypoints.web.page_render import rule_detail
from tests.entrypoints.web.desk_book import NIGHT_TIME, Desk
from tests.entrypoints.web.test_casework_flows import my_case

SAID = {
    "zh-CN": "当地时间 22:00-08:00 不得联系（Asia/Shanghai）；处于禁止联系时段："
    "Asia/Shanghai 22:30",
    "zh-TW": "當地時間 22:00-08:00 不得聯繫（Asia/Shanghai）；處於禁止聯繫時段："
    "Asia/Shanghai 22:30",
    "en": "no contact 22:00-08:00 local time (Asia/Shanghai); quiet: 22:30 in Asia/Shanghai",
}


@pytest.mark.parametrize("locale", sorted(SAID))
def test_a_call_in_quiet_hours_is_flagged_with_the_rules_words_in_the_readers_language(
    desk: Desk, locale: str
) -> None:
    loan_id = my_case(desk)
    desk.now = NIGHT_TIME  # 22:30 in Shanghai
    client, csrf = desk.signed_in("col-east-1")
    client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
    logged = client.post(f"/cases/{loan_id}/contacts", headers={"X-CSRF-Token": csrf},
                         data={"channel": "call", "outcome": "connected"})  # fmt: skip
    assert logged.status_code == 200, logged.text
    shown = html.unescape(logged.text)
    assert SAID[locale] in shown
    if locale != "en":
        assert SAID["en"] not in shown
    panel = html.unescape(client.get(f"/cases/{loan_id}/may-contact").text)
    assert SAID[locale] in panel  # "may I call now?" no, and why
    api = desk.client().get(f"/api/v1/cases/{loan_id}/may-contact",
                            headers=desk.bearer("col-east-1"))  # fmt: skip
    assert SAID["en"] in api.text  # the API keeps the words as the check said them


def test_a_detail_not_worded_by_a_check_is_shown_as_it_is() -> None:
    assert rule_detail("a lender's own words", "zh-CN") == "a lender's own words"
    assert rule_detail("no opt-out of sms", "zh-CN") == "未退订短信"
    assert rule_detail("no dispute/hardship hold on 2025-10-01", "zh-TW") == (
        "2025-10-01 無爭議或困難暫停"
    )
