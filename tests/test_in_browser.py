"""The built book and slides as a reader and an instructor see them: opened in headless Chromium.

`make check-book` runs this after `make book slides` (``COURSE_BOOK_RUN`` names the run, for example
``quick-torch``); in the plain unit-test run nothing is built, so it skips. It needs a Chromium from the
operating system's packages (Debian: ``apt-get install chromium``, which ``.ci/run`` does): without one it
skips and says why, except in CI (``CI=true``), where a missing browser fails. The browser is driven over
the DevTools protocol (``tests/chromium.py``): nothing is downloaded, and every request to anything but a
local file is blocked and recorded.

It fails on, with the tolerance each allows:

- an equation that is shown but renders empty or with a MathJax error, or MathJax not finishing;
- a slide taller or wider than 1280x720 by more than :data:`SLIDE_TOLERANCE` (1 %) once the deck has
  fitted it, a slide shrunk below the readable limit (``course_tools.slides.MIN_FIT`` of its type sizes:
  text 19 px, code 14 px), a line of code cut at a slide's right edge;
- in the book (a 1280x800 window), more than :data:`WIDE_SHARE` (2 %) of a page's code, output and
  table blocks wider than the text column (a block that scrolls sideways or sticks out of the column);
- an error output, or anything written to standard error, shown on a page;
- a request to the network, a local file that fails to load, an uncaught script error;
- search that shows no excerpts when the book is opened from files, a quick-mode page without its
  banner, and an index of the slides whose counts are not the decks' own.

It writes ``build/browser-check/report.json`` (per chapter: slides, overflowing slides, blank or failed
equations, blocks wider than the column) and screenshots of a title slide, an equation slide and a
figure slide beside it, and prints the table.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from chromium import Chromium, Page, find_browser
from course_tools import book, execution, slides

RUN = os.environ.get("COURSE_BOOK_RUN", "")
REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
REPORT = execution.BUILD / "browser-check"
BOOK_WINDOW = (1280, 800)  # a laptop's screen
SLIDE_TOLERANCE = 0.01  # a slide may run past 1280x720 by 1 % (7 px down, 13 px across): rounding, borders
WIDE_SHARE = 0.02  # at most 2 % of a page's code, output and table blocks may be wider than its column
MATHJAX_WAIT_MS = 30_000
SCREENSHOT_DECK = "08_attention"  # its title, equation and figure slides are screenshot for the report

pytestmark = pytest.mark.skipif(not RUN, reason="COURSE_BOOK_RUN is not set: `make check-book` sets it after "
                                                "`make book slides`")

# Waits until MathJax has typeset everything queued (reveal.js decks queue a slide's equations when it is
# shown), or MATHJAX_WAIT_MS have passed; true if it finished (a book page without math loads no MathJax). Then counts the shown equations of `root`
# that render empty or with an error.
_SHARED_JS = """
window.courseIdle = () => Promise.race([
  new Promise(done => {
    if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(() => done(true)); }
    else { done(!document.querySelector(".math")); }  // no MathJax: right only on a page without math
  }),
  new Promise(done => setTimeout(() => done(false), %d))]);
window.courseMath = (root) => {
  const found = {total: 0, blank: [], failed: []};
  for (const script of root.querySelectorAll('script[type^="math/tex"]')) {
    if (!script.parentElement.checkVisibility()) { continue; }
    found.total += 1;
    const tex = script.textContent.trim().slice(0, 80);
    const frame = script.id ? document.getElementById(script.id + "-Frame") : null;
    if (!frame) { found.failed.push(tex + " (not typeset)"); continue; }
    const error = frame.querySelector(".MathJax_Error, .merror, .noError");
    if (error || /Math Processing Error/.test(frame.textContent)) {
      found.failed.push(tex);
    } else {
      const box = frame.getBoundingClientRect();
      if (box.width < 1 || box.height < 1) { found.blank.push(tex); }
    }
  }
  return found;
};
""" % MATHJAX_WAIT_MS

_BOOK_PAGE_JS = """
(async () => {
  let settled = await courseIdle();
  document.querySelectorAll("details").forEach(fold => { fold.open = true; });  // the folded solutions too
  settled = (await courseIdle()) && settled;
  const article = document.querySelector("article.bd-article") || document.querySelector('[role="main"]');
  const column = article.getBoundingClientRect();
  const boxes = new Set();
  for (const block of article.querySelectorAll("pre, table")) {
    if (block.checkVisibility()) {
      boxes.add(block.closest(".pst-scrollable-table-container, .output.text_html") || block);
    }
  }
  const wide = [];
  for (const box of boxes) {
    const rect = box.getBoundingClientRect();
    if (box.scrollWidth > box.clientWidth + 1 || rect.right > column.right + 1) {
      wide.push(`${box.tagName.toLowerCase()}.${box.className} `
                + `(${box.scrollWidth} px in ${Math.round(column.width)}): `
                + box.textContent.trim().slice(0, 60));
    }
  }
  return {
    mathjax: settled, math: courseMath(article), blocks: boxes.size, wide: wide,
    errors: [...document.querySelectorAll(".output.traceback, .output.error")]
      .map(e => e.textContent.slice(0, 200)),
    stderr: [...document.querySelectorAll(".output.stderr")].map(e => e.textContent.trim().slice(0, 200)),
    banner: !!document.querySelector(".%s"),
    markers: /(BEGIN|END) SOLUTION/.test(document.body.innerText),
  };
})()
""" % book.QUICK_BANNER_CLASS

# Shows every slide in turn, as a presenter would, and measures it once the deck has fitted it.
_DECK_JS = """
(async () => {
  await new Promise(done => Reveal.isReady() ? done() : Reveal.on("ready", done));
  const config = Reveal.getConfig();
  const found = {total: Reveal.getTotalSlides(), width: config.width, height: config.height, slides: []};
  const all = Reveal.getSlides();
  for (let index = 0; index < all.length; index++) {
    const where = Reveal.getIndices(all[index]);
    Reveal.slide(where.h, where.v);
    const settled = await courseIdle();
    const slide = Reveal.getCurrentSlide();
    const code = slide.querySelector("pre");
    const text = slide.querySelector(".jp-RenderedMarkdown p, .jp-RenderedMarkdown li");
    found.slides.push({
      h: where.h, v: where.v, mathjax: settled, height: slide.scrollHeight, width: slide.scrollWidth,
      fit: Number(slide.dataset.courseFit || 1),
      code_px: code ? parseFloat(getComputedStyle(code).fontSize) : null,
      text_px: text ? parseFloat(getComputedStyle(text).fontSize) : null,
      cut_code: [...slide.querySelectorAll("pre")]
        .filter(pre => pre.scrollWidth > pre.clientWidth + 1).length,
      math: courseMath(slide),
      title: !!slide.querySelector("h1"),
      display_math: slide.querySelectorAll(".MathJax_Display").length,
      figure: !!slide.querySelector(".jp-OutputArea-output img"),
    });
  }
  return found;
})()
"""

_SEARCH_JS = """
(async () => {
  for (let waited = 0; waited < 30000; waited += 250) {
    const results = document.querySelectorAll("#search-results li");
    const excerpts = [...document.querySelectorAll("#search-results li p.context")]
      .filter(p => p.textContent.trim());
    if (results.length && excerpts.length === results.length) {
      return {results: results.length, excerpts: excerpts.length};
    }
    await new Promise(done => setTimeout(done, 250));
  }
  return {results: document.querySelectorAll("#search-results li").length,
          excerpts: document.querySelectorAll("#search-results li p.context").length};
})()
"""

_INDEX_JS = """
[...document.querySelectorAll("tbody tr")].map(row => [row.querySelector("a").getAttribute("href"),
                                                      Number(row.lastElementChild.textContent)])
"""


def _open(browser: Chromium, path: Path | str, width: int, height: int) -> Page:
    page = browser.new_page(width, height)
    page.send("Page.addScriptToEvaluateOnNewDocument", source=_SHARED_JS)
    page.navigate(path)
    return page


def _trouble(page: Page) -> dict[str, list[str]]:
    return {"requests": page.requests, "failed": page.failed, "exceptions": page.exceptions}


@pytest.fixture(scope="module")
def browser():
    executable = find_browser()
    if executable is None:
        message = ("no Chromium found for the browser check: install it (Debian: apt-get install chromium) "
                   "or name it in CHROMIUM")
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; in CI .ci/run installs it, so its absence is an error.")
        pytest.skip(message + ".")
    with Chromium.start(executable) as started:
        yield started


@pytest.fixture(scope="module")
def seen(browser: Chromium) -> dict[str, Any]:
    """Every book page, the search page, every deck and the index of the slides, measured once."""
    start = time.perf_counter()
    html = book.BOOK / "html"
    pages: dict[str, Any] = {}
    names = ["index.html", "instructors.html", "results.html"]
    names += [f"chapters/{source.stem}.html" for source in SOLUTIONS]
    expected = [html / name for name in names + ["search.html"]] + [slides.SLIDES / "index.html"]
    expected += [slides.SLIDES / f"{source.stem}.slides.html" for source in SOLUTIONS]
    missing = [str(path.relative_to(REPO)) for path in expected if not path.is_file()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)}: run `make book slides` first.")
    for name in names:
        page = _open(browser, html / name, *BOOK_WINDOW)
        pages[name] = page.evaluate(_BOOK_PAGE_JS, timeout=120) | _trouble(page)
        browser.send("Target.closeTarget", {"targetId": page.target})
    search = _open(browser, (html / "search.html").resolve().as_uri() + "?q=attention", *BOOK_WINDOW)
    searched = search.evaluate(_SEARCH_JS, timeout=60) | _trouble(search)
    decks: dict[str, Any] = {}
    screenshots: list[str] = []
    for source in SOLUTIONS:
        page = _open(browser, slides.SLIDES / f"{source.stem}.slides.html", slides.WIDTH, slides.HEIGHT)
        decks[source.stem] = page.evaluate(_DECK_JS, timeout=600) | _trouble(page)
        if source.stem == SCREENSHOT_DECK or (source == SOLUTIONS[-1] and not screenshots):
            screenshots = _screenshots(page, decks[source.stem]["slides"])
        browser.send("Target.closeTarget", {"targetId": page.target})
    index = _open(browser, slides.SLIDES / "index.html", *BOOK_WINDOW)
    counts = dict(index.evaluate(_INDEX_JS))
    seconds = time.perf_counter() - start
    _write_report(pages, decks, screenshots, seconds)
    return {"pages": pages, "search": searched, "decks": decks, "index": counts | _trouble(index),
            "seconds": seconds}


def _screenshots(page: Page, measured: list[dict[str, Any]]) -> list[str]:
    """Screenshots of the deck's title slide, its first slide with a displayed equation and its first with
    a figure."""
    wanted = {"title": lambda s: s["title"], "equation": lambda s: s["display_math"] > 0,
              "figure": lambda s: s["figure"]}
    taken = []
    for name, test in wanted.items():
        slide = next((s for s in measured if test(s)), None)
        if slide is None:
            continue
        page.evaluate(f"Reveal.slide({slide['h']}, {slide['v']}); courseIdle()")
        time.sleep(0.3)  # let the browser paint
        taken.append(str(page.screenshot(REPORT / f"{name}-slide.png").relative_to(REPO)))
    return taken


def _chapter_rows(pages: dict[str, Any], decks: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for source in SOLUTIONS:
        page, deck = pages[f"chapters/{source.stem}.html"], decks[source.stem]
        rows.append({
            "chapter": source.stem,
            "slides": deck["total"],
            "overflowing slides": len(_overflowing(deck)),
            "blank or failed equations (slides)": sum(len(s["math"]["blank"]) + len(s["math"]["failed"])
                                                      for s in deck["slides"]),
            "equations (slides)": sum(s["math"]["total"] for s in deck["slides"]),
            "shrunk slides": sum(s["fit"] < 1 for s in deck["slides"]),
            "blank or failed equations (book)": len(page["math"]["blank"]) + len(page["math"]["failed"]),
            "equations (book)": page["math"]["total"],
            "code blocks wider than the column": len(page["wide"]),
            "code blocks": page["blocks"],
        })
    return rows


def _write_report(pages: dict[str, Any], decks: dict[str, Any], screenshots: list[str],
                  seconds: float) -> None:
    REPORT.mkdir(parents=True, exist_ok=True)
    report = {"run": RUN, "seconds": round(seconds, 1), "chapters": _chapter_rows(pages, decks),
              "screenshots": screenshots}
    (REPORT / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def _overflowing(deck: dict[str, Any]) -> list[str]:
    limit_h, limit_w = deck["height"] * (1 + SLIDE_TOLERANCE), deck["width"] * (1 + SLIDE_TOLERANCE)
    return [f"slide {s['h']}/{s['v']}: {s['width']}x{s['height']} px" for s in deck["slides"]
            if s["height"] > limit_h or s["width"] > limit_w]


def test_book_pages_typeset_every_equation(seen) -> None:
    problems = {name: {"mathjax finished": page["mathjax"], "blank": page["math"]["blank"],
                       "failed": page["math"]["failed"]}
                for name, page in seen["pages"].items()
                if not page["mathjax"] or page["math"]["blank"] or page["math"]["failed"]}
    assert problems == {}
    assert sum(page["math"]["total"] for page in seen["pages"].values()) > 100  # the chapters hold hundreds


def test_book_code_and_outputs_fit_the_text_column(seen) -> None:
    too_wide = {name: page["wide"] for name, page in seen["pages"].items()
                if len(page["wide"]) > WIDE_SHARE * page["blocks"]}
    assert too_wide == {}


def test_book_pages_show_no_error_output_warning_or_solution_marker(seen) -> None:
    shown = {name: {"errors": page["errors"], "stderr": page["stderr"], "markers": page["markers"]}
             for name, page in seen["pages"].items() if page["errors"] or page["stderr"] or page["markers"]}
    assert shown == {}


def test_every_page_of_a_quick_build_says_so(seen) -> None:
    if not RUN.startswith("quick-"):
        pytest.skip("a full-mode build has no banner")
    assert [name for name, page in seen["pages"].items() if not page["banner"]] == []


def test_search_shows_excerpts_when_the_book_is_opened_from_files(seen) -> None:
    search = seen["search"]
    assert search["results"] > 0, "searching the book for 'attention' found nothing"
    assert search["excerpts"] == search["results"], "some search results have no excerpt"


def test_nothing_loads_from_the_network_fails_to_load_or_throws(seen) -> None:
    everything = {**{f"book/{name}": page for name, page in seen["pages"].items()},
                  "book/search.html": seen["search"], "slides/index.html": seen["index"],
                  **{f"slides/{name}": deck for name, deck in seen["decks"].items()}}
    trouble = {name: {key: page[key] for key in ("requests", "failed", "exceptions") if page[key]}
               for name, page in everything.items()}
    assert {name: found for name, found in trouble.items() if found} == {}


def test_every_slide_fits_a_1280x720_screen(seen) -> None:
    for name, deck in seen["decks"].items():
        assert (deck["width"], deck["height"]) == (slides.WIDTH, slides.HEIGHT), name
    overflowing = {name: _overflowing(deck) for name, deck in seen["decks"].items()}
    assert {name: found for name, found in overflowing.items() if found} == {}


def test_slides_stay_readable_and_cut_no_code(seen) -> None:
    smallest_code = slides.MIN_FIT * slides.CODE_PX - 0.5
    smallest_text = slides.MIN_FIT * slides.TEXT_PX - 0.5
    problems = [f"{name} slide {s['h']}/{s['v']}: fit {s['fit']}, code {s['code_px']} px, "
                f"text {s['text_px']} px, "
                f"{s['cut_code']} code blocks cut"
                for name, deck in seen["decks"].items() for s in deck["slides"]
                if s["fit"] < slides.MIN_FIT or s["cut_code"] or (s["code_px"] or 99) < smallest_code
                or (s["text_px"] or 99) < smallest_text]
    assert problems == []


def test_slides_typeset_every_equation(seen) -> None:
    problems = [f"{name} slide {s['h']}/{s['v']}: mathjax finished {s['mathjax']}, "
                f"blank {s['math']['blank']}, "
                f"failed {s['math']['failed']}"
                for name, deck in seen["decks"].items() for s in deck["slides"]
                if not s["mathjax"] or s["math"]["blank"] or s["math"]["failed"]]
    assert problems == []
    assert sum(s["math"]["total"] for deck in seen["decks"].values() for s in deck["slides"]) > 100


def test_the_index_of_the_slides_gives_each_decks_own_count(seen) -> None:
    listed = {href: count for href, count in seen["index"].items() if href.endswith(".slides.html")}
    shown = {f"{name}.slides.html": deck["total"] for name, deck in seen["decks"].items()}
    assert listed == shown


def test_the_report_is_written_and_printed(seen, capsys) -> None:
    report = json.loads((REPORT / "report.json").read_text(encoding="utf-8"))
    assert len(report["chapters"]) == len(SOLUTIONS)
    assert len(report["screenshots"]) == 3
    columns = ["slides", "overflowing slides", "blank or failed equations (slides)", "shrunk slides",
               "blank or failed equations (book)", "code blocks wider than the column", "code blocks"]
    with capsys.disabled():
        print(f"\nbrowser check of the {RUN} build: {report['seconds']:.0f} s "
              f"(report: {REPORT / 'report.json'})")
        print("chapter  " + " | ".join(columns))
        for row in report["chapters"]:
            cells = " | ".join(f"{row[column]:>{len(column)}}" for column in columns)
            print(f"{row['chapter'][:2]:>7}  {cells}")

