"""The briefing's HTML in a real browser: Debian's `chromium`, headless, at phone width (390 px).

Two checks per language: a full-page screenshot at 390 px (kept under test-artifacts/ for a human to look at) and
a measurement that nothing scrolls horizontally: `scrollWidth <= innerWidth`, plus the element that sticks out
when something does.

Why an iframe: headless Chromium (new mode) will not make a window narrower than 500 px, so `--window-size=390,…`
lays the page out at 500 px and only crops the screenshot to 390: a layout 450 px wide would pass unseen. The
harness page therefore holds the briefing in an iframe exactly 390 px wide, whose window is a real 390 px
viewport; `test_the_harness_sees_a_page_that_is_too_wide` proves the measurement catches an overflow.

Chromium is a test prerequisite, installed by `make test` (the Makefile's `browser` target). When it is missing
these tests FAIL with the command to install it: a skip would hide that the rendering was never checked.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from presswatch.digest.briefing import build_briefing
from presswatch.index.sqlite import SqliteIndex
from presswatch.records import Clipping, Flag, Reason
from presswatch.state import State
from tests.conftest import REPO
from tests.test_digest_support import (
    DAY,
    IN_WINDOW,
    MUNI,
    NOW,
    audit_story,
    budget_claim,
    clip,
    demo_profile,
    park_xss,
)

PHONE_W, PHONE_H = 390, 844
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_TIMEOUT_S = 90
LONG_WORD = "Rekonštrukcia" + "nadrozmerného" * 18  # 247 letters, no place to break
LONG_URL = "https://www.stara-horka.example/uradna-tabula/2026/11/" + "rozpocet-mesta-" * 16 + "final.pdf"


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's `chromium` is not installed, so the briefing's rendering cannot be checked. "
                    "`make test` installs it (target `browser`); by hand, as root: "
                    "apt-get update && apt-get install -y --no-install-recommends chromium")
    return path


def run_chromium(tmp: Path, *args: str) -> str:
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--mute-audio", f"--user-data-dir={tmp / 'chromium-profile'}",
           *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


# The probe runs in the harness page once the iframe has loaded; it writes its findings into the harness's DOM,
# which `--dump-dom` prints. Same origin: an iframe's srcdoc document belongs to the page that holds it.
PROBE = """
<script>
document.getElementById('frame').addEventListener('load', function () {
  var win = this.contentWindow, doc = this.contentDocument, root = doc.documentElement, wide = [];
  doc.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > win.innerWidth + 0.5 && wide.length < 5)
      wide.push(el.tagName + ' ' + Math.round(r.right) + ' ' + (el.textContent || '').trim().slice(0, 60));
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({scrollWidth: root.scrollWidth, innerWidth: win.innerWidth,
                                    scrollHeight: root.scrollHeight, wide: wide});
  document.body.appendChild(out);
});
</script>
"""


def harness(page: str, height: int, probe: bool) -> str:
    frame = (f'<iframe id="frame" width="{PHONE_W}" height="{height}" scrolling="no" '
             f'style="display:block;border:0;width:{PHONE_W}px;height:{height}px;" '
             f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0;\">{frame}"
            f"{PROBE if probe else ''}</body></html>")


def measure(tmp: Path, page: str) -> dict[str, Any]:
    path = tmp / "measure.html"
    path.write_text(harness(page, PHONE_H, probe=True), encoding="utf-8")
    dom = run_chromium(tmp, f"--window-size={PHONE_W},{PHONE_H}", "--virtual-time-budget=5000", "--dump-dom",
                       path.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert found, f"the probe wrote nothing; chromium printed:\n{dom[-2000:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert result["innerWidth"] == PHONE_W, f"measured at the wrong width: {result}"
    return result


def screenshot(tmp: Path, page: str, height: int, png: Path) -> tuple[int, int]:
    height = min(max(height, PHONE_H), 12000)
    path = tmp / "shot.html"
    path.write_text(harness(page, height, probe=False), encoding="utf-8")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    run_chromium(tmp, f"--window-size={PHONE_W},{height}", f"--screenshot={png}", path.as_uri())
    assert png.exists(), f"chromium wrote no screenshot to {png}"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, tall = struct.unpack(">II", data[16:24])
    return int(width), int(tall)


def long_and_hostile() -> list[Clipping]:
    """A headline of one 247-letter word, a lead that starts with a long URL, a misleading flag whose record is a
    long URL shown as a link."""
    record = Reason(cue="rozpočet 30 miliónov", quote="Rozpočet mesta je 30 miliónov eur.", field="text", start=0,
                    end=34, record="Schválený rozpočet mesta na rok 2026 je 24,8 mil. EUR.", record_url=LONG_URL)
    return [
        clip("dlhe-slovo", f"{LONG_WORD} námestia", outlet="hronske", published=IN_WINDOW + timedelta(hours=5),
             bodies=["council"], text=f"{LONG_URL} {LONG_WORD} Zastupiteľstvo rokovalo o námestí."),
        clip("dlha-adresa", "Mesto zverejnilo rozpočet", outlet="horcan", published=IN_WINDOW + timedelta(hours=6),
             flags=[Flag("misleading", 0.65, (record,))], bodies=["council"]),
    ]


@pytest.fixture
def briefing_day(store: tuple[State, SqliteIndex]) -> tuple[State, SqliteIndex]:
    state, index = store
    before = [clip(f"old-{i}", f"Staršia správa {i}", published=IN_WINDOW - timedelta(days=1 + i % 6, hours=i),
                   sentiment="negative" if i < 3 else "neutral") for i in range(14)]
    index.upsert(audit_story() + [budget_claim(), park_xss()] + long_and_hostile() + before)
    state.register_source("pohronie-rss", MUNI, "feed", "http://127.0.0.1:8765/pohronie/rss.xml")
    for _ in range(3):  # failing, with a long unbroken error, in the silent sources
        state.poll_failed("pohronie-rss", "HTTP 503 " + "x" * 150)
    return state, index


@pytest.mark.parametrize("lang", ["sk", "mk", "en"])
def test_briefing_fits_a_phone_in_chromium(briefing_day: tuple[State, SqliteIndex], tmp_path: Path,
                                           lang: str) -> None:
    state, index = briefing_day
    briefing = build_briefing(demo_profile(25), index, state, DAY, lang, NOW)
    page = briefing.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page.lower()
    assert LONG_WORD in page and LONG_URL in page and "x" * 150 in page

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"briefing-{lang}.html").write_text(page, encoding="utf-8")
    found = measure(tmp_path, page)
    assert found["scrollWidth"] <= found["innerWidth"], f"{lang}: scrolls horizontally at {PHONE_W} px: {found}"
    assert found["wide"] == [], f"{lang}: elements wider than the phone: {found['wide']}"

    png = ARTIFACTS / f"briefing-{lang}-{PHONE_W}px.png"
    width, height = screenshot(tmp_path, page, int(found["scrollHeight"]), png)
    assert width == PHONE_W and height >= PHONE_H
    print(f"screenshot: {png}")


def test_the_harness_sees_a_page_that_is_too_wide(tmp_path: Path) -> None:
    # 450 px: wider than the phone, narrower than headless Chromium's 500 px minimum window.
    found = measure(tmp_path, '<!DOCTYPE html><html><body style="margin:0"><div style="width:450px">wide</div>'
                              "</body></html>")
    assert found["scrollWidth"] == 450 and found["wide"]
