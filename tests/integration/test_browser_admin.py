"""The admin panel (/hub/admin) in a real browser against the real hub, proxy and a fast
spawner: users, servers, bulk actions, groups, services, the hub, and what partial admins
see. Screenshots of each view go to the test output (.test-output/browser/admin-*.png)."""
from conftest import CULLER_TOKEN, VERSION, Api, free_port, run_browser
from spawn_helpers import ENV_SERVER, PASSWORD, spawn_config, wait_for

ADMIN_PASSWORD = "admin-password-0123456789abcdefghijkl"


def admin_config(tmp_path, **jupyterhub):
    """A hub where "admin" logs in with ADMIN_PASSWORD and others with PASSWORD, each user's
    server being the fast env server; admins land on the home page (no server of their own)."""
    cfg = spawn_config(home=tmp_path / "homes", redirect_to_server=False, **jupyterhub)
    cfg["SharedPasswordAuthenticator"]["admin_password"] = ADMIN_PASSWORD
    return cfg


def names(hub):
    r = Api(hub)("GET", "/users")
    assert r.status_code == 200, r.text
    return sorted(u["name"] for u in r.json())


def test_admin_users(hub_factory, tmp_path):
    hub = hub_factory(config=admin_config(tmp_path))
    found = run_browser("admin-users", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    assert found["title"] == "Admin · Ganymede"
    assert found["versionBadge"] == f"Ganymede {VERSION} · JupyterHub API 5.5.1"
    assert found["logo"] == {"alt": "Ganymede logo", "loaded": True, "src": "/hub/logo"}
    assert found["initialRows"] == ["admin"]
    assert found["tabOrder"] == ["state-all", "add-users", "start-all", "stop-all", "select-page",
                                 "sort-button", "sort-button", "admin:select", "admin:expand"]
    # Adding: the names field has focus, Ctrl+Enter adds, focus returns to the button.
    assert found["addFocus"] == "add-users-names"
    assert found["addNotice"] == "Added 4 users: ann, bob, carol, dave."
    assert found["afterAdd"] == ["admin", "ann", "bob", "carol", "dave"]
    assert found["focusAfterAdd"] == "add-users"
    assert found["addAdminNotice"] == "Added 1 user as an admin: eve. Already there: ann."
    assert "already exist" in found["addExistingError"], found["addExistingError"]
    # Search, its URL, reload and Back.
    assert found["slashFocus"] == "user-search"
    assert found["searchRows"] == ["carol"]
    assert found["searchUrl"] == "?name_filter=car"
    assert found["searchStatus"] == "Displaying 1–1 of 1 user"
    assert found["reloadSearchValue"] == "car" and found["reloadRows"] == ["carol"]
    assert found["backUrl"] == "" and found["backRows"][0] == "admin"
    # Sorting on the server.
    assert found["sortAsc"] == ["admin", "ann", "bob", "carol", "dave", "eve"]
    assert found["sortDesc"] == ["eve", "dave", "carol", "bob", "ann", "admin"]
    assert found["sortUrl"] == "?sort=-name"
    assert found["sortActivity"][0] == "admin"  # the only one who was ever active
    assert found["sortActivityAria"] == "descending"
    # The state filter.
    assert found["activeRows"] == []
    assert found["activeEmpty"] == "No users with active servers."
    # Edit.
    assert found["renameNotice"] == "Renamed bob to bobby."
    assert "bobby" in found["afterRename"] and "bob" not in found["afterRename"]
    assert "already exists" in found["renameError"], found["renameError"]
    # Delete with confirmation; Escape cancels and leaves focus on the safe button.
    assert "dave is removed from the hub" in found["confirmText"]
    assert found["confirmFocus"] == "confirm-cancel"
    assert "dave" in found["afterCancel"] and found["deletesOnCancel"] == []
    assert found["deleteNotice"] == "Deleted user dave."
    # Bulk delete.
    assert found["bulkCount"] == "2 users selected"
    assert found["bulkConfirm"] == "Delete 2 users?"
    assert found["bulkProgress"] == "2 of 2 done — finished"
    assert "ann" not in found["afterBulk"] and "eve" not in found["afterBulk"]
    assert found["bulkBarHidden"]
    assert names(hub) == ["admin", "bobby", "carol"]
    assert Api(hub)("GET", "/users/bobby").json()["admin"] is True
    assert found["consoleErrors"] == []
    # The only failed requests are the refusals the scenario provoked.
    statuses = sorted({(f["url"].split("/hub/api")[1], f["status"])
                       for f in found["failedResponses"]})
    assert statuses == [("/users", 409), ("/users/carol", 400)], statuses


# Each user's server: the env server after a short pause (so that "starting" can be seen),
# except for "broken", whose server exits at once.
SLOW_SERVER = ["/bin/sh", "-c", 'if [ "$JUPYTERHUB_USER" = broken ]; then '
               'echo "no image for broken" >&2; exit 3; fi; sleep 1; exec "$0" "$1"'] + ENV_SERVER
OPTIONS_FORM = ('<label for="flavor">Flavor</label>'
                '<select id="flavor" name="flavor"><option>small</option></select>')


def servers_config(tmp_path):
    cfg = admin_config(tmp_path, allow_named_servers=True,
                       tornado_settings={"slow_spawn_timeout": 0})
    cfg["Spawner"].update(cmd=SLOW_SERVER, options_form=OPTIONS_FORM)
    return cfg


def test_admin_servers(hub_factory, tmp_path):
    hub = hub_factory(config=servers_config(tmp_path))
    api = Api(hub)
    assert api("POST", "/users", json={"usernames": ["alice", "bob", "broken"]}).status_code == 201
    found = run_browser("admin-servers", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    assert found["pendingButton"] == {"text": "Starting…", "disabled": True}
    assert found["pendingStatus"].startswith("Starting…"), found["pendingStatus"]
    assert found["readyStatus"] == "Running"
    assert found["readyButtons"] == ["Stop Server", "Access Server", "Edit User"]
    assert found["accessHref"] == "/user/alice/"
    assert found["accessUrl"] == hub.public_url + "/user/alice/"
    assert found["accessBody"]["user"] == "alice"
    assert found["stoppedButtons"] == ["Start Server", "Spawn Page", "Edit User"]
    assert found["expanded"] == "true"
    assert found["namedSummary"] == "1 named server, 1 active"
    assert found["detailServers"] == [["", "Stopped"], ["gpu", "Running"]]
    assert found["afterDelete"] == [""]
    assert found["spawnPageUrl"] == hub.public_url + "/hub/spawn/bob"
    assert found["spawnHeading"] == "Server Options for bob"
    assert found["spawnHasOptions"]
    assert found["failure"].startswith("broken's server did not start"), found["failure"]
    assert found["failureStatus"] == "stopped"
    assert found["consoleErrors"] == []
    servers = api("GET", "/users/alice").json()["servers"]
    assert servers == {}, servers


def test_admin_bulk_actions(hub_factory, tmp_path):
    hub = hub_factory(config=servers_config(tmp_path))
    api = Api(hub)
    many = [f"user-{i:02d}" for i in range(12)]
    assert api("POST", "/users", json={"usernames": ["alice", "bob", "broken"] + many}
               ).status_code == 201
    found = run_browser("admin-bulk", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    assert found["selectedStart"] == "3 of 3 done, 1 failed — finished"
    assert len(found["selectedFailures"]) == 1
    assert found["selectedFailures"][0].startswith("broken: "), found["selectedFailures"]
    assert "exited with status 3" in found["selectedFailures"][0]
    assert "exited with status 3" in found["brokenRowError"]
    assert found["stopAllConfirm"]["title"] == "Stop all servers"
    assert found["stopAllConfirm"]["text"].startswith("Stop 2 running servers (2 users)?")
    assert found["stopAll"] == "2 of 2 done — finished"
    # Cancelled right away: the four already asked for start, the rest not.
    assert found["cancelled"].endswith(" — cancelled"), found["cancelled"]
    assert found["cancelled"].startswith("4 of 12 done"), found["cancelled"]
    assert found["cancelledStarted"] == 4
    assert found["startAllConfirm"]["text"].startswith(
        "Start the default server of 12 users matching “user-” who have none running?")
    assert found["startAllConfirm"]["ok"] == "Start 12 servers"
    assert found["startAllFirstCount"].endswith("of 12 done")
    assert found["startAll"] == "12 of 12 done — finished"
    assert 1 <= found["maxStarting"] <= 4, found["maxStarting"]
    assert found["readyAfterStartAll"] == 12
    assert found["stopAllMatching"]["text"].startswith(
        "Stop 12 running servers of users matching “user-” (12 users)?")
    assert found["stopAll2"] == "12 of 12 done — finished"
    assert found["consoleErrors"] == []
    active = api("GET", "/users?state=active").json()
    assert active == [], [u["name"] for u in active]


def test_admin_groups(hub_factory, tmp_path):
    cfg = admin_config(tmp_path, load_groups={"staff": {"users": ["alice"],
                                                        "properties": {"floor": 3}}})
    hub = hub_factory(config=cfg)
    api = Api(hub)
    assert api("POST", "/users", json={"usernames": ["alice", "bob", "carol"]}).status_code == 201
    found = run_browser("admin-groups", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    assert found["groupsUrl"] == "?view=groups"
    assert found["initialGroups"] == [["staff", "1", "floor"]]
    assert found["editorUrl"] == "?view=groups&group=physics"
    assert found["editorTitle"] == "Group physics"
    assert found["membersAdded"] == ["alice", "bob"]
    assert found["membersAfterRemove"] == ["alice"]
    assert "No such user: nobody-here" in found["unknownMemberError"], found["unknownMemberError"]
    assert found["badJsonError"].startswith("The properties are not valid JSON")
    assert found["errorHiddenAfterSave"]
    assert found["reloadProperties"] == {"cpu_limit": 2, "image": "scipy"}
    assert found["reloadMembers"] == ["alice"]
    assert sorted(found["listAfterEdit"]) == [["physics", "1"], ["staff", "1"]]
    assert found["staffAfterEscape"]
    assert found["deleteConfirmTitle"] == "Delete group staff?"
    assert found["deleteGroupNotice"] == "Deleted group staff."
    assert found["pickText"] == "Add 2 users: bob, carol"
    assert found["addToGroupNotice"] == "Added 2 users to group physics."
    assert found["carolGroups"] == ["physics"]
    assert "No such group: no-such-group" in found["pickError"], found["pickError"]
    assert found["bobGroupsAfter"] == 0
    assert found["finalEmpty"] == "No groups yet."
    assert api("GET", "/groups").json() == []
    assert found["consoleErrors"] == []


def test_admin_services_and_shutdown(hub_factory, tmp_path):
    managed_port, dead_port = free_port(), free_port()
    cfg = admin_config(tmp_path, services=[
        {"name": "envsvc", "url": f"http://127.0.0.1:{managed_port}", "command": ENV_SERVER},
        {"name": "dash", "url": f"http://127.0.0.1:{dead_port}"},
        {"name": "culler", "api_token": CULLER_TOKEN},
    ])
    hub = hub_factory(config=cfg)
    wait_for(lambda: Api(hub)("GET", "/services/envsvc").json().get("pid"), what="envsvc")
    found = run_browser("admin-services-hub", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    services = {s["name"]: s for s in found["services"]}
    assert list(services) == ["culler", "dash", "envsvc"]
    assert services["envsvc"]["kind"] == "Managed by the hub"
    assert services["envsvc"]["status"].startswith("Running (pid ")
    assert services["envsvc"]["link"] == "/services/envsvc/"
    assert services["dash"]["kind"] == "External"
    assert services["dash"]["state"] == "stopped", services["dash"]
    assert services["dash"]["status"].startswith("Not responding"), services["dash"]
    assert services["culler"]["status"] == "No server (API only)"
    assert found["hubUrl"] == "?view=hub"
    assert found["hubInfo"]["JupyterHub API version"] == "5.5.1"
    assert found["hubInfo"]["Ganymede version"] == VERSION
    assert found["hubInfo"]["Spawner"] and found["hubInfo"]["Authenticator"]
    assert found["shutdownTitle"] == "Shut down the hub?"
    assert found["healthAfterEscape"] == 200
    assert found["shutdownChoices"] == [
        ["servers", ["As configured (JupyterHub.cleanup_servers)", "Stop them",
                     "Keep them running"]],
        ["proxy", ["As configured (JupyterHub.cleanup_proxy)", "Stop it", "Keep it running"]]]
    assert found["shutdownStatus"].startswith("The hub has stopped.")
    assert hub.wait(timeout=20) == 0
    assert found["consoleErrors"] == []


def test_admin_partial_scopes(hub_factory, tmp_path):
    cfg = admin_config(tmp_path, load_roles=[
        {"name": "helpdesk", "scopes": ["admin-ui", "list:users"], "users": ["helper"]},
        {"name": "ann-keeper", "scopes": ["admin-ui", "list:users", "read:users",
                                          "read:servers", "servers!user=ann",
                                          "delete:servers!user=ann"], "users": ["keeper"]},
    ])
    hub = hub_factory(config=cfg)
    api = Api(hub)
    assert api("POST", "/users", json={"usernames": ["ann", "bob"]}).status_code == 201
    found = run_browser("admin-scopes", url=hub.public_url, password=PASSWORD)
    assert found["plainStatus"] == 403
    assert found["plainNavAdmin"] == 0
    assert found["helperStatus"] == 200
    assert sorted(found["helperRows"]) == ["admin", "ann", "bob", "helper", "keeper"]
    # list:users shows names and the admin flag; nothing else is there to show.
    assert found["helperHeaders"] == ["user-header", "admin-header", "actions-header"]
    assert found["helperControls"] == {"#add-users": False, "#start-all": False,
                                       "#stop-all": False, "#select-page": False,
                                       "#tab-groups": False, "#tab-services": False,
                                       "#tab-hub": True}
    assert found["helperRowButtons"] == 0
    assert found["helperCheckboxes"] == 0
    assert found["helperExpand"] == 0
    assert found["helperShutdown"] is False
    buttons = found["keeperButtons"]
    assert buttons["ann"] == ["Start Server", "Spawn Page"], buttons
    # Everyone may start their own server (the self scopes), so keeper may too.
    assert buttons["keeper"] == ["Start Server", "Spawn Page"], buttons
    assert all(buttons[name] == [] for name in ["admin", "bob", "helper"]), buttons
    assert found["keeperAnnRunning"] == ["Stop Server"], found["keeperAnnRunning"]
    assert found["consoleErrors"] == []
    failed = [(f["url"].replace(hub.public_url, ""), f["status"])
              for f in found["failedResponses"]]
    assert failed == [("/hub/admin", 403)], failed


def test_admin_select_all_matching(hub_factory, tmp_path):
    hub = hub_factory(config=admin_config(tmp_path))
    api = Api(hub)
    matching = [f"s-{i:03d}" for i in range(130)]
    assert api("POST", "/users", json={"usernames": matching + ["other"]}).status_code == 201
    found = run_browser("admin-select", url=hub.public_url, adminPassword=ADMIN_PASSWORD)
    assert found["status"] == "Displaying 1–50 of 130 users"
    assert found["offerBefore"] is False
    assert found["pageCount"] == "50 users selected"
    assert found["offer"] == "Select all 130 users matching “s-”"
    assert found["allCount"] == "130 users selected (80 on other pages)"
    assert found["offerAfter"] is False
    assert found["confirm"] == "Delete 130 users?"
    assert found["progress"] == "130 of 130 done — finished"
    assert found["left"] == ["admin", "other"]
    assert found["barHidden"]
    assert names(hub) == ["admin", "other"]
    assert found["consoleErrors"] == []
