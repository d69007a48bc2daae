"""Isolation between users, authentication, and bad input answered as 422 naming the field."""

from invoice_service.tests.helpers import THREE_LINES, add_client, create_invoice, problem_fields, sent_invoice


async def test_another_users_invoice_and_client_are_not_found(stack):
    await stack.start("invoice_service")
    owner = stack.client("invoice_service", headers=stack.auth("owner"))
    intruder = stack.client("invoice_service", headers=stack.auth("intruder"))
    invoice = await sent_invoice(owner)
    client_id, invoice_url = invoice["client_id"], f"/api/invoices/{invoice['id']}"

    attempts = [
        intruder.get(f"/api/clients/{client_id}"),
        intruder.patch(f"/api/clients/{client_id}", json={"name": "Mine now"}),
        intruder.delete(f"/api/clients/{client_id}"),
        intruder.get(invoice_url),
        intruder.patch(invoice_url, json={"notes": "x"}),
        intruder.post(f"{invoice_url}/send"),
        intruder.post(f"{invoice_url}/void"),
        intruder.get(f"{invoice_url}/pdf"),
        intruder.get(f"{invoice_url}/payments"),
        intruder.post(f"{invoice_url}/payments", json={"amount": "1.00"}),
        owner.get("/api/invoices/not-an-object-id"),
        owner.get("/api/clients/123"),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404, (response.request.method, response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")

    assert (await intruder.get("/api/invoices")).json()["total"] == 0
    assert (await intruder.get("/api/clients")).json()["total"] == 0
    # The intruder cannot bill the owner's client either.
    borrowed = await intruder.post("/api/invoices", json={"client_id": client_id, "currency": "EUR",
                                                          "lines": THREE_LINES})
    assert borrowed.status_code == 422 and problem_fields(borrowed) == ["client_id"]
    untouched = (await owner.get(invoice_url)).json()
    assert (untouched["status"], untouched["amount_paid"]) == ("sent", "0.00")


async def test_requests_without_a_valid_token_are_401(stack):
    await stack.start("invoice_service")
    anonymous = stack.client("invoice_service")
    forged = stack.client("invoice_service", headers={"Authorization": "Bearer not.a.token"})
    for client in (anonymous, forged):
        for path in ("/api/invoices", "/api/clients", "/api/business-profile"):
            response = await client.get(path)
            assert response.status_code == 401, path


async def test_bad_input_is_422_naming_the_field(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    client_id = await add_client(api)
    line = THREE_LINES[0]
    base = {"client_id": client_id, "currency": "EUR", "lines": [line]}

    invoice_cases = {
        "lines.0.quantity": {**base, "lines": [{**line, "quantity": "lots"}]},
        "lines.0.unit_price": {**base, "lines": [{**line, "unit_price": "-1"}]},
        "lines.0.tax_rate": {**base, "lines": [{**line, "tax_rate": "101"}]},
        "lines.0.discount.value": {**base, "lines": [{**line, "discount": {"kind": "amount", "value": "1000.01"}}]},
        "discount.value": {**base, "discount": {"kind": "percent", "value": "150"}},
        "currency": {**base, "currency": "XXX"},
        "lines": {**base, "lines": []},
        "due_date": {**base, "issue_date": "2026-03-10", "due_date": "2026-03-01"},
        "payment_terms_days": {**base, "due_date": "2026-04-01", "payment_terms_days": 30},
        "client_id": {**base, "client_id": "000000000000000000000000"},
        "surprise": {**base, "surprise": True},
        "issue_date": {**base, "issue_date": "2026-02-30"},
    }
    for field, body in invoice_cases.items():
        response = await api.post("/api/invoices", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in problem_fields(response), (field, response.json())

    other_cases = [
        ("post", "/api/clients", {"name": "", "email": "x@example.com"}, "name"),
        ("post", "/api/clients", {"name": "Acme", "email": "not-an-email"}, "email"),
        ("put", "/api/business-profile", {"name": "Me", "number_pattern": "INV-{seq}"}, "number_pattern"),
        ("put", "/api/business-profile", {"name": "Me", "default_payment_terms_days": -1},
         "default_payment_terms_days"),
        ("get", "/api/invoices?date_from=2026-05-01&date_to=2026-04-01", None, "date_to"),
        ("get", "/api/invoices?status=lost", None, "status"),
    ]
    for method, path, body, field in other_cases:
        response = await api.request(method.upper(), path, json=body)
        assert response.status_code == 422, (path, field, response.text)
        assert field in problem_fields(response), (field, response.json())
    assert (await api.get("/api/invoices")).json()["total"] == 0


async def test_clients_and_business_profile_crud(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    defaults = (await api.get("/api/business-profile")).json()
    assert (defaults["name"], defaults["number_pattern"]) == ("", "INV-{year}-{seq:04d}")

    ids = [await add_client(api, name=name) for name in ("Zeta", "Alpha", "Mid")]
    page = (await api.get("/api/clients", params={"limit": 2})).json()
    assert [c["name"] for c in page["items"]] == ["Alpha", "Mid"] and page["total"] == 3
    changed = await api.patch(f"/api/clients/{ids[0]}", json={"email": None, "tax_id": "DE123"})
    assert (changed.json()["email"], changed.json()["tax_id"], changed.json()["name"]) == (None, "DE123", "Zeta")
    assert (await api.patch(f"/api/clients/{ids[0]}", json={"name": None})).status_code == 422

    saved = await api.put("/api/business-profile", json={"name": "Me Ltd", "number_pattern": "{year}-{seq:05d}",
                                                         "payment_details": "IBAN X"})
    assert saved.status_code == 200 and saved.json()["number_pattern"] == "{year}-{seq:05d}"
    invoice = await create_invoice(api, ids[1])
    assert invoice["number"] == "2026-00001"
    assert invoice["sender"]["payment_details"] == "IBAN X"  # a draft shows the profile as it is now


async def test_dates_at_the_ends_of_the_calendar_are_a_422_or_an_open_bound_never_a_500(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    client_id = await add_client(api)
    base = {"client_id": client_id, "currency": "EUR", "lines": [THREE_LINES[0]]}
    for field, body in [("issue_date", {**base, "issue_date": "9999-12-31"}),  # + 30 days of terms: past date.max
                        ("issue_date", {**base, "issue_date": "0001-01-01"}),
                        ("due_date", {**base, "issue_date": "2026-03-02", "due_date": "9999-12-31"})]:
        response = await api.post("/api/invoices", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in problem_fields(response)
    invoice = await sent_invoice(api)
    paid = await api.post(f"/api/invoices/{invoice['id']}/payments", json={"amount": "1.00", "paid_date": "0001-01-01"})
    assert paid.status_code == 422 and problem_fields(paid) == ["paid_date"]

    # A filter bound at the end of the calendar is simply no bound.
    listed = await api.get("/api/invoices", params={"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [invoice["id"]]


async def test_a_currency_sent_as_a_json_array_or_object_is_a_422_naming_it_not_a_500(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await sent_invoice(api)
    draft = await create_invoice(api, invoice["client_id"])
    for currency in ([], ["EUR"], {}, {"$ne": ""}):
        for method, path, body in [
            ("POST", "/api/invoices", {"client_id": invoice["client_id"], "currency": currency,
                                       "lines": [THREE_LINES[0]]}),
            ("PATCH", f"/api/invoices/{draft['id']}", {"currency": currency}),
            ("POST", f"/api/invoices/{invoice['id']}/payments", {"amount": "1.00", "currency": currency}),
        ]:
            response = await api.request(method, path, json=body)
            assert response.status_code == 422, (method, path, currency, response.text)
            assert problem_fields(response) == ["currency"]
