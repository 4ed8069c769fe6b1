"""utils.training.device and the files that name it: a run says which device it computed on, and a
run on a GPU writes results and timings of its own (utils.results, course_tools.execution,
course_tools.readme), never the CPU's. No GPU is needed: the GPU cases are played by fakes that
answer as the backends do on a CUDA machine."""

from __future__ import annotations

import json
import types
from pathlib import Path

import keras
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_tools import execution
from course_tools.readme import render_results_page
from utils import results as results_module
from utils.course import Session
from utils.results import load_results, result_devices, results_path, save, write_json
from utils.training import device as device_module
from utils.training.device import CPU, accelerator, accelerator_used, device_slug, machine

H100 = "NVIDIA H100 80GB HBM3"


def _backend_sees_a_gpu() -> bool:
    """Whether the active backend has a GPU, asked of the backend itself, not through Keras."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def test_the_device_named_is_the_one_the_backend_has():
    """On the course's machines "cpu"; under `make test-gpu`, the GPU's name."""
    assert (accelerator() != CPU) == _backend_sees_a_gpu()
    assert accelerator_used() == accelerator()


@pytest.fixture
def on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results saved as by a run on the CPU, whatever this machine has."""
    monkeypatch.setattr(results_module, "accelerator", lambda: CPU)


def _fake_probe(monkeypatch: pytest.MonkeyPatch, backend: str, tensor: object) -> None:
    """Make Keras answer as ``backend`` whose new tensors are ``tensor``."""
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    monkeypatch.setattr(keras.ops, "zeros", lambda shape: tensor)


def test_jax_on_a_gpu_is_named_by_its_device_kind(monkeypatch):
    gpu = types.SimpleNamespace(platform="gpu", device_kind=H100)
    _fake_probe(monkeypatch, "jax", types.SimpleNamespace(devices=lambda: [gpu]))  # a set, in JAX
    assert accelerator() == H100
    cpu = types.SimpleNamespace(platform="cpu", device_kind="cpu")
    _fake_probe(monkeypatch, "jax", types.SimpleNamespace(devices=lambda: [cpu]))
    assert accelerator() == CPU


def test_pytorch_on_cuda_is_named_by_torch_and_other_devices_by_their_type(monkeypatch):
    import torch

    asked = []
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: asked.append(device) or H100)
    _fake_probe(monkeypatch, "torch", types.SimpleNamespace(device=torch.device("cuda", 0)))
    assert accelerator() == H100
    assert asked == [torch.device("cuda", 0)]
    _fake_probe(monkeypatch, "torch", types.SimpleNamespace(device=torch.device("mps")))
    assert accelerator() == "mps"
    _fake_probe(monkeypatch, "torch", types.SimpleNamespace(device=torch.device("cpu")))
    assert accelerator() == CPU


def test_tensorflow_on_a_gpu_is_named_by_its_device_details(monkeypatch):
    import tensorflow as tf

    gpus = [types.SimpleNamespace(name=f"/physical_device:GPU:{index}") for index in range(2)]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind: gpus if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda gpu: {"device_name": f"{H100} #{gpu.name[-1]}"})
    placed = "/job:localhost/replica:0/task:0/device:{}"
    _fake_probe(monkeypatch, "tensorflow", types.SimpleNamespace(device=placed.format("GPU:1")))
    assert accelerator() == f"{H100} #1"
    _fake_probe(monkeypatch, "tensorflow", types.SimpleNamespace(device=placed.format("CPU:0")))
    assert accelerator() == CPU


def test_keras_numpy_backend_computes_on_the_cpu(monkeypatch):
    _fake_probe(monkeypatch, "numpy", object())
    assert accelerator() == CPU


def test_a_process_that_never_imported_keras_computed_on_the_cpu(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "keras")
    monkeypatch.setattr(device_module, "accelerator", lambda: pytest.fail("must not start a backend"))
    assert accelerator_used() == CPU


def test_machine_names_the_gpu_only_when_the_run_used_one():
    assert machine().endswith(" CPUs") and machine(CPU) == machine()
    assert machine(H100) == f"{machine()}, {H100}"


def test_device_slug_makes_a_file_name_part_and_refuses_a_name_without_one():
    assert device_slug(H100) == "nvidia-h100-80gb-hbm3"
    assert device_slug("  Tesla T4 ") == "tesla-t4"
    with pytest.raises(ValueError, match=r"device name '\.\.\.' has no letter or digit"):
        device_slug("...")


# Results files ----------------------------------------------------------------------------------


def test_a_gpu_run_writes_its_own_results_file_and_leaves_the_cpus(tmp_path, monkeypatch, capsys, on_the_cpu):
    session = Session(chapter=4, backend="torch", mode="full", seed=1)
    cpu_path = save(session, {"mse": 0.5}, directory=tmp_path)
    assert cpu_path == tmp_path / "ch04.torch.full.json"
    cpu_record = json.loads(cpu_path.read_text(encoding="utf-8"))
    assert cpu_record["device"] == CPU and cpu_record["machine"] == machine()

    monkeypatch.setattr(results_module, "accelerator", lambda: H100)
    gpu_path = save(session, {"mse": 0.25}, directory=tmp_path)
    assert gpu_path == results_path(4, "torch", "full", tmp_path, H100)
    assert gpu_path.name == "ch04.torch.full.nvidia-h100-80gb-hbm3.json"
    gpu_record = json.loads(gpu_path.read_text(encoding="utf-8"))
    assert gpu_record["device"] == H100 and gpu_record["machine"] == machine(H100)
    assert json.loads(cpu_path.read_text(encoding="utf-8"))["metrics"] == {"mse": 0.5}, "the CPU's file stays"
    assert f"to {tmp_path.name}/{gpu_path.name}" in capsys.readouterr().out

    assert load_results(tmp_path)[4]["torch"]["metrics"] == {"mse": 0.5}
    assert load_results(tmp_path, device=H100)[4]["torch"]["metrics"] == {"mse": 0.25}
    assert result_devices(tmp_path) == [H100]
    assert result_devices(tmp_path, mode="quick") == []
    assert results_module.reported(4, "mse", "torch", tmp_path) == 0.5, "chapters quote the CPU's figures"


def test_results_path_on_the_cpu_is_unchanged(tmp_path):
    assert results_path(3, "jax", "quick", tmp_path) == results_path(3, "jax", "quick", tmp_path, CPU)
    assert results_path(3, "jax", "quick", tmp_path).name == "ch03.jax.quick.json"


# Timings ----------------------------------------------------------------------------------------


class _FakeClient:
    """Stands in for nbclient's NotebookClient: 'runs' the cells by giving the last one an output."""

    def __init__(self, notebook: nbformat.NotebookNode, printed: str | None, error: Exception | None = None):
        self.nb, self.printed, self.error = notebook, printed, error

    def execute(self) -> None:
        assert self.nb.cells[-1].source == execution.DEVICE_PROBE, "the probe runs after the last cell"
        if self.error is not None:
            raise self.error
        if self.printed is not None:
            self.nb.cells[-1].outputs = [new_output("stream", name="stdout", text=self.printed)]


def test_the_kernel_is_asked_for_its_device_and_the_probe_cell_removed():
    notebook = new_notebook(cells=[new_code_cell("x = 1")])
    assert execution.execute_reporting_device(_FakeClient(notebook, f"{H100}\n")) == H100
    assert [cell.source for cell in notebook.cells] == ["x = 1"]
    with pytest.raises(execution.ExecutionError, match="did not say which device it computed on"):
        execution.execute_reporting_device(_FakeClient(notebook, None))
    with pytest.raises(RuntimeError, match="a cell failed"):
        execution.execute_reporting_device(_FakeClient(notebook, None, RuntimeError("a cell failed")))
    assert [cell.source for cell in notebook.cells] == ["x = 1"]


def test_the_device_probe_runs_in_a_real_kernel_that_never_imported_keras(tmp_path):
    from nbclient import NotebookClient

    notebook = new_notebook(cells=[new_code_cell("x = 1")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    assert execution.execute_reporting_device(client) == CPU
    assert len(notebook.cells) == 1


def _stamped_copy(folder: Path, name: str, device: str | None) -> None:
    notebook = new_notebook(cells=[new_code_cell("x = 1")])
    stamp = {"mode": "full", "backend": "torch", "seconds": 12.5, "peak_mib": 900.0, "source": name,
             "machine": machine(device or CPU)}
    if device is not None:
        stamp["device"] = device
    notebook.metadata[execution.METADATA_KEY] = stamp
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)


def test_gpu_timings_are_recorded_apart_from_the_cpus(tmp_path):
    timings = tmp_path / "results" / "timings.json"
    timings.parent.mkdir()
    timings.write_text('{"solutions/04_lstm.ipynb": {"torch": {"full": {"seconds": 300.0}}}}')
    _stamped_copy(tmp_path / "gpu", "04_lstm.ipynb", H100)
    _stamped_copy(tmp_path / "cpu", "05_tasks.ipynb", CPU)
    _stamped_copy(tmp_path / "old", "06_lm.ipynb", None)  # stamped before devices were
    lines = execution.record_timings([tmp_path / "gpu", tmp_path / "cpu", tmp_path / "old"], timings)
    assert lines[0] == f"solutions/04_lstm.ipynb torch full on {H100}: 12.5 s, 900 MiB"
    assert lines[1] == "solutions/05_tasks.ipynb torch full: 12.5 s, 900 MiB"

    cpu_table = json.loads(timings.read_text(encoding="utf-8"))
    assert cpu_table["solutions/04_lstm.ipynb"] == {"torch": {"full": {"seconds": 300.0}}}, "CPU time kept"
    assert cpu_table["solutions/05_tasks.ipynb"]["torch"]["full"] == {
        "machine": machine(), "seconds": 12.5, "peak_mib": 900.0}
    assert "solutions/06_lm.ipynb" in cpu_table
    gpu_file = execution.timings_path(H100, timings)
    assert gpu_file == timings.parent / "timings.nvidia-h100-80gb-hbm3.json"
    assert json.loads(gpu_file.read_text(encoding="utf-8"))["solutions/04_lstm.ipynb"]["torch"]["full"] == {
        "machine": machine(H100), "seconds": 12.5, "peak_mib": 900.0, "device": H100}
    assert list(execution.accelerator_timings(timings)) == [H100]


def test_one_executed_copy_can_be_recorded_by_its_path(tmp_path):
    """As `make test-gpu` records the one chapter it ran in full mode."""
    timings = tmp_path / "timings.json"
    _stamped_copy(tmp_path / "full-torch", "09_transformers.ipynb", H100)
    _stamped_copy(tmp_path / "full-torch", "04_lstm.ipynb", H100)
    [line] = execution.record_timings([tmp_path / "full-torch" / "09_transformers.ipynb"], timings)
    assert line.startswith(f"solutions/09_transformers.ipynb torch full on {H100}:")
    assert list(json.loads(execution.timings_path(H100, timings).read_text(encoding="utf-8"))) == [
        "solutions/09_transformers.ipynb"]
    assert not timings.exists(), "nothing ran on the CPU"
    with pytest.raises(execution.ExecutionError, match="holds no executed copies"):
        execution.record_timings([tmp_path / "full-torch" / "missing.ipynb"], timings)


def test_the_results_page_shows_gpu_figures_and_times_beside_the_cpus(tmp_path, monkeypatch, on_the_cpu):
    session = Session(chapter=1, backend="jax", mode="full", seed=1)
    save(session, {"mae": 1.5}, directory=tmp_path)
    write_json(tmp_path / "timings.json", {"solutions/01_a.ipynb": {"jax": {"full": {"seconds": 80.0}}}})
    without_gpu = render_results_page(tmp_path)
    assert " on " + H100 not in without_gpu

    monkeypatch.setattr(results_module, "accelerator", lambda: H100)
    save(session, {"mae": 1.25}, directory=tmp_path)
    gpu_run = {"seconds": 9.0, "peak_mib": 2000.0, "device": H100, "machine": machine(H100)}
    execution.merge_timings([("solutions/01_a.ipynb", "jax", "full", gpu_run)], tmp_path / "timings.json")
    page = render_results_page(tmp_path).splitlines()
    cpu_figures = page.index("## Every figure, full mode")
    gpu_figures = page.index(f"## Every figure, full mode, on {H100}")
    cpu_times, gpu_times = page.index("## Time and peak memory per notebook"), page.index(f"### On {H100}")
    assert cpu_figures < gpu_figures < cpu_times < gpu_times
    assert "| 1 | mae | - | 1.5 | - |" in page[cpu_figures:gpu_figures]
    assert "| 1 | mae | - | 1.25 | - |" in page[gpu_figures:cpu_times]
    assert "| `solutions/01_a.ipynb` | full | - | 80 s | - |" in page[cpu_times:gpu_times]
    assert "| `solutions/01_a.ipynb` | full | - | 9 s, 2000 MiB | - |" in page[gpu_times:]
    assert f"The same, for the runs that computed on this GPU (machine: {machine(H100)})." in page[gpu_times:]


def test_section_times_of_a_gpu_run_are_kept_apart_from_the_cpus(tmp_path):
    """The instructor's guide plans sessions with the CPU's section times: a GPU run gets its own key."""
    from course_tools import guide

    store = tmp_path / "sections.json"
    _stamped_copy(tmp_path / "gpu", "04_lstm.ipynb", H100)
    _stamped_copy(tmp_path / "cpu", "04_lstm.ipynb", CPU)
    for stamp_folder in ("gpu", "cpu"):
        copy_path = tmp_path / stamp_folder / "04_lstm.ipynb"
        notebook = nbformat.read(copy_path, as_version=4)
        notebook.metadata[execution.METADATA_KEY]["date"] = "2026-12-06"
        nbformat.write(notebook, copy_path)
    data = guide.record([tmp_path / "gpu", tmp_path / "cpu"], store)
    assert sorted(data["04_lstm"]) == ["full-torch", "full-torch-nvidia-h100-80gb-hbm3"]
