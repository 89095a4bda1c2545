"""The web UI in a real browser (issue 9): headless Debian Chromium driven by Playwright.

What a person does, checked on what the page shows (never on status codes alone):

- sign in with a user name and API token, browse the collections, list a collection's
  objects, search them, open an object, push a bundle with an invalid object and read the
  validator's error next to it, upload an IOC list, read the sightings, sign out;
- an administrator creates an organization and a token (shown once, and it works);
- a TLP:RED object of organization A (acme) never reaches organization B (globex): not in
  the collection list or its counts, not in object lists, search, object pages, the graph
  of an object it is related to, or the sightings view — while A sees it (so the check can
  fail).

Screenshots of every main page at laptop (1366×768) and phone (390×844) widths are written
to target/ui-screenshots/ (see `ui_browser.screenshot`).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ui_browser import VIEWPORTS, browser, screenshot, ui_world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TIMEOUT_MS = 20_000


@pytest.fixture()
def page(browser):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def sign_in(page, world, user: str) -> None:
    page.goto(world.ui + "collections")
    # Without a session every page leads to the sign-in form.
    assert "/ui/signin" in page.url, page.url
    page.fill("input[name=user]", user)
    page.fill("input[name=token]", world.users[user])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/collections$"))
    assert user in page.inner_text("header"), "the signed-in user is not shown"


def main_text(page) -> str:
    return page.inner_text("main")


def collection_url(world, title: str) -> str:
    return f"{world.ui}c/{world.collections[title]}"


def object_url(world, title: str, object_id: str) -> str:
    return f"{collection_url(world, title)}/o/{object_id}"


def test_analyst_flow_sign_in_browse_search_open_push_sign_out(page, ui_world, tmp_path: Path):
    world = ui_world
    page.goto(world.ui)
    page.wait_for_url(re.compile(r".*/ui/signin.*"))
    assert page.locator("input[name=token]").get_attribute("type") == "password"
    screenshot(page, "signin")

    # A wrong token is refused on the page.
    page.fill("input[name=user]", "alice")
    page.fill("input[name=token]", "0" * 64)
    page.click("button[type=submit]")
    assert "Unknown user name or token" in main_text(page)

    sign_in(page, world, "alice")
    text = main_text(page)
    assert "Shared intel" in text and "Acme red" in text, text
    screenshot(page, "collections")

    # The collection's object list: real objects from the OASIS Poison Ivy bundle.
    page.click("text=Shared intel")
    page.wait_for_url(re.compile(r".*/ui/c/[0-9a-f-]+.*"))
    text = main_text(page)
    assert "Poison Ivy" in text or "PIVY" in text, text
    screenshot(page, "objects")

    # Search: a word of one indicator's pattern finds it, and not the unrelated malware.
    search = page.locator("input[name=q]")
    search.fill("paypa1")
    search.press("Enter")
    page.wait_for_url(re.compile(r".*q=paypa1.*"))
    text = main_text(page)
    assert "Malicious URL" in text, text
    assert "Poison Ivy" not in text, "the search returned unrelated objects"
    screenshot(page, "search")

    # Open the indicator: its fields laid out, the pattern readable, its sighting listed.
    page.click("main >> text=Malicious URL")
    page.wait_for_url(re.compile(r".*/o/indicator--.*"))
    text = main_text(page)
    assert "http://paypa1.banking.com" in text, text
    assert world.sighted_indicator_id in text
    screenshot(page, "object")

    # An object with relationships: the Poison Ivy malware page shows its graph.
    page.goto(object_url(world, "Shared intel", world.shared_malware_id))
    assert "Poison Ivy" in main_text(page)
    assert page.locator("svg").count() >= 1, "no graph on the object page"
    screenshot(page, "object-graph")

    # Push a bundle with one valid and one invalid indicator: the error is shown inline,
    # next to the offending object, and only the valid one is stored.
    good, bad = f"indicator--{uuid.uuid4()}", f"indicator--{uuid.uuid4()}"

    def indicator(i: str, **extra) -> dict:
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": i,
            "created": "2026-01-20T00:00:00.000Z",
            "modified": "2026-01-20T00:00:00.000Z",
            "name": f"pushed {i[-4:]}",
            "pattern": "[ipv4-addr:value = '203.0.113.9']",
            "pattern_type": "stix",
            "valid_from": "2026-01-20T00:00:00Z",
            **extra,
        }

    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [indicator(good), indicator(bad, valid_until="2020-01-01T00:00:00Z")],
    }
    page.click("nav >> text=Push")
    page.wait_for_url(re.compile(r".*/ui/push$"))
    screenshot(page, "push")
    form = page.locator("form[action='/ui/push']")
    form.locator("select[name=collection]").select_option(world.collections["Shared intel"])
    form.locator("textarea[name=text]").fill(json.dumps(bundle, indent=2))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".push-result")
    summary = page.inner_text(".push-result .summary")
    assert "1 stored" in summary and "1 refused" in summary, summary
    refused = page.locator(".push-result .refused")
    assert refused.count() == 1
    card = refused.first.inner_text()
    for expected in [bad, "/valid_until", "valid-until-after-valid-from", "2020-01-01T00:00:00Z"]:
        assert expected in card, f"the refused object's card lacks {expected!r}: {card}"
    assert good not in card
    screenshot(page, "push-result")
    visible = world.visible_ids("alice", "Shared intel")
    assert good in visible and bad not in visible

    # Upload an IOC list (one value per line, types detected).
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("# partner list\n198.51.100.77 scanner\nhxxp://bad[.]example/x\nnot-an-ioc\n")
    upload = page.locator("form[enctype='multipart/form-data']")
    upload.locator("select[name=collection]").select_option(world.collections["Shared intel"])
    upload.locator("input[type=file]").set_input_files(str(iocs))
    upload.locator("button[type=submit]").click()
    page.wait_for_selector(".push-result")
    summary = page.inner_text(".push-result .summary")
    assert "2 stored" in summary and "1 refused" in summary, summary
    assert "line 4" in page.inner_text(".push-result .refused")
    screenshot(page, "push-upload-result")

    # The sightings view: who saw what, how often.
    page.click("nav >> text=Sightings")
    page.wait_for_url(re.compile(r".*/ui/sightings.*"))
    text = main_text(page)
    assert "Globex SOC" in text and "Poison Ivy C2 domain" in text, text
    assert "total 5" in text, text
    screenshot(page, "sightings")

    page.click("nav >> text=Log")
    page.wait_for_url(re.compile(r".*/ui/log.*"))
    screenshot(page, "log")

    # Sign out: back to the sign-in form, and the pages are closed again.
    page.click("header >> button:has-text('Sign out')")
    page.wait_for_url(re.compile(r".*/ui/signin.*"))
    page.goto(world.ui + "collections")
    assert "/ui/signin" in page.url


def test_admin_creates_an_organization_and_a_token_shown_once(page, ui_world):
    world = ui_world
    sign_in(page, world, "admin")
    page.click("nav >> text=Admin")
    page.wait_for_url(re.compile(r".*/ui/admin.*"))
    text = main_text(page)
    for expected in ["acme", "globex", "alice", "bob", "Shared intel", "Acme red"]:
        assert expected in text, f"admin page lacks {expected}"
    screenshot(page, "admin")

    page.fill("#org-name", "initech")
    page.click("form[action='/ui/admin/orgs'] button[type=submit]")
    page.wait_for_url(re.compile(r".*done=org.*"))
    assert "Organization created." in main_text(page)
    assert "initech" in page.inner_text("table.orgs")

    page.locator("#token-user").select_option("bob")
    page.click("form[action='/ui/admin/tokens'] button[type=submit]")
    secret = page.inner_text("#token-secret").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret), secret
    screenshot(page, "admin-token")
    r = world.taxii("bob")
    r.headers["Authorization"] = "Bearer " + secret
    assert r.get(world.server.discovery, timeout=30).status_code == 200, "the new token does not work"
    page.goto(world.ui + "admin")
    assert secret not in page.content(), "the token secret was shown twice"

    page.click("table.collections >> text=Acme red")
    page.wait_for_url(re.compile(r".*/ui/admin/collections/.*"))
    assert "alice" in main_text(page)
    screenshot(page, "admin-collection")


def test_members_do_not_get_the_admin_pages(page, ui_world):
    sign_in(page, ui_world, "bob")
    assert page.locator("nav >> text=Admin").count() == 0
    page.goto(ui_world.ui + "admin")
    text = main_text(page)
    assert "Not allowed" in text and "Organizations" not in text, text


def test_tlp_red_of_one_organization_never_reaches_another(page, ui_world):
    world = ui_world
    secrets = [world.red_name, world.red_pattern_value, "Only for alice"]

    def assert_clean(where: str, echo: str = "") -> None:
        html = page.content()
        if echo:
            # bob's own query is shown back to him (search box, paging links): that is
            # not a leak, so it is taken out before looking.
            for form in {echo, quote_plus(echo), quote(echo, safe="")}:
                html = html.replace(form, "")
        for s in secrets:
            assert s not in html, f"TLP:RED content {s!r} leaked to globex on {where}"

    # Control: alice (acme) sees the RED indicator in her restricted collection, in search
    # and on its page — so the data is there for the checks below to find.
    sign_in(page, world, "alice")
    page.goto(collection_url(world, "Acme red"))
    assert world.red_name in main_text(page)
    page.goto(collection_url(world, "Acme red") + "?q=" + world.red_name.split()[-1])
    assert world.red_name in main_text(page)
    page.goto(object_url(world, "Acme red", world.red_id))
    assert world.red_pattern_value in main_text(page)
    assert "TLP:RED" in main_text(page)
    screenshot(page, "object-tlp-red")
    page.context.clear_cookies()

    sign_in(page, world, "bob")
    # Collections and counts: the restricted collection is not listed, and the shared
    # collection's count is what the API lets bob read.
    text = main_text(page)
    assert "Acme red" not in text and world.collections["Acme red"] not in page.content()
    row = page.locator("tr", has_text="Shared intel").inner_text()
    visible = world.visible_ids("bob", "Shared intel")
    assert world.red_id not in visible
    assert re.search(rf"\b{len(visible)}\b", row), f"count in {row!r} is not {len(visible)}"
    assert_clean("the collections page")
    screenshot(page, "collections-other-org")

    # Lists and search, by every word the RED object holds.
    page.goto(collection_url(world, "Shared intel"))
    assert_clean("the object list")
    for q in [world.red_name.split()[-1], world.red_pattern_value, "alice", world.red_id]:
        page.goto(collection_url(world, "Shared intel") + "?q=" + quote_plus(q))
        assert "No object matches these filters." in main_text(page), f"search for {q!r} found objects"
        assert_clean(f"search for {q!r}", echo=q)
    page.goto(collection_url(world, "Shared intel") + "?type=indicator&tlp=red")
    assert_clean("the list filtered to TLP:RED")

    # The object itself, under either collection: not found, like an object that never was.
    for url in [object_url(world, "Acme red", world.red_id), object_url(world, "Shared intel", world.red_id)]:
        page.goto(url)
        assert "Not found" in main_text(page), url
        assert_clean(url)
    page.goto(collection_url(world, "Acme red"))
    assert "Not found" in main_text(page)
    assert_clean("the restricted collection's URL")

    # The graph of the malware the RED indicator is related to (the relationship itself is
    # shared): the RED end is never named or linked.
    page.goto(object_url(world, "Shared intel", world.shared_malware_id))
    assert "Poison Ivy" in main_text(page)
    assert_clean("the related malware's page and graph")
    for svg in page.locator("svg").all():
        assert world.red_id not in svg.inner_html(), "the RED indicator is a node of globex's graph"
    screenshot(page, "object-graph-other-org")
    # The RED indicator's id is in the shared relationship, so the page may name it; any
    # link to it must lead nowhere.
    hrefs = {
        a.get_attribute("href") for a in page.locator(f"a[href*='{world.red_id}']").all()
    }
    for href in hrefs:
        page.goto(world.server.base + href if href.startswith("/") else href)
        assert "Not found" in main_text(page), href
        assert_clean(f"the link {href}")

    # Sightings: the RED indicator's sighting is shared, its name is not.
    page.goto(world.ui + "sightings")
    assert "Globex SOC" in main_text(page)
    assert_clean("the sightings view")
    screenshot(page, "sightings-other-org")
