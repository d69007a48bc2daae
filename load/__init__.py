"""Load tests: Locust, headless, against ONE service directly (its own port, not the gateway).

`make load SERVICE=expense_service USERS=10 DURATION=30` (or `python -m load expense_service --users 10
--duration 30`) with the stack running (`make run`). Real accounts are registered and signed in through
user_service before the run and deleted after it; requests per second and p50/p95/p99 are printed from
Locust's CSV stats; the HTML report goes to load-reports/<service>.html.

Files: runner.py (arguments, checks, the Locust process), accounts.py (register, sign in, delete through
user_service), seed.py (data a scenario needs before the clock starts), data.py (realistic amounts, dates,
categories, invoice lines), stats.py (reading and printing Locust's CSV), base.py (the Locust user every
scenario extends), scenarios/<service>.py (one per service).
"""
