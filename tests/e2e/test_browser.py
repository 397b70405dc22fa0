"""End to end: the real server (`manage.py serve`, as `make run` starts it) driven by headless Chromium."""

import base64
import csv
import io
import os
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from analysis.bench.processes import ROOT, Site, free_port, stop
from tests.images import pdf_with_images, save, scene

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
Axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed").Axe
if not Path(CHROMIUM).exists():
    pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    return Site(tmp_path_factory.mktemp("data")).migrate()


@pytest.fixture(scope="module")
def server(site):
    port = free_port()
    process = site.serve(port)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def refused_by_csp(page) -> list[str]:
    """Every Content-Security-Policy violation the page reports, collected as it goes: the test asserts none."""
    refused: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    return refused


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused = refused_by_csp(page)
    yield page
    context.close()
    assert refused == []


@pytest.fixture
def figures(tmp_path) -> Path:
    """A folder of figures: copies of one picture (rotated, a flipped crop, inside a PDF), others, a broken file."""
    folder = tmp_path / "paper"
    original = scene(31, 800, 600)
    save(original, folder / "figure1" / "blot.png")
    save(np.rot90(original), folder / "figure2" / "blot_rotated.jpg", quality=88)
    save(original[:, ::-1][80:520, 120:700], folder / "supplement" / "blot_flipped_crop.png")
    for seed in (32, 33, 34):
        save(scene(seed, 640, 480), folder / "figure3" / f"cells_{seed}.png")
    pdf_with_images(folder / "supplement" / "article.pdf", [original, scene(35)])
    (folder / "supplement" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def shots() -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR", "") or ROOT / "data" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(page, expression: str, seconds: float = 20) -> None:
    """Polls an expression from outside the page: Playwright's wait_for_function evaluates strings inside it,
    which the site's CSP (no eval) refuses."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def screenshot(page, name: str) -> None:
    # a full-page picture: the thumbnails below the fold too, which the page loads lazily
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(img => img.loading = 'eager')")
    wait_until(page, "[...document.images].every(img => img.complete)")
    page.screenshot(path=shots() / f"{name}.jpg", full_page=True, type="jpeg", quality=80)


def sign_up(page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password:", exact=True).fill("a long test passphrase 7")
    page.get_by_label("Password confirmation:").fill("a long test passphrase 7")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/")


def test_a_user_finds_the_duplicates_in_a_folder(page, figures):
    sign_up(page, "alice")
    page.get_by_role("button", name="Sign out alice").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password:").fill("a long test passphrase 7")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    page.set_input_files("#folder-input", figures)
    expect = playwright_api.expect
    expect(page.locator("#previews li")).to_have_count(8)
    expect(page.locator("#selection-summary")).to_contain_text("8 files")
    expect(page.locator("#previews")).to_contain_text("paper/figure2/blot_rotated.jpg")
    screenshot(page, "upload")

    page.get_by_role("button", name="Analyze").click()
    page.wait_for_url("**/runs/*/")
    run_url = page.url
    page.reload()  # the page shows the stored state, then follows the run again
    # the progress bars move with no reload: websocket messages swapped in by htmx
    seen = set()
    deadline = time.monotonic() + 240
    while not page.locator("#run-results .pair").count():
        state = page.locator("#run-progress").inner_text()
        if "Running" in state and not any("Running" in earlier for earlier in seen):
            screenshot(page, "running")
        seen.add(state)
        assert time.monotonic() < deadline, f"no results; last state: {state}"
        time.sleep(0.1)
    assert any("Running" in state for state in seen)
    assert len(seen) >= 3, seen
    assert page.url == run_url

    results = page.locator("#run-results")
    expect(results).to_contain_text("Semantic ranking unavailable")
    expect(results.locator("li.pair.verdict-duplicate").first).to_be_visible()
    names = results.locator(".verdict-duplicate .names").all_inner_texts()
    joined = " ".join(names)
    for name in ("figure1/blot.png", "figure2/blot_rotated.jpg", "supplement/blot_flipped_crop.png"):
        assert name in joined
    assert "cells_" not in joined
    expect(results.locator(".group").first).to_contain_text("blot_rotated.jpg")
    expect(results.locator(".skipped")).to_contain_text("broken.jpg")
    expect(results).to_contain_text("rotated 90°")
    screenshot(page, "results")

    with page.expect_download() as download:
        results.get_by_role("link", name=re.compile(r"^Download CSV \(\d+ findings\)$")).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0]["verdict"] == "duplicate"
    assert {row["verdict"] for row in rows} <= {"duplicate", "similar"}
    assert {"pair", "image1", "image2", "clip_score", "local_matches", "transform"} <= set(rows[0])

    with page.expect_download() as download:
        results.get_by_role("link", name="Download report (HTML)").click()
    report = Path(download.value.path()).read_text()
    assert "<h2>Findings by confidence</h2>" in report and "data:image/jpeg;base64," in report
    with page.expect_download() as download:
        results.get_by_role("link", name="Download report (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    results.get_by_role("link", name="Evidence for pair 1", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Pair 1: duplicate")
    assert page.locator("svg .inliers line").count() >= 5
    assert page.locator("svg rect.region").count() == 2
    loaded = page.evaluate(
        "Promise.all([...document.querySelectorAll('svg image')].map("
        "i => fetch(i.getAttribute('href')).then(r => r.ok && r.headers.get('content-type'))))"
    )
    assert loaded == ["image/jpeg", "image/jpeg"]
    page.get_by_label("Difference").check()
    assert page.evaluate("getComputedStyle(document.getElementById('overlay')).mixBlendMode") == "difference"
    assert page.evaluate("document.getElementById('overlay').naturalWidth") > 0
    page.get_by_label("Confirmed duplicate").check()
    page.get_by_label("Comment (optional)").fill("the same blot in figures 1 and 2")
    page.get_by_role("button", name="Save verdict").click()
    expect(page.locator(".review-box")).to_contain_text("Confirmed duplicate by alice")
    expect(page.locator(".history")).to_contain_text("the same blot in figures 1 and 2")
    screenshot(page, "pair")

    page.get_by_role("link", name="History").click()
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs")).to_contain_text("Done")


def test_another_user_cannot_open_the_run(browser, server, page, figures):
    sign_up(page, "carol")
    page.set_input_files("#id_files", [figures / "figure1" / "blot.png"])
    playwright_api.expect(page.locator("#previews")).to_contain_text("blot.png")
    page.get_by_role("button", name="Analyze").click()
    page.wait_for_url("**/runs/*/")
    run_url = page.url

    other = browser.new_context(base_url=server).new_page()
    sign_up(other, "dave")
    assert other.goto(run_url).status == 404
    other.context.close()


def test_dropped_files_are_analysed_and_the_results_fit_a_phone(browser, server, figures):
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_up(page, "frank")
    pictures = [figures / "figure1" / "blot.png", figures / "figure2" / "blot_rotated.jpg"]
    payload = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in pictures]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name));
            }
            return transfer;
        }""",
        payload,
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    playwright_api.expect(page.locator("#previews li")).to_have_count(2)
    page.get_by_role("button", name="Analyze").click()
    playwright_api.expect(page.locator("#run-results .verdict-duplicate")).to_have_count(1, timeout=120_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "results-phone")
    context.close()


def test_a_user_keeps_an_upload_in_the_library_and_a_later_upload_finds_its_copy(page, figures):
    expect = playwright_api.expect
    sign_up(page, "ivan")
    page.set_input_files("#id_files", [figures / "figure1" / "blot.png", figures / "figure3" / "cells_32.png"])
    expect(page.get_by_label("Check against")).to_have_value(re.compile("[0-9a-f-]{36}"))
    page.get_by_label("Keep these pictures in the library").check()
    page.get_by_role("button", name="Analyze").click()
    page.wait_for_url("**/runs/*/")
    expect(page.locator("#run-progress")).to_contain_text("Done", timeout=120_000)
    expect(page.locator("#stage-keeping")).to_be_attached()

    page.goto("/")
    expect(page.get_by_label("Check against")).to_contain_text("Your library: 2 pictures")
    page.set_input_files("#id_files", [figures / "figure2" / "blot_rotated.jpg", figures / "figure3" / "cells_33.png"])
    page.get_by_role("button", name="Analyze").click()
    pair = page.locator("#run-results li.pair.verdict-duplicate")
    expect(pair).to_have_count(1, timeout=120_000)
    expect(pair.locator(".names")).to_contain_text("library:blot.png")
    expect(pair.locator(".library-origin")).to_contain_text("Kept in ivan's library, from the analysis of")
    screenshot(page, "library-results")

    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_role("link", name="Your library").click()
    expect(page.locator(".library-entries li")).to_have_count(2)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove blot.png from the library").click()
    expect(page.locator(".library-entries li")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("1 picture kept")


def test_a_user_cancels_a_running_analysis_after_the_page_was_updated_live(page, long_run_figures):
    expect = playwright_api.expect
    sign_up(page, "judy")
    page.set_input_files("#folder-input", long_run_figures)
    page.get_by_role("button", name="Analyze").click()
    page.wait_for_url("**/runs/*/")
    # the websocket has swapped in a new progress section (the form in it included) by the time reading moves
    expect(page.locator("#stage-reading")).to_have_attribute("value", re.compile("^[1-9]"), timeout=60_000)
    with page.expect_response(lambda response: response.url.endswith("/cancel/")) as answer:
        page.get_by_role("button", name="Cancel analysis").click()
    assert answer.value.status == 200, answer.value.text()
    expect(page.locator("#run-progress [role=status]")).to_contain_text("Cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Cancel analysis")).to_have_count(0)
    page.reload()
    expect(page.locator("#run-progress [role=status]")).to_contain_text("Cancelled")
    assert not page.locator("#run-results .pair").count()


# text in a box under a third of the window that wraps to more than three lines: a value a few letters per line
NARROW_TEXT = """() => [...document.querySelectorAll('p, dd, dt, li, td, th, label, h1, h2, h3, figcaption')]
    .filter(element => {
        const box = element.getBoundingClientRect();
        const line = parseFloat(getComputedStyle(element).lineHeight) || 20;
        return box.width > 0 && element.textContent.trim() && box.width < innerWidth / 3 && box.height > 3.5 * line;
    })
    .map(element => element.tagName + ': ' + element.textContent.trim().slice(0, 60))"""


def check_page(page, name: str) -> None:
    """axe-core finds no serious or critical violation; on a phone nothing scrolls sideways or wraps thin."""
    results = Axe().run(page)
    grave = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not grave, f"{name}: {[(v['id'], [n['target'] for n in v['nodes']][:3]) for v in grave]}"
    if page.viewport_size["width"] < 500:
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
        assert page.evaluate(NARROW_TEXT) == [], name


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_reads_on_a_desktop_and_a_phone_and_passes_axe(browser, server, figures, width):
    expect = playwright_api.expect
    context = browser.new_context(base_url=server, viewport={"width": width, "height": 900}, is_mobile=width < 500)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused = refused_by_csp(page)
    suffix = "phone" if width < 500 else "desktop"
    try:
        page.goto("/")
        check_page(page, "home")
        page.goto("/accounts/login/")
        check_page(page, "sign in")
        page.goto("/accounts/signup/")
        check_page(page, "sign up")
        sign_up(page, f"kim{width}")
        check_page(page, "upload")
        # a two-panel figure whose right panel is one of the cells pictures, turned over
        figure = np.full((420, 980, 3), 255, np.uint8)
        figure[30:390, 20:480] = scene(36, 460, 360)
        figure[30:375, 500:960] = cv2.resize(scene(32, 640, 480)[::-1], (460, 345), interpolation=cv2.INTER_AREA)
        save(figure, figures / "figure4" / "panels.png")
        page.set_input_files("#folder-input", figures)
        page.get_by_label("Manuscript or case ID").fill("JCB-2026-0412")
        check_page(page, "upload with files")
        screenshot(page, f"upload-{suffix}")
        page.get_by_role("button", name="Analyze").click()
        page.wait_for_url("**/runs/*/")
        screenshot(page, f"progress-{suffix}")
        results = page.locator("#run-results .verdict-duplicate")
        expect(results.first).to_be_visible(timeout=120_000)  # swapped in by the websocket
        expect(page.locator("h1")).to_contain_text("Analysis of")
        expect(page.locator(".case-id")).to_contain_text("JCB-2026-0412")
        check_page(page, "results")
        screenshot(page, f"results-{suffix}")
        # the PDF's page, with a numbered box on the blot it shows, which leads to the finding
        figure_map = page.locator(".figure-map").filter(has_text="paper/supplement/article.pdf#page=1: page 1")
        expect(
            page.locator(".figure-map").filter(has_text="paper/figure4/panels.png: a figure of 2 panels")
        ).to_be_visible()
        figure_map.screenshot(path=shots() / f"figure-map-{suffix}.jpg", type="jpeg", quality=85)
        numbers = figure_map.locator(".map-number a")
        assert numbers.count() >= 2  # the blot is found in three other files: one box, each finding numbered
        best, rank = numbers.first.text_content(), numbers.nth(1).text_content()
        numbers.nth(1).click()
        expect(page.locator("h1")).to_have_text(f"Pair {rank}: duplicate")
        page.go_back()
        figure_map.locator("rect").first.click(position={"x": 3, "y": 3})  # the box leads to the best of them
        expect(page.locator("h1")).to_have_text(f"Pair {best}: duplicate")
        page.go_back()
        expect(results.first).to_be_visible()

        page.get_by_role("link", name="Evidence for pair 1", exact=True).click()
        expect(page.locator("h1")).to_contain_text("Pair 1: duplicate")
        wait_until(page, "document.getElementById('overlay').complete")
        check_page(page, "pair")
        # the overlay at 100%: within the frame and the window, and no larger than the picture's own pixels
        sizes = page.evaluate(
            """() => {
                const base = document.querySelector('#compare img'), frame = document.querySelector('.compare-frame');
                return [base.getBoundingClientRect().width, base.getBoundingClientRect().height, base.naturalWidth,
                        frame.clientWidth, window.innerHeight];
            }"""
        )
        shown_width, shown_height, natural_width, frame_width, window_height = sizes
        assert shown_width <= min(natural_width, frame_width) + 1 and shown_height <= 0.8 * window_height + 1, sizes
        page.get_by_role("slider", name="Zoom").fill("200")
        assert page.evaluate("document.querySelector('#compare img').getBoundingClientRect().width") > shown_width
        if width < 500:  # labels above their values, evidence across the width
            facts = page.locator(".facts dt").first.bounding_box(), page.locator(".facts dd").first.bounding_box()
            assert facts[1]["y"] >= facts[0]["y"] + facts[0]["height"] - 1, facts
            assert page.locator(".evidence svg").bounding_box()["width"] >= 0.85 * width
        screenshot(page, f"pair-{suffix}")
        page.go_back()

        # a panel's finding is told and drawn as the panel
        panel_pair = results.filter(has_text="figure4/panels.png#panel=2").first
        panel_pair.get_by_role("link", name=re.compile(r"^Evidence for pair \d+$")).click()
        expect(page.locator(".facts")).to_contain_text("panel 2 of paper/figure4/panels.png")
        expect(page.locator(".facts")).to_contain_text("of the second panel")
        screenshot(page, f"pair-panel-{suffix}")

        # the report's first page, as the browser shows the downloaded HTML
        page.go_back()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download report (HTML)").click()
        # a page of its own, as a file opened from disk is: not under the site's CSP, whose pages forbid its styles
        opened = context.new_page()
        opened.set_content(Path(download.value.path()).read_text())
        expect(opened.locator("h1")).to_contain_text("DeepChecker report: JCB-2026-0412")
        expect(opened.locator("body")).to_contain_text("Findings by confidence")
        opened.screenshot(path=shots() / f"report-page1-{suffix}.jpg", type="jpeg", quality=80)
        opened.close()

        for link, name in (
            ("History", "history"),
            ("Library", "libraries"),
            ("Your library", "library"),
            ("API keys", "api keys"),
        ):
            page.get_by_role("link", name=link, exact=True).click()
            check_page(page, name)
        page.get_by_label("What will use it").fill("journal system")
        page.get_by_role("button", name="Make a key").click()
        page.get_by_role("button", name="Copy key").click()
        expect(page.locator("#copy-status")).to_have_text("Copied.")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.locator("#new-key").inner_text() and copied.startswith("dc_")
        check_page(page, "new key")
        page.get_by_role("link", name="how to use the API").click()
        expect(page.locator("h1")).to_have_text("The API")
        check_page(page, "api docs")
    finally:
        context.close()
    assert refused == []


def test_staff_read_the_run_list_in_the_admin_at_1366_px(browser, server, site, page, figures):
    sign_up(page, "lena")
    page.set_input_files("#id_files", [figures / "figure1" / "blot.png", figures / "figure2" / "blot_rotated.jpg"])
    page.get_by_label("Name").fill("Smith et al., figures 1-4 and the supplement")
    page.get_by_role("button", name="Analyze").click()
    playwright_api.expect(page.locator("#run-progress")).to_contain_text("Done", timeout=120_000)
    site.manage(
        "shell", "-c", "User.objects.create_superuser('staff', 'staff@example.org', 'a long test passphrase 7')"
    )
    admin = browser.new_context(base_url=server, viewport={"width": 1366, "height": 900}).new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Username").fill("staff")
    admin.get_by_label("Password").fill("a long test passphrase 7")
    admin.get_by_role("button", name="Log in").click()
    admin.goto("/admin/analysis/run/")
    playwright_api.expect(admin.locator("#result_list")).to_contain_text("Smith et al., figures 1-4")
    assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert admin.get_by_role("link", name=re.compile("Add run", re.I)).count() == 0
    admin.context.close()


def test_the_page_refuses_more_files_than_the_limit_before_uploading(page, figures):
    sign_up(page, "grace")
    page.evaluate("document.getElementById('upload-form').dataset.maxFiles = '3'")
    page.set_input_files("#folder-input", figures)
    playwright_api.expect(page.locator("#selection-limit")).to_have_text("Too much for one analysis: at most 3 files.")
    playwright_api.expect(page.get_by_role("button", name="Analyze")).to_be_disabled()
    page.get_by_role("button", name="Clear").click()
    playwright_api.expect(page.get_by_role("button", name="Analyze")).to_be_enabled()


def test_a_redis_restart_mid_run_loses_messages_but_not_the_run(
    browser, tmp_path, postgres_url, redis, long_run_figures
):
    data = tmp_path / "data"
    data.mkdir()
    site = Site(data, {"DATABASE_URL": postgres_url, "REDIS_URL": redis.url}).migrate()
    port = free_port()
    web = site.serve(port, "--no-worker")
    worker = site.start("worker", "analysis_worker")
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_up(page, "heidi")
        page.set_input_files("#folder-input", long_run_figures)
        page.get_by_role("button", name="Analyze").click()
        page.wait_for_url("**/runs/*/")
        run_url = page.url
        # the worker loads torch on its first run: reading may start some seconds after the page
        reading = page.locator("#stage-reading")
        playwright_api.expect(reading).to_have_attribute("value", re.compile("^[1-9]"), timeout=60_000)

        redis.stop()
        # down until the worker has had something to say: on a busy machine no progress may fall in a fixed pause
        log, deadline = data / "worker.log", time.monotonic() + 60
        while "not announced" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        redis.start()

        results = page.locator("#run-results .verdict-duplicate")
        playwright_api.expect(results).to_have_count(1, timeout=120_000)
        assert page.url == run_url
        assert "figure_03_turned.png" in results.inner_text()
        playwright_api.expect(page.locator("#run-progress")).to_contain_text("Done")
    finally:
        context.close()
        stop(worker)
        stop(web)
    assert "not announced" in (data / "worker.log").read_text()  # progress messages were lost meanwhile
