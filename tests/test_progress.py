"""utils.training.progress: live training lines in full mode, silence in quick mode, on every backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from utils.training import progress


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="tiny")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(n, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("setting", "mode", "shown"), [
    ("", "quick", False), ("", "full", True), ("auto", "full", True), ("on", "quick", True),
    ("ON", "quick", True), ("off", "full", False), ("0", "full", False)])
def test_progress_is_shown_in_full_mode_unless_the_setting_says_otherwise(monkeypatch, setting, mode, shown):
    monkeypatch.setenv("COURSE_MODE", mode)
    monkeypatch.setenv(progress.SETTING, setting)
    assert progress.enabled() is shown


def test_a_setting_that_is_not_one_says_which_are(monkeypatch):
    monkeypatch.setenv(progress.SETTING, "loud")
    with pytest.raises(ValueError, match="COURSE_PROGRESS='loud' is not a setting: use on, off or auto"):
        progress.enabled()


def test_the_callback_shows_name_steps_epoch_loss_validation_and_times(capsys):
    x, y = _data()
    history = _model().fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0,
                           callbacks=[progress.TrainingProgress("tiny model", show=True)])
    line = capsys.readouterr().out.replace("\r", "\n").strip().splitlines()[-1]
    assert line.startswith("tiny model: 100%") and "9/9" in line           # 3 epochs of 3 steps
    assert "epoch=3/3" in line and "loss=" in line and "val_loss=" in line and "val_mae=" in line
    assert "<00:00" in line                                                 # elapsed<remaining
    assert f"val_loss={history.history['val_loss'][-1]:.4g}" in line


def test_an_early_stop_ends_the_line_at_the_last_epoch_run(capsys):
    x, y = _data()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)  # stops after epoch 2
    _model().fit(x, y, epochs=10, batch_size=16, verbose=0,
                 callbacks=[stop, progress.TrainingProgress("stopped", show=True)])
    line = capsys.readouterr().out.replace("\r", "\n").strip().splitlines()[-1]
    assert "epoch=2/10" in line and "8/40" in line


def test_quick_mode_shows_nothing_and_changes_nothing(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "quick")
    monkeypatch.delenv(progress.SETTING, raising=False)
    x, y = _data()
    shown = _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[progress.TrainingProgress("quiet")])
    plain = _model().fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""
    np.testing.assert_allclose(shown.history["loss"], plain.history["loss"], rtol=1e-5)
    assert list(progress.bar(range(3), "quiet loop")) == [0, 1, 2]
    assert capsys.readouterr().out == ""


def test_a_loop_line_counts_and_shows_its_figures(capsys):
    with progress.bar(name="my loop", total=4, unit="round", show=True) as line:
        for k in range(4):
            line.update()
            line.set_postfix(error=f"{1 / (k + 1):.3f}")
    out = capsys.readouterr().out.replace("\r", "\n")
    assert "my loop: 100%" in out and "4/4" in out and "error=0.250" in out


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras: a generator "ran out of data" at the epoch's end
def test_without_a_steps_count_the_line_counts_epochs(capsys):
    def batches():
        x, y = _data(32)
        for start in range(0, 32, 16):
            yield x[start:start + 16], y[start:start + 16]

    model = _model()
    model.fit(batches(), epochs=1, verbose=0, shuffle=False,
              callbacks=[progress.TrainingProgress("generator", show=True)])
    line = capsys.readouterr().out.replace("\r", "\n").strip().splitlines()[-1]
    assert line.startswith("generator: 100%") and "1/1" in line and "epoch/s" in line and "loss=" in line


def test_the_live_curve_keeps_its_points_outside_a_notebook():
    curve = progress.LiveCurve("model", "bits/char", show=True)
    assert not curve.show  # no notebook here: nothing is drawn
    curve.add(1, train=2.0, validation=2.5)
    curve.add(2, train=1.5, validation=2.2)
    assert curve.series == {"train": ([1.0, 2.0], [2.0, 1.5]), "validation": ([1.0, 2.0], [2.5, 2.2])}


def test_the_callback_with_a_plot_collects_the_losses_per_epoch():
    x, y = _data()
    shown = progress.TrainingProgress("plotted", plot=True, show=False)
    history = _model().fit(x, y, validation_split=0.25, epochs=2, batch_size=16, verbose=0, callbacks=[shown])
    assert shown.curve is not None
    assert shown.curve.series["validation"][1] == pytest.approx(history.history["val_loss"])
    assert shown.curve.series["training"][1] == pytest.approx(history.history["loss"])
