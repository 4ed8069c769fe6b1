"""Sphinx configuration of the course's book.

Built by ``make book`` (``python -m course_tools.book``), which copies this file, the executed
notebooks, the generated pages, ``book/static/`` and a ``course_run.json`` that describes the run
into ``build/book/source/`` and runs Sphinx there. Nothing is executed by Sphinx: the notebooks
were run by ``course_tools.execution`` beforehand.
"""

import json
from pathlib import Path

from course_tools.book import MATHJAX_FONTS, MATHJAX_PATH, RUN_FILE, SEARCH_PAGES

_run_file = Path(__file__).parent / RUN_FILE
_run = json.loads(_run_file.read_text(encoding="utf-8")) if _run_file.is_file() else {}

project = "Sequence models with Keras 3"
author = "the course's authors"
copyright = "the course's authors; text CC BY 4.0, code MIT"

extensions = ["myst_nb"]
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_update_mathjax = False  # the MathJax 3 settings it would add confuse the MathJax 2 below
suppress_warnings = ["myst.header"]  # a chapter's "Part A/B/C" headings skip a level on purpose

# Equations are typeset in the reader's browser by the MathJax 2.7 that course_tools.book copies from
# the jupyter-server-mathjax package into _static/mathjax (with the fonts it ships): the book needs no
# network to view.
mathjax_path = MATHJAX_PATH
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
    "messageStyle": "none",
    **MATHJAX_FONTS,
}

html_theme = "sphinx_book_theme"
html_title = project + _run.get("title_suffix", "")
html_static_path = ["_static"]
html_css_files = ["course.css"]  # code and outputs wrap inside the text column
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    # A quick-mode build says so on every page (course_tools.book.quick_banner); a full-mode one has none.
    "announcement": _run.get("announcement", ""),
}
nb_code_prompt_show = "Show the code"
nb_code_prompt_hide = "Hide the code"


def _search_excerpts_offline(app, pagename, templatename, context, doctree):  # noqa: ANN001, ARG001
    """The search page answers its own requests for the pages' text when the book is opened from files."""
    if pagename == "search":
        app.add_js_file(SEARCH_PAGES)
        app.add_js_file("course_search.js")


def setup(app):  # noqa: ANN001
    app.connect("html-page-context", _search_excerpts_offline)
