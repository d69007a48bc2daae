"""Invoices over real HTTP: totals, PDF, numbering under concurrency, idempotent creation, drafts, lists."""

import asyncio

from invoice_service.tests.helpers import THREE_LINES, add_client, create_invoice, pdf_text, set_profile


async def test_three_line_invoice_totals_match_the_hand_computed_example_and_the_pdf_shows_them(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    await set_profile(api)
    invoice = await create_invoice(api, await add_client(api))

    # Line 1 "Design work": 12.5 * 80.00 = 1000.00, no line discount            -> net 1000.00 at 20 %
    # Line 2 "Hosting":     3 * 19.99 = 59.97, minus 10 % (5.997) = 53.973       -> net   53.97 at 10 %
    # Line 3 "Travel":      1 * 45.50 = 45.50, minus the amount 5.50             -> net   40.00 at  0 %
    # Subtotal = 1000.00 + 53.97 + 40.00 = 1093.97
    # Invoice discount 5 % = 54.6985 -> 54.70, allocated pro rata before tax:
    #   1000.00/1093.97 * 54.70 = 50.0014 -> 50.00;  53.97/1093.97 * 54.70 = 2.6986 -> 2.70;
    #   40.00/1093.97 * 54.70 = 2.0001 -> 2.00;      50.00 + 2.70 + 2.00 = 54.70 (no residue)
    # Taxable bases: 950.00 at 20 %, 51.27 at 10 %, 38.00 at 0 %
    # Tax per rate: 950.00 * 20 % = 190.00;  51.27 * 10 % = 5.127 -> 5.13;  38.00 * 0 % = 0.00  -> 195.13
    # Total = 950.00 + 51.27 + 38.00 + 195.13 = 1234.40
    assert [line["net"] for line in invoice["lines"]] == ["1000.00", "53.97", "40.00"]
    assert [line["discount_share"] for line in invoice["lines"]] == ["50.00", "2.70", "2.00"]
    assert invoice["subtotal"] == "1093.97"
    assert invoice["discount_total"] == "54.70"
    assert invoice["tax_lines"] == [{"rate": "20", "base": "950.00", "tax": "190.00"},
                                    {"rate": "10", "base": "51.27", "tax": "5.13"},
                                    {"rate": "0", "base": "38.00", "tax": "0.00"}]
    assert invoice["tax_total"] == "195.13"
    assert (invoice["total"], invoice["amount_paid"], invoice["balance_due"]) == ("1234.40", "0.00", "1234.40")
    assert invoice["number"] == "INV-2026-0001" and invoice["status"] == "draft"

    response = await api.get(f"/api/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="INV-2026-0001.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content)
    for expected in ("INV-2026-0001", "Ada Lovelace Consulting", "Acme Corp",
                     "Design work", "1,000.00", "Hosting", "53.97", "Travel", "40.00",
                     "1,093.97", "-54.70", "190.00", "5.13", "1,234.40"):
        assert expected in text, f"{expected!r} missing from the PDF text:\n{text}"


async def test_fifty_concurrent_creations_get_fifty_distinct_consecutive_numbers(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"), timeout=60)
    client_id = await add_client(api)
    body = {"client_id": client_id, "issue_date": "2026-05-04", "currency": "EUR", "lines": THREE_LINES[:1]}

    responses = await asyncio.gather(*(api.post("/api/invoices", json=body) for _ in range(50)))

    assert [r.status_code for r in responses] == [201] * 50
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == [f"INV-2026-{seq:04d}" for seq in range(1, 51)]


async def test_numbers_follow_the_profile_pattern_per_user_and_per_year(stack):
    await stack.start("invoice_service")
    alice = stack.client("invoice_service", headers=stack.auth("alice"))
    bob = stack.client("invoice_service", headers=stack.auth("bob"))
    await set_profile(alice, number_pattern="ACME/{year}/{seq:03d}")
    alice_client, bob_client = await add_client(alice), await add_client(bob)

    first = await create_invoice(alice, alice_client, issue_date="2026-12-30", due_date=None)
    second = await create_invoice(alice, alice_client, issue_date="2026-12-31", due_date=None)
    next_year = await create_invoice(alice, alice_client, issue_date="2027-01-02", due_date=None)
    bobs = await create_invoice(bob, bob_client, issue_date="2026-12-31", due_date=None)

    assert [first["number"], second["number"], next_year["number"]] == ["ACME/2026/001", "ACME/2026/002",
                                                                        "ACME/2027/001"]
    assert bobs["number"] == "INV-2026-0001"  # bob's own counter and the default pattern
    # No due date given: the profile's default terms (30 days) apply.
    assert (first["due_date"], first["payment_terms_days"]) == ("2027-01-29", 30)


async def test_a_retried_creation_makes_one_invoice_and_gives_back_the_numbers_of_aborted_attempts(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    client_id = await add_client(api)
    body = {"client_id": client_id, "issue_date": "2026-06-01", "currency": "EUR", "lines": THREE_LINES}
    headers = {"Idempotency-Key": "create-7f3a"}

    # Five concurrent deliveries of one request: one invoice; the others' transactions abort.
    responses = await asyncio.gather(*(api.post("/api/invoices", json=body, headers=headers) for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    listed = (await api.get("/api/invoices")).json()
    assert listed["total"] == 1

    # The aborted attempts burnt no number: the next invoice is 0002.
    fresh = await api.post("/api/invoices", json=body)
    assert fresh.json()["number"] == "INV-2026-0002"

    reused = await api.post("/api/invoices", json={**body, "currency": "USD"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_draft_can_be_edited_and_its_totals_are_recomputed(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await create_invoice(api, await add_client(api), due_date=None, payment_terms_days=14)
    assert invoice["due_date"] == "2026-03-16"

    response = await api.patch(f"/api/invoices/{invoice['id']}", json={
        "lines": [{"description": "Audit", "quantity": "2", "unit_price": "150.00", "tax_rate": "19"}],
        "discount": None, "issue_date": "2026-03-10", "notes": "Edited"})

    assert response.status_code == 200, response.text
    edited = response.json()
    # 2 * 150.00 = 300.00; 19 % tax = 57.00; total 357.00. Terms of 14 days move with the issue date.
    assert (edited["subtotal"], edited["tax_total"], edited["total"]) == ("300.00", "57.00", "357.00")
    assert (edited["discount"], edited["due_date"], edited["notes"]) == (None, "2026-03-24", "Edited")
    assert edited["number"] == invoice["number"]
    moved_year = await api.patch(f"/api/invoices/{invoice['id']}", json={"issue_date": "2027-01-01"})
    assert moved_year.status_code == 422 and moved_year.json()["errors"][0]["field"] == "issue_date"


async def test_invoice_list_filters_by_status_client_dates_and_overdue_and_paginates(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    await set_profile(api)
    acme, globex = await add_client(api), await add_client(api, name="Globex", email="ap@globex.example")
    one_line = THREE_LINES[:1]
    old = await create_invoice(api, acme, issue_date="2026-01-10", due_date="2026-01-20", lines=one_line)
    await api.post(f"/api/invoices/{old['id']}/send")  # sent, long past due: overdue
    await create_invoice(api, acme, issue_date="2026-02-10", due_date="2099-01-01", lines=one_line)
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        await create_invoice(api, globex, issue_date=day, due_date="2099-01-01", lines=one_line)

    async def numbers(**params) -> list[str]:
        response = await api.get("/api/invoices", params=params)
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    assert await numbers(status="sent") == ["INV-2026-0001"]
    assert await numbers(client_id=acme) == ["INV-2026-0002", "INV-2026-0001"]
    assert await numbers(date_from="2026-02-01", date_to="2026-03-02") == ["INV-2026-0004", "INV-2026-0003",
                                                                           "INV-2026-0002"]
    assert await numbers(overdue="true") == ["INV-2026-0001"]
    assert "INV-2026-0001" not in await numbers(overdue="false")
    page = (await api.get("/api/invoices", params={"limit": 2, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [item["number"] for item in page["items"]] == ["INV-2026-0004", "INV-2026-0003"]
    overdue = (await api.get(f"/api/invoices/{old['id']}")).json()
    assert overdue["is_overdue"] is True and overdue["status"] == "sent"
    assert (await api.get("/api/invoices", params={"limit": 101})).status_code == 422
