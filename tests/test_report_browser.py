"""The HTML report in a real browser (headless Chromium), and the PDF's pages as images."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
]

#: Written into the page before its own content: console errors and uncaught errors are
#: recorded, and after load the size of every figure's SVG is written into the DOM.
PROBE = """<script>
window.__errors = [];
const __error = console.error.bind(console);
console.error = (...args) => { window.__errors.push(args.join(" ")); __error(...args); };
window.addEventListener("error", (e) => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener("load", () => {
  const boxes = [...document.querySelectorAll("figure svg")].map((svg) => {
    const r = svg.getBoundingClientRect();
    return {id: svg.closest("figure").id, width: r.width, height: r.height};
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({boxes: boxes, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _install_chromium() -> str | None:
    """Chromium's path, installing the Debian package first when possible (root + apt-get)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            return None
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _install_chromium()
    if path is None:
        pytest.skip(
            "chromium is not installed and cannot be installed here (needs root and apt-get: "
            "apt-get install -y chromium, or .ci/system-deps --test)"
        )
    return path


def run_chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def console_messages(stderr: str) -> list[str]:
    """Console output Chromium logged (``CONSOLE(…)`` lines), not its own start-up noise."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def probe(chromium: str, tmp_path: Path, html: str) -> tuple[dict, list[str]]:
    """Load ``html`` with the probe; its JSON report and the logged console lines."""
    page = tmp_path / "probe.html"
    page.write_text(html.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    done = run_chromium(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert match, "the probe did not run"
    import html as html_lib

    return json.loads(html_lib.unescape(match.group(1))), console_messages(done.stderr)


def test_report_renders_without_console_errors(chromium, demo_dir: Path, tmp_path: Path) -> None:
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    report, console = probe(chromium, tmp_path, html)
    assert report["errors"] == []
    assert console == []
    ids = [box["id"] for box in report["boxes"]]
    assert ids == [
        "figure-flow",
        "figure-km-overall",
        "figure-km",
        "figure-simon-makuch",
        "figure-landmark",
    ]
    for box in report["boxes"]:
        assert box["width"] > 100 and box["height"] > 100, box


def test_the_probe_sees_console_errors(chromium, tmp_path: Path) -> None:
    html = "<html><head></head><body><script>console.error('boom')</script></body></html>"
    report, console = probe(chromium, tmp_path, html)
    assert report["errors"] == ["boom"]
    assert any("boom" in line for line in console)


def test_screenshot_is_not_blank(chromium, demo_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    done = run_chromium(
        chromium,
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1000,2400",
        (demo_dir / "report.html").as_uri(),
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("L")
    assert image.size == (1000, 2400)
    dark = sum(image.histogram()[:200])
    assert dark > 0.01 * image.size[0] * image.size[1]
    assert len(image.getcolors(maxcolors=256 * 256) or range(256)) > 16


def test_pdf_figure_pages_are_not_blank(demo_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    pages = subprocess.run(
        ["pdftotext", str(demo_dir / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    figure_pages = [i + 1 for i, text in enumerate(pages) if re.search(r"Figure \d\.", text)]
    assert len(figure_pages) >= 2
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(demo_dir / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len([p for p in pages if p.strip()])
    for number in figure_pages:
        image = Image.open(images[number - 1]).convert("L")
        histogram = image.histogram()
        area = image.size[0] * image.size[1]
        assert sum(histogram[:240]) > 0.02 * area, number  # not blank
        assert sum(histogram[:128]) > 0.002 * area, number  # with dark ink (lines, text)


#: Loaded inside a frame of a given width: whether the page scrolls sideways (its width beyond
#: the frame's) and every text whose contrast with its background is below WCAG AA's 4.5:1
#: (SVG text by its fill, against the figure's background), written into the host page.
LAYOUT_PROBE = r"""<script>
window.addEventListener("load", () => {
  const parse = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(",").map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const luminance = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const style = getComputedStyle(el);
    if (!node.textContent.trim() || el.closest("script,style,title")) continue;
    if (style.display === "none" || style.visibility === "hidden") continue;
    const inSvg = el.closest("svg") !== null;
    const fg = parse(inSvg ? style.fill : style.color);
    if (!fg) continue;
    const a = luminance(fg);
    const b = luminance(background(inSvg ? el.closest("svg").parentElement : el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) {
      low.push({text: node.textContent.trim().slice(0, 40), ratio: ratio.toFixed(2)});
    }
  }
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    low: low,
    wide: wide.slice(0, 20),
  });
  window.parent.document.body.appendChild(out);
});
</script>"""


def layout_probe(chromium: str, tmp_path: Path, html: str, width: int) -> dict:
    """``html`` in a frame ``width`` px wide (Chromium's own window cannot be narrower than
    500 px): its scroll width, its width, and the texts below 4.5:1."""
    import html as html_lib

    inner = html.replace("<head>", "<head>\n" + LAYOUT_PROBE, 1)
    host = tmp_path / f"host-{width}.html"
    host.write_text(
        '<!DOCTYPE html><html><head></head><body style="margin:0">'
        f'<iframe style="width:{width}px;height:844px;border:0" '
        f'srcdoc="{html_lib.escape(inner, quote=True)}"></iframe></body></html>',
        encoding="utf-8",
    )
    done = run_chromium(chromium, tmp_path, "--window-size=1400,900", "--dump-dom", host.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert match, "the layout probe did not run"
    return json.loads(html_lib.unescape(match.group(1)))


@pytest.fixture(scope="module")
def validation_html(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The steward's report of the demo's first site."""
    from toolkit.pipeline import check_submission
    from toolkit.validation_report import write_validation_report

    out = tmp_path_factory.mktemp("steward")
    info, findings = check_submission(demo_dir / "submissions" / "S01")
    written = write_validation_report(info, findings, out)
    return Path(written["html"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("document", ["report", "validation"])
def test_reads_on_a_phone_and_a_desktop(
    chromium, demo_dir: Path, validation_html: str, tmp_path: Path, document: str, width: int
) -> None:
    html = (
        (demo_dir / "report.html").read_text(encoding="utf-8")
        if document == "report"
        else validation_html
    )
    seen = layout_probe(chromium, tmp_path, html, width)
    assert seen["innerWidth"] == width
    assert seen["scrollWidth"] <= seen["innerWidth"], seen["wide"]  # wide tables scroll alone
    assert seen["low"] == [], seen["low"]  # every text at 4.5:1 or more


def test_the_layout_probe_sees_a_wide_page_and_faint_text(chromium, tmp_path: Path) -> None:
    html = (
        "<html><head></head><body><div style='width:900px'>wide</div>"
        "<p style='color:#aaaaaa'>faint</p>"
        "<svg width='100' height='20'><text x='0' y='15' fill='#ffd700'>gold</text></svg>"
        "</body></html>"
    )
    seen = layout_probe(chromium, tmp_path, html, 390)
    assert seen["scrollWidth"] > seen["innerWidth"] == 390
    assert [item["text"] for item in seen["low"]] == ["faint", "gold"]
