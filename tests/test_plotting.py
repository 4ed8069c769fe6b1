"""utils.plotting: the course style and the small plot helpers."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

from utils.plotting import COURSE_STYLE, bar_chart, confusion_matrix, labelled_axes, use_course_style


def test_use_course_style_sets_every_course_rc_param():
    mpl.rcParams["axes.spines.top"] = True
    mpl.rcParams["image.cmap"] = "gray"
    use_course_style()
    for key, value in COURSE_STYLE.items():
        if key == "axes.prop_cycle":
            assert mpl.rcParams[key].by_key()["color"] == value.by_key()["color"]
        elif isinstance(value, tuple):
            assert tuple(mpl.rcParams[key]) == value, key
        else:
            assert mpl.rcParams[key] == value, key
    assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["image.cmap"] == "viridis"


def test_course_style_applies_to_new_figures():
    use_course_style()
    figure = plt.figure()
    assert tuple(figure.get_size_inches()) == pytest.approx(COURSE_STYLE["figure.figsize"])
    assert figure.dpi == COURSE_STYLE["figure.dpi"]


def test_labelled_axes_makes_new_axes_with_title_and_labels():
    ax = labelled_axes("Loss", "epoch", "mean squared error")
    assert ax.get_title() == "Loss"
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "mean squared error"


def test_labelled_axes_labels_the_axes_it_is_given():
    _, (left, right) = plt.subplots(1, 2)
    returned = labelled_axes("Right", "x", "y", ax=right)
    assert returned is right
    assert right.get_title() == "Right"
    assert left.get_title() == ""


def test_bar_chart_draws_one_labelled_bar_per_value():
    labels, values = ["persistence", "mean", "dense"], [2.5, 4.125, 1.0]
    ax = bar_chart(labels, values, title="Validation MAE", ylabel="°C")
    assert ax.get_title() == "Validation MAE"
    assert ax.get_ylabel() == "°C"
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == values
    assert [tick.get_text() for tick in ax.get_xticklabels()] == labels
    assert [text.get_text() for text in ax.texts] == ["2.5", "4.12", "1"]
    assert len(ax.lines) == 0
    assert ax.get_legend() is None


def test_bar_chart_draws_a_labelled_reference_line():
    ax = bar_chart(["a", "b"], [1.0, 3.0], title="t", ylabel="y", reference=2.0, reference_label="baseline")
    assert len(ax.lines) == 1
    assert list(ax.lines[0].get_ydata()) == [2.0, 2.0]
    assert ax.lines[0].get_linestyle() == "--"
    legend = ax.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == ["baseline"]


def test_bar_chart_draws_on_given_axes():
    _, ax = plt.subplots()
    assert bar_chart(["only"], [0.5], title="t", ylabel="y", ax=ax) is ax
    assert len(ax.patches) == 1


def test_confusion_matrix_counts_true_against_predicted_and_writes_them():
    counts = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], ["a", "b", "c"], title="t")
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    ax = plt.gcf().axes[0]
    assert ax.get_title() == "t" and ax.get_xlabel() == "predicted class"
    assert sorted(text.get_text() for text in ax.texts) == ["1", "1", "1", "1", "2"]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["a", "b", "c"]
    plt.close("all")


@pytest.mark.parametrize("true, predicted, phrase", [
    ([0, 1], [0], "same length"),
    ([[0, 1]], [[0, 1]], "1-D"),
    ([0, 3], [0, 1], "class indices 0..2"),
    ([0, 1], [0.0, 1.0], "class indices"),
    ([0, -1], [0, 1], "class indices"),
])
def test_confusion_matrix_rejects_what_is_not_class_indices(true, predicted, phrase):
    with pytest.raises(ValueError, match=phrase):
        confusion_matrix(true, predicted, ["a", "b", "c"], title="t")
    plt.close("all")
