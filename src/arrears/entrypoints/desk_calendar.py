"""The desk's calendar day: the lender's local day ($ARREARS_DESK_ZONE, else Asia/Shanghai),
which the pages, the API and the console's staff commands take as today (a promise "made
today", an agency evaluated "today")."""

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

DESK_ZONE_ENV = "ARREARS_DESK_ZONE"
DESK_ZONE = "Asia/Shanghai"


def desk_zone() -> ZoneInfo:
    """The desk's time zone."""
    return ZoneInfo(os.environ.get(DESK_ZONE_ENV, DESK_ZONE))


def desk_day(now: datetime) -> date:
    """Today on the desk's calendar."""
    return now.astimezone(desk_zone()).date()
