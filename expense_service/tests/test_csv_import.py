"""CSV import: row-numbered errors and all-or-nothing, dry run, no duplicates on re-import, events, body limits."""

import asyncio

from expense_service.tests.helpers import EXPENSES, client, db, start

IMPORT = f"{EXPENSES}/import"
CSV = {"content-type": "text/csv"}
GOOD = (
    "date,type,amount,currency,category,description,payment_method,tags,notes\r\n"
    "2024-03-01,expense,12.50,EUR,Food,Lunch,card,\"work,team\",\r\n"
    "2024-03-01,expense,12.50,EUR,Food,Lunch,card,\"work,team\",\r\n"  # the same lunch twice that day: both kept
    "2024-03-02,income,2500,USD,salary,March salary,,,\r\n"
    "\r\n"
    "2024-03-03,expense,700,JPY,,\"Ramen, large\",cash,,'=not a formula\r\n"
)


async def test_import_with_bad_rows_reports_each_row_and_field_and_imports_nothing(stack):
    await start(stack)
    spy = await stack.spy("expense.created")
    api = client(stack, "alice")
    bad = GOOD.replace("2500,USD", "12.345,EUR", 1) + "2024-02-30,expense,1.00,EUR,food,,,,\r\n" + \
        "2024-03-04,expense,1.00,EUR,salary,,,,\r\n" + "2024-03-04,transfer,-1,XXX,food,,,,\r\n"
    r = await api.post(IMPORT, content=bad, headers=CSV)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(4, "amount"), (7, "occurred_date"), (8, "category"), (9, "type"), (9, "amount"),
                      (9, "currency")}, r.json()
    assert "4 row(s)" in r.json()["detail"]

    header_wrong = await api.post(IMPORT, content="date,type,amount,colour\r\n2024-01-01,expense,1,red\r\n",
                                  headers=CSV)
    assert header_wrong.status_code == 422 and header_wrong.json()["errors"][0] == {
        "row": 1, "field": "colour", "message": "unknown column"}
    missing = await api.post(IMPORT, content="type,amount\r\nexpense,1\r\n", headers=CSV)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "occurred_date"
    for junk in (b"\xff\xfe\x00garbage", b"", b"date,type,amount\r\n2024-01-01,expense,1,extra\r\n",
                 b"date,type,amount\r\n\"unterminated,expense,1\r\n" + b"x" * 200_000):
        r = await api.post(IMPORT, content=junk, headers=CSV)
        assert r.status_code == 422, (junk[:40], r.status_code, r.text[:300])

    assert (await api.get(EXPENSES)).json()["total"] == 0
    # Nothing was emitted either: the next real change is the first event.
    await api.post(EXPENSES, json={"type": "expense", "amount": "1.00", "description": "sentinel"})
    [event] = await spy.wait_for("expense.created")
    assert event["data"]["expense"]["description"] == "sentinel"


async def test_dry_run_imports_nothing_and_a_reimport_creates_no_duplicates(stack):
    await start(stack)
    spy = await stack.spy("expense.created")
    api = client(stack, "alice")

    dry = await api.post(IMPORT, params={"dry_run": "true"}, content=GOOD, headers=CSV)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"dry_run": True, "rows": 4, "imported": 4, "duplicates": 0, "totals": [
        {"currency": "EUR", "income": "0.00", "expense": "25.00", "net": "-25.00", "count": 2},
        {"currency": "JPY", "income": "0", "expense": "700", "net": "-700", "count": 1},
        {"currency": "USD", "income": "2500.00", "expense": "0.00", "net": "2500.00", "count": 1}]}
    assert (await api.get(EXPENSES)).json()["total"] == 0

    real = await api.post(IMPORT, content=GOOD, headers=CSV)
    assert real.status_code == 200 and real.json()["imported"] == 4 and not real.json()["dry_run"]
    page = (await api.get(EXPENSES, params={"sort": "date", "order": "asc"})).json()
    assert page["total"] == 4
    ramen = page["items"][-1]
    assert ramen["description"] == "Ramen, large" and ramen["category"] == "other" and ramen["currency"] == "JPY"
    assert ramen["notes"] == "=not a formula"  # the export's formula guard is taken off again
    assert page["items"][0]["tags"] == ["work", "team"]
    events = await spy.wait_for("expense.created", 4)
    assert {e["data"]["expense"]["id"] for e in events} == {t["id"] for t in page["items"]}

    again = await api.post(IMPORT, content=GOOD, headers=CSV)
    assert again.json() == {**real.json(), "imported": 0, "duplicates": 4, "totals": []}
    overlapping = GOOD + "2024-03-05,expense,3.00,EUR,transport,Bus,,,\r\n"
    more = await api.post(IMPORT, content=overlapping, headers=CSV)
    assert more.json()["imported"] == 1 and more.json()["duplicates"] == 4
    assert (await api.get(EXPENSES)).json()["total"] == 5
    # Another user importing the same file gets their own copies.
    assert (await client(stack, "bob").post(IMPORT, content=GOOD, headers=CSV)).json()["imported"] == 4
    # Every imported row's event was written with it (4 + 1 + bob's 4).
    assert await db(stack)["outbox"].count_documents({"routing_key": "expense.created"}) == 9


async def test_import_takes_multipart_and_large_bodies_but_refuses_oversized_ones(stack):
    await start(stack)
    api = client(stack, "alice")
    r = await api.post(IMPORT, files={"file": ("march.csv", GOOD.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["imported"] == 4, r.text
    assert (await api.post(IMPORT, files={"other": ("x.csv", b"a", "text/csv")})).status_code == 422
    assert (await api.post(IMPORT, json={"rows": []})).status_code == 415

    # 2.7 MB — beyond the platform's 1 MiB default, within this service's 5 MiB — is read and validated.
    line = "2024-03-01,expense,1.00,EUR,food," + "d" * 250 + ",,,\r\n"
    big = GOOD.split("\r\n")[0] + "\r\n" + line * 10_000
    assert 2_500_000 < len(big) < 5 * 1024 * 1024
    r = await api.post(IMPORT, params={"dry_run": "true"}, content=big, headers=CSV, timeout=60)
    assert r.status_code == 200 and r.json()["rows"] == 10_000, r.text[:300]
    too_many = await api.post(IMPORT, params={"dry_run": "true"}, content=big + line, headers=CSV, timeout=60)
    assert too_many.status_code == 422 and "at most 10000" in too_many.json()["detail"]

    # Over the limit: answered 413 as soon as the headers (or the first 5 MiB of a chunked body) arrive.
    # Raw sockets, because an HTTP client busy sending the rest would not read the early answer.
    url = stack.services["expense_service"].url
    token = stack.auth("alice")["Authorization"]
    status, body = await raw_post(url, IMPORT, token, [], length=10 * 1000 * 1000)  # 10 MB declared
    assert status == 413 and b"application/problem+json" in body
    row = b"2024-03-01,expense,1.00\r\n" * 1000
    just_over = [row] * (5 * 1024 * 1024 // len(row) + 2)
    status, _ = await raw_post(url, IMPORT, token, just_over, length=None)  # chunked, no Content-Length
    assert status == 413
    assert (await api.get(EXPENSES)).json()["total"] == 4


async def raw_post(base_url: str, path: str, token: str, chunks: list[bytes], *, length: int | None
                   ) -> tuple[int, bytes]:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
                 f"Content-Type: text/csv\r\n{framing}\r\n\r\n".encode())

    for chunk in chunks:  # then stop sending, so the server has read all there is when it answers
        writer.write(chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        body = await asyncio.wait_for(reader.read(4096), 5)
    finally:
        writer.close()
    return int(head.split(b" ")[1]), head + body
