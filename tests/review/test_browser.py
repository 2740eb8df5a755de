"""The real review app, served by the CLI, driven in headless Chromium (Debian's, through Playwright): log in,
accept, reject with a reason, edit, tag and move with the keyboard; then the decisions in SQLite and in the
applied dataset. Keeps a screenshot in artifacts/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from review_helpers import add_user, make_dataset, serving

from conftest import CHROMIUM, CHROMIUM_FLAGS, ROOT, run_cli
from synthloop.store.dataset import Dataset

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "artifacts"


def test_review_session_in_chromium_flows_back_into_the_data(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    dataset = make_dataset(tmp_path / "curated")
    token = add_user(dataset, "alice")
    with serving(dataset) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(url + "/")
        expect(page.locator("#token")).to_be_visible()  # 401 shows the login form
        page.fill("#token", "not-a-token")
        page.click("button[type=submit]")
        expect(page.locator("#message")).to_have_text("unknown token")
        page.fill("#token", token)
        page.click("button[type=submit]")
        expect(page.locator("#reviewer")).to_have_text("alice")
        expect(page.locator("tr[data-queue=lowest] td.mine")).to_have_text("0")
        expect(page.locator("tr[data-queue=uncertain] td").nth(1)).to_have_text("6")  # the items with a margin

        page.click("a[href='/q/lowest']")  # lowest quality first: the hostile story (repeated 0.9) leads
        expect(page.locator("#item")).to_have_attribute("data-id", "item006")
        expect(page.locator("#story")).to_contain_text("<script>window.__xss = 1</script>")
        expect(page.locator("#story")).to_contain_text('<img src=x onerror="window.__xss = 2">')
        assert page.evaluate("window.__xss") is None
        assert page.locator("#story img, #story script, #story svg, #story a").count() == 0
        page.keyboard.press("r")  # reject: the reason list takes focus; choosing one submits
        page.select_option("#reason", "unsafe")
        expect(page.locator("#item")).to_have_attribute("data-id", "item005")
        expect(page.locator("#story mark.role-verb").first).to_have_text("ran")  # inflected forms highlighted
        expect(page.locator("#story mark.role-noun")).to_have_count(2)  # "ball" and "balls"
        page.keyboard.press("a")  # accept
        expect(page.locator("#item")).to_have_attribute("data-id", "item004")
        page.keyboard.press("r")
        page.select_option("#reason", "incoherent")
        expect(page.locator("#item")).to_have_attribute("data-id", "item003")
        page.keyboard.press("e")  # edit in place, Ctrl+Enter saves
        page.fill("#edit-text", "Tom ran after the red ball. He was happy.")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#item")).to_have_attribute("data-id", "item002")
        page.keyboard.press("ArrowLeft")  # back to the edited item: new text shown, original kept
        expect(page.locator("#story")).to_have_text("Tom ran after the red ball. He was happy.")
        expect(page.locator("#original")).to_contain_text("Story number 3.")
        page.keyboard.press("t")
        page.fill("#tags", "short, nice")
        page.keyboard.press("Enter")
        expect(page.locator("#decisions")).to_contain_text("[short, nice]")
        page.keyboard.press("ArrowRight")
        expect(page.locator("#item")).to_have_attribute("data-id", "item002")
        page.goto(url + "/q/uncertain")  # nearest the quality threshold first; item005 is decided already
        expect(page.locator("#item")).to_have_attribute("data-id", "item100")
        page.goto(url + "/")
        expect(page.locator("tr[data-queue=lowest] td.mine")).to_have_text("4")
        ARTIFACTS.mkdir(exist_ok=True)
        page.goto(url + "/q/mine/0")
        page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        browser.close()

    with sqlite3.connect(dataset / "review" / "review.sqlite") as db:
        rows = db.execute("SELECT item_id, reviewer, action, reason, text, tags FROM decisions ORDER BY id").fetchall()
        audit = db.execute("SELECT event, item_id FROM audit WHERE reviewer = 'alice' ORDER BY id").fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("item006", "reject", "unsafe"),
        ("item005", "accept", None),
        ("item004", "reject", "incoherent"),
        ("item003", "edit", None),
        ("item003", "tag", None),
    ]
    assert rows[3][4] == "Tom ran after the red ball. He was happy." and rows[4][5] == '["short", "nice"]'
    assert [a[0] for a in audit] == [
        "decision.reject",
        "decision.accept",
        "decision.reject",
        "decision.edit",
        "decision.tag",
    ]

    out = tmp_path / "reviewed"
    result = run_cli("review", "apply", "--in", str(dataset), "--out", str(out))
    assert result.returncode == 0, result.stderr
    reviewed = Dataset.open(out)
    kept = {r.id: r for r in reviewed.iter_records("data")}
    excluded = {r.id: r for r in reviewed.iter_records("excluded")}
    assert "review.incoherent" in excluded["item004"].flags and "review.unsafe" in excluded["item006"].flags
    [edited] = [r for r in kept.values() if r.parent_id == "item003"]
    assert edited.text == "Tom ran after the red ball. He was happy." and edited.meta["review"]["editor"] == "alice"
    assert edited.meta["review"]["tags"] == ["short", "nice"]
    assert kept["item005"].meta["review"]["status"] == "accept" and "review" not in kept["item000"].meta
    assert len(kept) == 5 and len(excluded) == 3  # 7 kept - 2 rejects; 1 filter reject + 2 review rejects
