"""The accounting days the product takes: any date outside them is a typing mistake, not a loan."""

from datetime import date

# Feeds and the command line agree: a day a feed cannot hold cannot be run or looked at
# either (an `--as-of 2205-11-18` typed for 2025 would run the book ahead for good: every
# later run is refused as moving it back). Well inside Python's dates, so a run counting
# back (contact history) or forward (schedules, holds) from its day stays in range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
