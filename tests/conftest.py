"""Shared set-up for the unit tests of ``utils``.

Figures are drawn off-screen, every test starts in the default (full) course mode
whatever the calling shell sets, and matplotlib's global settings are restored
after each test because ``use_course_style`` changes them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_course_state(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    with matplotlib.rc_context():
        yield
    plt.close("all")
