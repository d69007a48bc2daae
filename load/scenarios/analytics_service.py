"""analytics_service: a dashboard over a year of seeded transactions — summaries of a month, a quarter and
the year, trends by day, week and month, category rankings, patterns, top expenses, insights, exports.

(POST /api/analytics/rebuild is a repair operation that reads everything back from expense_service: left out.)
"""

import random
from datetime import date, timedelta

from locust import task

from load.base import ApiUser
from load.data import month_range


def a_range() -> dict[str, str]:
    """This month, a past month, the last quarter or the last year: what a dashboard asks for."""
    today = date.today()
    choice = random.random()
    if choice < 0.4:
        first, last = month_range(0 if choice < 0.25 else random.randrange(1, 12))
    elif choice < 0.75:
        first, last = today - timedelta(days=90), today
    else:
        first, last = today - timedelta(days=365), today
    return {"from": first.isoformat(), "to": last.isoformat()}


class AnalyticsUser(ApiUser):
    @task(6)
    def summary(self) -> None:
        self.get("/api/analytics/summary", name="/api/analytics/summary", params=a_range())

    @task(4)
    def monthly_trends(self) -> None:
        today = date.today()
        self.get("/api/analytics/trends", name="/api/analytics/trends?granularity=month",
                 params={"granularity": "month", "from": (today - timedelta(days=365)).isoformat(),
                         "to": today.isoformat()})

    @task(2)
    def daily_and_weekly_trends(self) -> None:
        granularity = random.choice(("day", "week"))
        self.get("/api/analytics/trends", name=f"/api/analytics/trends?granularity={granularity}",
                 params={"granularity": granularity, **a_range()})

    @task(4)
    def categories(self) -> None:
        self.get("/api/analytics/categories", name="/api/analytics/categories", params=a_range())

    @task(2)
    def patterns(self) -> None:
        self.get("/api/analytics/patterns", name="/api/analytics/patterns", params=a_range())

    @task(3)
    def top(self) -> None:
        self.get("/api/analytics/top", name="/api/analytics/top", params={"limit": 10, **a_range()})

    @task(2)
    def insights(self) -> None:
        self.get("/api/analytics/insights", name="/api/analytics/insights")

    @task(1)
    def export_csv(self) -> None:
        view = random.choice(("summary", "categories", "trends", "top"))
        self.get("/api/analytics/export", name="/api/analytics/export?format=csv",
                 params={"format": "csv", "view": view, **a_range()})

    @task(1)
    def export_xlsx(self) -> None:
        self.get("/api/analytics/export", name="/api/analytics/export?format=xlsx",
                 params={"format": "xlsx", **a_range()})
