"""The report over a real curated dataset, rendered in headless Chromium: plots present, numbers match JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_FLAGS, ROOT, SHARED, run_cli, scripted_config
from synthloop import plugins
from synthloop.config import load_config
from synthloop.curate.runner import curate
from synthloop.generate.runner import generate
from synthloop.report.runner import report

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT / "tests"))
        patch.setenv("SYNTHLOOP_PLUGINS", "scripted_backend")
        plugins.plugin_manager.cache_clear()
        make_curated(tmp_path)
        plugins.plugin_manager.cache_clear()
    return tmp_path / "curated"


def make_curated(tmp_path: Path) -> None:
    overrides = ["generate.max_attempts=1", "curate.filters.form={min_words=20}"]
    config = load_config(scripted_config(tmp_path, n=40, skip_words_mod=3), overrides)
    generate(config)
    curate(config, tmp_path / "out", tmp_path / "curated")


def test_report_writes_metrics_html_and_card(curated: Path, tmp_path: Path) -> None:
    reference = SHARED / "corpora" / "tinystories_sample.jsonl"
    result = report(curated, tmp_path / "report", reference)
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["dataset"]["stories"] == result.metrics["dataset"]["stories"] > 0
    assert metrics["reference"]["stories"] == 1002
    assert 0 <= metrics["mauve"]["mauve"] <= 1 and metrics["curation"]["total"] == 40
    assert metrics["constraints"]["by_pos"]["noun"] < 1.0  # some first attempts skipped their words
    card = (tmp_path / "report" / "README.md").read_text()
    assert card.startswith("---\n") and "## How it was made" in card and "scripted-1" in card


@pytest.mark.slow
def test_report_renders_in_headless_chromium(curated: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report"
    result = run_cli(
        "report",
        "--in",
        str(curated),
        "--out",
        str(out),
        "--reference",
        str(SHARED / "corpora" / "tinystories_sample.jsonl"),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((out / "index.html").as_uri())
        images = page.locator("img")
        assert images.count() >= 5
        for i in range(images.count()):  # every plot decoded to a real picture
            assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 100")
        shown = page.locator("[data-metric]")
        assert shown.count() > 40
        for i in range(shown.count()):
            element = shown.nth(i)
            path, text = element.get_attribute("data-metric"), element.inner_text()
            value = metrics
            for part in path.split("/"):
                value = value[part]
            digits = len(text.split(".")[1]) if "." in text else 0
            assert float(text) == pytest.approx(value, abs=0.51 * 10**-digits), path
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()


def test_bad_report_inputs(curated: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ref.jsonl"
    bad.write_text('{"title": "no text"}\n')
    result = run_cli("report", "--in", str(curated), "--out", str(tmp_path / "r"), "--reference", str(bad))
    assert result.returncode == 2 and "expected an object with a 'text' field" in result.stderr
    result = run_cli("report", "--in", str(tmp_path / "none"), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "no such dataset folder" in result.stderr
