"""Bad input is a 422 problem+json naming the parameter; no token is a 401; nothing is ever a 500."""

import pytest

CASES = [
    ("summary", {"from": "2024-02-01", "to": "2024-01-31"}, "from"),  # from after to
    ("categories", {"from": "2010-01-01", "to": "2020-01-01"}, "to"),  # more than 10 years
    ("trends", {"from": "2000-01-01", "to": "2024-12-31", "granularity": "day"}, "to"),
    ("trends", {"granularity": "year"}, "granularity"),
    ("trends", {"granularity": ""}, "granularity"),
    ("summary", {"from": "2024-13-01"}, "from"),  # malformed dates
    ("summary", {"to": "yesterday"}, "to"),
    ("patterns", {"from": "2024-02-30", "to": "2024-03-01"}, "from"),
    ("top", {"limit": "0"}, "limit"),
    ("top", {"limit": "101"}, "limit"),
    ("summary", {"from": "0001-01-01", "to": "0001-12-31"}, "from"),  # outside the supported calendar
    ("categories", {"from": "9999-01-01", "to": "9999-12-31"}, "from"),
    ("export", {"format": "pdf"}, "format"),
    ("export", {"format": "csv", "view": "everything"}, "view"),
]


@pytest.fixture
async def api(stack):
    await stack.start("analytics_service")
    return stack.client("analytics_service", headers=stack.auth("u1"))


async def test_bad_ranges_and_parameters_are_422_problems_naming_the_parameter(api):
    for path, params, field in CASES:
        response = await api.get(f"/api/analytics/{path}", params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json", (path, params)
        body = response.json()
        assert body["status"] == 422 and body["instance"] == f"/api/analytics/{path}"
        assert field in [error["field"] for error in body["errors"]], (path, params, body)


async def test_exactly_ten_years_is_allowed(api):
    response = await api.get("/api/analytics/trends", params={"from": "2015-01-01", "to": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.json()["series"]) == 0


async def test_every_view_requires_a_valid_token(stack, api):
    anonymous = stack.client("analytics_service")
    forged = stack.client("analytics_service", headers={"Authorization": "Bearer not-a-token"})
    for path in ("summary", "trends", "categories", "patterns", "top", "insights", "export"):
        for client in (anonymous, forged):
            response = await client.get(f"/api/analytics/{path}")
            assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    assert (await anonymous.post("/api/analytics/rebuild")).status_code == 401
