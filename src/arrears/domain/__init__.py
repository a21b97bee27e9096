"""The pure domain: money, calendar, schedules, delinquency, charges and caps (stdlib only)."""
