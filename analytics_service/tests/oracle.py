"""Brute force over the raw transactions, in plain Python: what every analytics view must answer.

Deliberately independent of the service's code (no rollups, no pandas): it walks the list of live
transactions for every question. Answers have the exact JSON shape of the API, so tests compare whole
responses. Shared with the service are only the platform's published rules: round half up to the
currency's minor unit (shared.money.round_money), ratios to four places, ranges inclusive.
"""

import statistics
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.events import TransactionSnapshot
from shared.money import round_money

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Z = Decimal(0)


def m(amount: Decimal, currency: str) -> str:
    return format(round_money(amount, currency), "f")


def q4(numerator: Decimal, denominator: Decimal) -> str | None:
    if not denominator:
        return None
    return format((numerator / denominator).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "f")


def avg(total: Decimal, days: int, currency: str) -> str | None:
    return m(total / days, currency) if days else None


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def first_of_month(day: date, shift: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def label(category_id: str | None, name: str) -> str:
    return name or ("Uncategorized" if category_id is None else category_id)


class Oracle:
    def __init__(self, live: list[TransactionSnapshot], today: date, timezone: str) -> None:
        self.live, self.today, self.timezone = live, today, timezone

    def within(self, start: date, end: date, **match: str) -> list[TransactionSnapshot]:
        return [t for t in self.live if start <= t.occurred_date <= end
                and all(getattr(t, k) == v for k, v in match.items())]

    def spending(self, start: date, end: date, currency: str) -> list[tuple[str | None, str, Decimal, int]]:
        sums: dict[str | None, list[Any]] = {}
        for t in self.within(start, end, currency=currency, type="expense"):
            entry = sums.setdefault(t.category_id, [label(t.category_id, t.category_name), Z, 0])
            entry[1] += t.amount
            entry[2] += 1
        return sorted(((cid, n, a, c) for cid, (n, a, c) in sums.items()), key=lambda r: (-r[2], r[0] or ""))

    def summary(self, start: date, end: date) -> dict[str, Any]:
        elapsed = 0 if start > self.today else (min(end, self.today) - start).days + 1
        out = []
        for cur in sorted({t.currency for t in self.within(start, end)}):
            inc = self.within(start, end, currency=cur, type="income")
            exp = self.within(start, end, currency=cur, type="expense")
            income, expense = sum((t.amount for t in inc), Z), sum((t.amount for t in exp), Z)
            out.append({
                "currency": cur, "income": m(income, cur), "expense": m(expense, cur), "net": m(income - expense, cur),
                "savings_rate": q4(income - expense, income), "count": len(inc) + len(exp), "income_count": len(inc),
                "expense_count": len(exp), "average_daily_expense": avg(expense, elapsed, cur),
                "average_daily_income": avg(income, elapsed, cur),
                "categories": [{"category_id": cid, "category_name": n, "amount": m(a, cur), "count": c,
                                "share": q4(a, expense)} for cid, n, a, c in self.spending(start, end, cur)]})
        return {"from_date": start.isoformat(), "to_date": end.isoformat(), "days": (end - start).days + 1,
                "elapsed_days": elapsed, "timezone": self.timezone, "currencies": out}

    def trends(self, granularity: str, start: date, end: date) -> dict[str, Any]:
        def key(day: date) -> str:
            if granularity == "day":
                return day.isoformat()
            if granularity == "week":
                year, week, _ = day.isocalendar()
                return f"{year:04d}-W{week:02d}"
            return f"{day.year:04d}-{day.month:02d}"

        series = []
        for cur in sorted({t.currency for t in self.within(start, end)}):
            points: dict[str, dict[str, Any]] = {}
            for day in days_of(start, end):
                point = points.setdefault(key(day), {"start": day, "income": Z, "expense": Z, "count": 0})
                point["end"] = day
            for t in self.within(start, end, currency=cur):
                point = points[key(t.occurred_date)]
                point[t.type] += t.amount
                point["count"] += 1
            series.append({"currency": cur, "points": [
                {"period": k, "start_date": p["start"].isoformat(), "end_date": p["end"].isoformat(),
                 "income": m(p["income"], cur), "expense": m(p["expense"], cur),
                 "net": m(p["income"] - p["expense"], cur), "count": p["count"]} for k, p in points.items()]})
        return {"granularity": granularity, "from_date": start.isoformat(), "to_date": end.isoformat(),
                "series": series}

    def categories(self, start: date, end: date) -> dict[str, Any]:
        length = (end - start).days + 1
        p_start, p_end = start - timedelta(days=length), start - timedelta(days=1)
        out = []
        expense_currencies = {t.currency for t in self.within(start, end, type="expense")}
        expense_currencies |= {t.currency for t in self.within(p_start, p_end, type="expense")}
        for cur in sorted(expense_currencies):
            now, before = self.spending(start, end, cur), self.spending(p_start, p_end, cur)
            was = {r[0]: r[2] for r in before}
            total, previous_total = sum((r[2] for r in now), Z), sum((r[2] for r in before), Z)
            rows = now + [(cid, n, Z, 0) for cid, n, _, _ in before if cid not in {r[0] for r in now}]
            out.append({"currency": cur, "total": m(total, cur), "previous_total": m(previous_total, cur),
                        "categories": [
                            {"rank": i, "category_id": cid, "category_name": n, "amount": m(a, cur), "count": c,
                             "share": q4(a, total) or "0.0000", "previous_amount": m(was.get(cid, Z), cur),
                             "change": m(a - was.get(cid, Z), cur),
                             "change_ratio": q4(a - was.get(cid, Z), was.get(cid, Z))}
                            for i, (cid, n, a, c) in enumerate(rows, start=1)]})
        return {"from_date": start.isoformat(), "to_date": end.isoformat(), "previous_from_date": p_start.isoformat(),
                "previous_to_date": p_end.isoformat(), "currencies": out}

    def patterns(self, start: date, end: date) -> dict[str, Any]:
        span = days_of(start, end)
        out = []
        for cur in sorted({t.currency for t in self.within(start, end)}):
            exp = self.within(start, end, currency=cur, type="expense")
            by_weekday = [{"weekday": w + 1, "name": WEEKDAYS[w], "total": sum((t.amount for t in exp
                           if t.occurred_date.weekday() == w), Z), "days": sum(1 for d in span if d.weekday() == w)}
                          for w in range(7)]
            by_day = [{"day": k, "total": sum((t.amount for t in exp if t.occurred_date.day == k), Z),
                       "days": sum(1 for d in span if d.day == k)} for k in range(1, 32)]
            for row in by_weekday + by_day:
                row["average"] = avg(row["total"], row["days"], cur)
                row["total"] = m(row["total"], cur)
            we = [t.amount for t in exp if t.occurred_date.weekday() >= 5]
            wd = [t.amount for t in exp if t.occurred_date.weekday() < 5]
            we_days = sum(1 for d in span if d.weekday() >= 5)
            we_avg, wd_avg = avg(sum(we, Z), we_days, cur), avg(sum(wd, Z), len(span) - we_days, cur)
            out.append({"currency": cur, "by_weekday": by_weekday, "by_day_of_month": by_day, "weekend_vs_weekday": {
                "weekend_total": m(sum(we, Z), cur), "weekend_days": we_days, "weekend_average": we_avg,
                "weekday_total": m(sum(wd, Z), cur), "weekday_days": len(span) - we_days, "weekday_average": wd_avg,
                "ratio": q4(Decimal(we_avg), Decimal(wd_avg)) if we_avg is not None and wd_avg is not None else None}})
        return {"from_date": start.isoformat(), "to_date": end.isoformat(), "currencies": out}

    def top(self, limit: int, start: date, end: date) -> dict[str, Any]:
        out = []
        for cur in sorted({t.currency for t in self.within(start, end, type="expense")}):
            ranked = sorted(self.within(start, end, currency=cur, type="expense"),
                            key=lambda t: (-t.amount, -t.occurred_date.toordinal(), t.id))[:limit]
            out.append({"currency": cur, "items": [
                {"id": t.id, "amount": m(t.amount, cur), "currency": cur, "category_id": t.category_id,
                 "category_name": label(t.category_id, t.category_name), "occurred_date": t.occurred_date.isoformat(),
                 "description": t.description} for t in ranked]})
        return {"from_date": start.isoformat(), "to_date": end.isoformat(), "limit": limit, "currencies": out}

    def insights(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(currency, kind, numbers) in the order the API lists them."""
        today = self.today
        mtd_start, last, before = first_of_month(today), first_of_month(today, -1), first_of_month(today, -2)
        last_end, before_end = mtd_start - timedelta(days=1), last - timedelta(days=1)
        recent = days_of(today - timedelta(days=89), today)
        found: list[tuple[str, str, dict[str, Any]]] = []
        currencies = {t.currency for t in self.live}
        for cur in sorted(currencies):
            mtd = self.spending(mtd_start, today, cur)
            if mtd:
                total = sum((r[2] for r in mtd), Z)
                cid, n, a, _ = mtd[0]
                found.append((cur, "top_category", {
                    "category_id": cid, "category_name": n, "amount": m(a, cur), "total": m(total, cur),
                    "share": q4(a, total), "from_date": mtd_start.isoformat(), "to_date": today.isoformat()}))
            now = {r[0]: r for r in self.spending(last, last_end, cur)}
            was = {r[0]: r for r in self.spending(before, before_end, cur)}
            changes = []
            for cid in set(now) | set(was):
                a, b = (now[cid][2] if cid in now else Z), (was[cid][2] if cid in was else Z)
                if a != b:
                    changes.append((cid, (now.get(cid) or was[cid])[1], a, b))
            changes.sort(key=lambda r: (-abs(r[2] - r[3]), r[0] or ""))
            for cid, n, a, b in changes[:3]:
                found.append((cur, "category_change", {
                    "category_id": cid, "category_name": n, "month": last.isoformat()[:7],
                    "previous_month": before.isoformat()[:7], "amount": m(a, cur), "previous_amount": m(b, cur),
                    "change": m(a - b, cur), "change_ratio": q4(a - b, b)}))
            daily = {d: Z for d in recent}
            for t in self.within(recent[0], today, currency=cur, type="expense"):
                daily[t.occurred_date] += t.amount
            has_any = bool(self.within(recent[0], today, currency=cur))
            we_total = sum((v for d, v in daily.items() if d.weekday() >= 5), Z)
            wd_total = sum((v for d, v in daily.items() if d.weekday() < 5), Z)
            if has_any and (we_total or wd_total):
                we_days = sum(1 for d in recent if d.weekday() >= 5)
                we_avg, wd_avg = avg(we_total, we_days, cur), avg(wd_total, 90 - we_days, cur)
                found.append((cur, "weekend_vs_weekday", {
                    "weekend_total": m(we_total, cur), "weekend_days": we_days, "weekend_average": we_avg,
                    "weekday_total": m(wd_total, cur), "weekday_days": 90 - we_days, "weekday_average": wd_avg,
                    "ratio": q4(Decimal(we_avg), Decimal(wd_avg))}))
            spent = [(d, v) for d, v in sorted(daily.items()) if v]
            if has_any and len(spent) >= 7:
                values = [float(v) for _, v in spent]
                med = statistics.median(values)
                mad = statistics.median([abs(x - med) for x in values])
                if mad:
                    scored = [(0.6745 * (float(v) - med) / mad, d, v) for d, v in spent]
                    flagged = sorted((s for s in scored if s[0] > 3.5), key=lambda s: -s[0])[:3]
                    typical = m(statistics.median([v for _, v in spent]), cur)
                    for z, d, v in flagged:
                        found.append((cur, "unusual_day", {"date": d.isoformat(), "amount": m(v, cur),
                                                           "median": typical, "z_score": f"{z:.2f}"}))
            so_far = sum((r[2] for r in mtd), Z)
            last_total = sum((r[2] for r in now.values()), Z)
            if so_far or last_total:
                length = (first_of_month(today, 1) - mtd_start).days
                projected = round_money(so_far * length / today.day, cur)
                found.append((cur, "month_end_projection", {
                    "month_to_date": m(so_far, cur), "days_elapsed": today.day, "days_in_month": length,
                    "projected": m(projected, cur), "last_month": m(last_total, cur),
                    "change": m(projected - last_total, cur), "change_ratio": q4(projected - last_total, last_total)}))
        return found
