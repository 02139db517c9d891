"""The admin panel with 10,000 users created through the API: the first page, search, page
numbers, sorting and paging through every user in a real browser. How fast is measured by
bench/admin_page.py, not here."""
from conftest import Api, run_browser
from test_browser_admin import ADMIN_PASSWORD, admin_config

USERS = 10_000
BATCH = 500


def test_admin_ten_thousand_users(hub_factory, tmp_path):
    hub = hub_factory(config=admin_config(tmp_path))
    api = Api(hub)
    for start in range(0, USERS, BATCH):
        names = [f"user-{i:05d}" for i in range(start, start + BATCH)]
        r = api("POST", "/users", json={"usernames": names}, timeout=120)
        assert r.status_code == 201, r.text
    found = run_browser("admin-many", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    print("admin panel with 10,000 users (ms, sanitizer build):", found["ms"])
    assert found["firstRows"] == 50
    assert found["firstStatus"] == "Displaying 1–50 of 10,001 users"
    assert found["pageCount"] == "of 201"
    assert found["searchOne"] == ["user-09999"]
    assert found["searchManyStatus"] == "Displaying 1–50 of 100 users"
    # admin has id 1, so offset 1250 is user-01249.
    assert found["page26First"] == "user-01249"
    assert found["sortDescFirst"] == "user-09999" and found["sortDescOffset"] is None
    assert found["afterBackUrl"] == "?offset=1250"
    assert found["pages"] == 51
    assert found["seenCount"] == USERS + 1 and found["seenUnique"] == USERS + 1
    assert found["seenFirst"] == ["admin", "user-00000", "user-00001"]
    assert found["seenLast"] == ["user-09998", "user-09999"]
    assert found["inOrder"]
    assert found["lastStatus"] == "Displaying 10,001–10,001 of 10,001 users"
    assert found["prevEnabledAtEnd"]
    assert found["consoleErrors"] == []
    assert found["failedResponses"] == []
