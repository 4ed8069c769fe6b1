"""Sphinx configuration of the course's book.

Built by ``make book`` (``python -m course_tools.book``), which copies this file, the executed
notebooks and the generated pages into ``build/book/source/`` and runs Sphinx there. Nothing
is executed by Sphinx: the notebooks were run by ``course_tools.execution`` beforehand.
"""

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
# the jupyter-server-mathjax package into _static/mathjax: the book needs no network to view.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
}
nb_code_prompt_show = "Show the code"
nb_code_prompt_hide = "Hide the code"
