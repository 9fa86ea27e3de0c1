"""Predict page: no run (quick model button), dataset materials and uploaded files predict,
questions for files the reader cannot settle, malformed uploads are one st.error each."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean
from xanes_core.analysis.prediction import Predictor
from xanes_core.data.dataset import XanesDataset
from xanes_core.io import read_spectrum
from xanes_core.io.limits import CIF_MB, MB, SPECTRUM_FILE_MB
from xanes_core.learn import runs
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig

SOURCES = ("Material from the dataset", "Upload spectrum files", "Batch: zip + manifest")
LICOO2 = ("spectra", "mp", "LiCoO2_k_xanes.json")
TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)


def _cache_with_demo(root: Path, demo_cache: Path) -> Path:
    """A cache of its own (runs of these tests stay here) sharing the app tests' demo dataset."""
    (root / "datasets").mkdir(parents=True)
    (root / "datasets" / "demo").symlink_to(demo_cache / "datasets" / "demo")
    return root


@pytest.fixture(scope="module")
def run_cache(demo_cache: Path, tmp_path_factory) -> Path:
    """The demo dataset plus a tiny symmetry CNN and an elements baseline, through the Trainer."""
    root = _cache_with_demo(tmp_path_factory.mktemp("predict-cache"), demo_cache)
    dataset_path = root / "datasets" / "demo"
    dataset = XanesDataset.load(dataset_path)
    for model in ("elements", "symmetry"):
        config = TrainingConfig(dataset=str(dataset_path), model=model, epochs=2, augment=False, model_config=TINY)
        final = Trainer(config, out=root / "runs" / f"tiny-{model}", dataset=dataset).start().join()
        assert final.status == "completed", final.message
    return root


def _open(cache: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("XANES_CACHE", str(cache))
    return AppTest.from_file(APP, default_timeout=90).run().switch_page("pages/predict.py").run()


@pytest.fixture(scope="module")
def predictor(run_cache: Path) -> Predictor:
    """The tiny symmetry run, loaded outside the page: what the page must show for an input."""
    return Predictor(run_cache / "runs" / "tiny-symmetry")


@pytest.fixture
def page(run_cache: Path, monkeypatch) -> AppTest:
    return _open(run_cache, monkeypatch)


def _upload(page: AppTest, *files: tuple[str, bytes]) -> AppTest:
    if page.segmented_control(key="predict_source").value != SOURCES[1]:
        page.segmented_control(key="predict_source").set_value(SOURCES[1]).run()
    page.file_uploader(key="predict_files").set_value([(name, raw, "text/plain") for name, raw in files])
    return page.run()


def _fixture(fixtures_dir: Path, *parts: str) -> tuple[str, bytes]:
    path = fixtures_dir.joinpath(*parts)
    return path.name, path.read_bytes()


def _probability(page: AppTest) -> float:
    """The shown p(topological): a metric, or greyed text when the material is outside the training data."""
    metric = next((m for m in page.metric if m.label == "p(topological)"), None)
    if metric is not None:
        return float(metric.value.rstrip("%")) / 100
    grey = next(m.value for m in page.markdown if m.value.startswith("p(topological)\n## :gray["))
    return float(grey.split(":gray[")[1].split("%")[0]) / 100


def assert_shows(page: AppTest, expected: float) -> None:
    """The page shows the Predictor's probability for the same input (to its 0.1 % display)."""
    assert _probability(page) == pytest.approx(expected, abs=6e-4)


def _trust_table(page: AppTest):
    return next(d.value for d in page.dataframe if "similarity" in d.value.columns and "threshold" in d.value.columns)


def _selectboxes(page: AppTest, label: str) -> list:
    return [box for box in page.selectbox if box.label == label]


def test_without_a_run_one_click_trains_a_quick_model(demo_cache, tmp_path, monkeypatch) -> None:
    cache = _cache_with_demo(tmp_path / "cache", demo_cache)
    page = _open(cache, monkeypatch)
    assert_clean(page)
    assert page.title[0].value == "Predict"
    assert not page.metric  # nothing predicts yet, but the default material's spectra show
    assert page.get("plotly_chart")
    page.button(key="predict_quick_train").click().run()
    assert_clean(page)
    assert page.get("progress"), "training progress is shown"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and [r.status for r in runs.list_runs(cache / "runs")] != ["completed"]:
        time.sleep(0.5)
    assert [r.status for r in runs.list_runs(cache / "runs")] == ["completed"]
    page.run()
    assert_clean(page)
    (run,) = runs.list_runs(cache / "runs")
    dataset = XanesDataset.load(cache / "datasets" / "demo")
    expected = Predictor(run.run_dir).predict_sample(dataset, page.selectbox(key="predict_sample").value)
    assert_shows(page, expected.p_topological)


def test_dataset_material_predicts_with_evidence(page: AppTest, predictor: Predictor, run_cache: Path) -> None:
    assert_clean(page)
    assert "baseline" in " ".join(c.value for c in page.caption)  # the elements run is explained, not listed
    assert all("elements" not in option for option in page.selectbox(key="predict_run").options)
    dataset = XanesDataset.load(run_cache / "datasets" / "demo")
    assert_shows(page, predictor.predict_sample(dataset, page.selectbox(key="predict_sample").value).p_topological)
    # gauge, contributions (the default material has several elements), per element its attribution
    # over energy and its spectrum against the training data
    n_elements = len(_trust_table(page))
    assert len(page.get("plotly_chart")) >= 2 + 2 * n_elements
    assert "Where in energy the spectra push" in [h.value for h in page.subheader]
    assert "with class-neutral ones" in " ".join(c.value for c in page.caption)
    assert len(page.dataframe) == 2 and len(page.dataframe[1].value) == 5  # trust table, nearest materials
    trust = _trust_table(page)
    assert len(trust) >= 2 and (trust["shift_ev"] == 0).all()  # dataset materials are not moved
    box = page.selectbox(key="predict_sample")
    chosen = box.value
    box.select_index(0 if box.index else 1).run()
    assert_clean(page)
    assert page.selectbox(key="predict_sample").value != chosen
    assert_shows(page, predictor.predict_sample(dataset, page.selectbox(key="predict_sample").value).p_topological)


@pytest.mark.parametrize("name", ["model.keras", "standardizer.npz", "splits.npz"])
def test_a_damaged_run_file_is_one_error_naming_it(run_cache: Path, name: str, monkeypatch) -> None:
    damaged = shutil.copytree(run_cache / "runs" / "tiny-symmetry", run_cache / "runs" / f"damaged-{name}")
    raw = (damaged / name).read_bytes()
    (damaged / name).write_bytes(raw[: len(raw) // 2])  # cut short, as by a crash while copying
    try:
        page = _open(run_cache, monkeypatch)
        page.selectbox(key="predict_run").set_value(str(damaged)).run()
        assert not page.exception, [e.value for e in page.exception]
        assert [e.value for e in page.error if name in e.value] == [
            next(e.value for e in page.error if str(damaged / name) in e.value)]
        assert not page.metric  # no prediction from a run that cannot be loaded
    finally:
        shutil.rmtree(damaged)


def test_a_run_whose_dataset_was_rebuilt_is_marked_and_lists_no_neighbours(changed_cache: Path, monkeypatch) -> None:
    page = _open(changed_cache, monkeypatch)
    assert not page.exception and not page.error
    (option,) = page.selectbox(key="predict_run").options
    assert "changed since training" in option
    assert any("not the version run before-rebuild was trained on" in w.value for w in page.warning)
    assert "Nearest training materials" in [h.value for h in page.subheader]  # the page got a prediction
    assert not any("distance" in d.value.columns for d in page.dataframe)  # but no neighbours from the rebuild
    # nor class-neutral spectra: no spectrum effects, no attribution, each said in one line
    assert any("Spectrum and presence effects need" in c.value for c in page.caption)
    assert any(i.value.startswith("Not available for this run: ") for i in page.info)


def test_uploaded_file_with_a_space_group_predicts(page: AppTest, predictor: Predictor, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, *LICOO2))
    assert_clean(page)
    assert not page.metric
    assert "space group" in page.info[0].value  # the symmetry run asks before predicting
    page.number_input(key="predict_sg").set_value(166).run()
    assert_clean(page)
    assert_shows(page, predictor.predict([read_spectrum(fixtures_dir.joinpath(*LICOO2))], space_group=166).p_topological)
    captions = " ".join(c.value for c in page.caption)
    assert "only the spectrum effect is given" in captions and "Spectrum effect: p(topological) minus" in captions
    assert "Where in energy the spectra push" in [h.value for h in page.subheader]  # the upload's attribution


def test_space_group_from_a_cif(page: AppTest, predictor: Predictor, fixtures_dir: Path) -> None:
    from pymatgen.core import Lattice, Structure

    cif = Structure(Lattice.cubic(3.61), ["Cu"] * 4,
                    [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]).to(fmt="cif")
    page = _upload(page, _fixture(fixtures_dir, *LICOO2))
    page.segmented_control(key="predict_sg_source").set_value("CIF file").run()
    page.file_uploader(key="predict_cif").set_value(("cu.cif", cif.encode(), "chemical/x-cif")).run()
    assert_clean(page)
    assert any("space group **225**" in c.value for c in page.caption)
    assert_shows(page, predictor.predict([read_spectrum(fixtures_dir.joinpath(*LICOO2))], cif=cif).p_topological)
    assert any("has no Co" in w.value for w in page.warning)  # a CIF of another material is flagged


def test_uploaders_show_the_readers_limits_and_an_oversized_cif_is_refused(page: AppTest, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, *LICOO2))
    assert page.file_uploader(key="predict_files").proto.max_upload_size_mb == SPECTRUM_FILE_MB
    page.segmented_control(key="predict_sg_source").set_value("CIF file").run()
    assert page.file_uploader(key="predict_cif").proto.max_upload_size_mb == CIF_MB
    cif = "data_Cu\n_cell_length_a 3.61\n" + "#" * (CIF_MB * MB)  # past the limit; pymatgen never sees it
    page.file_uploader(key="predict_cif").set_value(("big.cif", cif.encode(), "chemical/x-cif")).run()
    assert not page.exception
    assert any(f"over the {CIF_MB} MB limit for CIF files" in e.value for e in page.error)
    assert not page.metric


def test_malformed_upload_is_an_error_and_the_page_goes_on(page: AppTest, predictor: Predictor,
                                                           fixtures_dir: Path) -> None:
    junk = ("junk.dat", bytes(range(256)) * 40)
    page = _upload(page, junk, _fixture(fixtures_dir, "spectra", "xdi_bad", "bad_14.xdi"))
    assert not page.exception
    assert len(page.error) == 2
    assert "binary" in page.error[0].value and "bad_14.xdi" in page.error[1].value
    assert not page.metric
    page.number_input(key="predict_sg").set_value(166)
    page = _upload(page, _fixture(fixtures_dir, *LICOO2))
    assert_clean(page)
    assert_shows(page, predictor.predict([read_spectrum(fixtures_dir.joinpath(*LICOO2))], space_group=166).p_topological)


def test_unknown_element_is_asked_for(page: AppTest, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, "spectra", "xdi_bad", "bad_30.xdi"))
    assert not page.exception
    assert "choose the element" in page.error[0].value
    (element,) = _selectboxes(page, "Absorbing element")
    assert element.value is None  # never guessed
    element.set_value("Cu").run()
    assert not page.exception
    assert "Cu K-edge window" in page.error[0].value  # read again as Cu (this file misses the window)
    assert _selectboxes(page, "Absorbing element")[0].value == "Cu"


def test_ambiguous_columns_are_asked_for(page: AppTest, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, "spectra", "xdi", "nonxafs_1d.xdi"))
    assert "Choose the energy and mu columns" in page.error[0].value
    (energy,), (mu,) = _selectboxes(page, "Energy column"), _selectboxes(page, "μ(E) column")
    assert energy.options == ["x", "i0", "itrans", "mutrans"] and energy.value is None
    energy.set_value("x")
    mu.set_value("mutrans").run()
    assert not page.exception
    assert all("Choose the energy" not in e.value for e in page.error)


def test_athena_project_offers_its_groups(page: AppTest, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, "spectra", "athena", "cu.prj"))
    assert_clean(page)
    (group,) = _selectboxes(page, "Spectrum in this Athena project")
    assert len(group.options) == 3
    group.select_index(2).run()
    assert_clean(page)
    assert any(c.value.startswith("cu150k.dat") for c in page.caption)


def test_an_upload_is_aligned_matched_and_judged(page: AppTest, predictor: Predictor, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, "spectra", "xdi", "cu_metal_rt.xdi"))
    page.number_input(key="predict_sg").set_value(225).run()
    assert_clean(page)
    copper = read_spectrum(fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi")
    assert_shows(page, predictor.predict([copper], space_group=225).p_topological)
    trust = _trust_table(page)
    assert list(trust["element"]) == ["Cu"] and trust["shift_ev"][0] != 0 and 0 < trust["similarity"][0] <= 1
    assert any(s.value == "Closest spectra in the dataset" for s in page.subheader)
    matches = next(d.value for d in page.dataframe if "class" in d.value.columns and "similarity" in d.value.columns)
    assert len(matches) == 5 and list(matches["similarity"]) == sorted(matches["similarity"], reverse=True)
    page.checkbox(key="predict_align").uncheck().run()
    assert_clean(page)
    assert _trust_table(page)["shift_ev"][0] == 0


def test_a_spectrum_outside_the_training_data_greys_the_probability(page: AppTest, predictor: Predictor,
                                                                    tmp_path: Path) -> None:
    """An emission-like peak without an absorption edge, as a computed Cu spectrum (MP JSON)."""
    import json

    import numpy as np

    from xanes_core.data.elements import energy_grid

    energy = energy_grid("Cu")
    peak = np.exp(-0.5 * ((energy - energy[60]) / 2.0) ** 2)
    document = {"x": energy.tolist(), "y": peak.tolist(), "absorbing_element": "Cu", "edge": "K"}
    page = _upload(page, ("peak.json", json.dumps(document).encode()))
    page.number_input(key="predict_sg").set_value(225).run()
    assert_clean(page)
    assert not any(m.label == "p(topological)" for m in page.metric)
    (tmp_path / "peak.json").write_text(json.dumps(document))
    assert_shows(page, predictor.predict([read_spectrum(tmp_path / "peak.json")], space_group=225).p_topological)
    assert any("Not to be trusted" in c.value and "Cu similarity" in c.value for c in page.caption)
    assert any("outside what the model was trained on" in w.value for w in page.warning)


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_batch_from_a_zip_and_its_manifest(page: AppTest, fixtures_dir: Path) -> None:
    """Real FEFF Cu spectra as xmu.dat plus a measured foil in a zip, manifest.csv inside, one file missing."""
    from tests.analysis.helpers import real_feff_or_skip
    from tests.sources.feff_files import xmu_text

    feff = real_feff_or_skip(fixtures_dir)
    members = {f"feff/{feff.mp_id[i]}.xmu.dat": xmu_text(feff.energy[i], feff.mu[i]).encode() for i in range(4)}
    members["measured/cu_foil.xdi"] = (fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi").read_bytes()
    lines = ["material_id,formula,space_group,label,element,file"]
    lines += [f"{feff.mp_id[i]},{feff.formula[i]},{feff.space_group[i]},,Cu,feff/{feff.mp_id[i]}.xmu.dat" for i in range(4)]
    lines += ["foil,Cu,225,,Cu,measured/cu_foil.xdi", "lost,CuO,15,,Cu,feff/none.xmu.dat"]
    members["manifest.csv"] = ("\n".join(lines) + "\n").encode()
    page.segmented_control(key="predict_source").set_value(SOURCES[2]).run()
    page.file_uploader(key="predict_batch_zip").set_value(("mine.zip", _zip(members), "application/zip")).run()
    assert_clean(page)
    table = next(d.value for d in page.dataframe if "p_topological" in d.value.columns)
    assert list(table.columns) == ["material_id", "p_topological", "label", "in_domain", "warnings"]
    assert list(table["material_id"]) == [*feff.mp_id[:4], "foil", "lost"]
    assert table["p_topological"][:5].between(0, 1).all() and table["warnings"][5].startswith("failed: ")
    assert any("5 predicted, 1 failed" in c.value for c in page.caption)
    assert "Download the predictions as CSV" in [b.proto.label for b in page.get("download_button")]


def test_a_batch_with_an_unsafe_zip_is_one_error(page: AppTest) -> None:
    page.segmented_control(key="predict_source").set_value(SOURCES[2]).run()
    page.file_uploader(key="predict_batch_zip").set_value(("bad.zip", b"PK\x03\x04 not a zip", "application/zip")).run()
    assert not page.exception
    assert len(page.error) == 1 and "bad.zip" in page.error[0].value


def test_dataset_materials_are_flagged_when_predicted_wrongly(page: AppTest) -> None:
    """Each of the first materials says whether the prediction agrees with its dataset class."""
    dataset = XanesDataset.load(Path(page.selectbox(key="predict_run").value).parent.parent / "datasets" / "demo")
    seen = set()
    for position in range(12):
        page.selectbox(key="predict_sample").select_index(position).run()
        assert_clean(page)
        truth = {1: "topological", 0: "trivial"}[int(dataset.labels[page.selectbox(key="predict_sample").value])]
        verdict = " ".join(m.value for m in page.markdown)
        predicted = "topological" if "Predicted **topological**" in verdict else "trivial"
        assert ("wrong prediction" in verdict) == (predicted != truth)
        assert ("agrees with the dataset" in verdict) == (predicted == truth)
        seen.add(predicted == truth)
    assert seen == {True, False}  # a 2-epoch tiny model gets some of twelve right and some wrong


def test_space_group_contribution_beside_the_elements(page: AppTest) -> None:
    import json

    figures = [json.loads(chart.proto.spec) for chart in page.get("plotly_chart")]
    figure = next(f for f in figures if "space group contribute" in f["layout"]["title"]["text"])
    assert figure["data"][-1]["y"][0].startswith("space group ") and len(figure["data"]) >= 2
    assert "percentage points" in figure["layout"]["xaxis"]["title"]["text"]
    assert any("space group unknown" in c.value for c in page.caption)  # the definition is shown


def test_formula_search_is_exact_and_says_when_it_is_fuzzy(page: AppTest) -> None:
    from xanes_core.data.browse import reduced_formula

    formula = page.selectbox(key="predict_sample").options[0].split(" · ")[0]
    page.text_input(key="predict_formula").input(formula).run()
    assert_clean(page)
    options = page.selectbox(key="predict_sample").options
    assert {reduced_formula(o.split(" · ")[0]) for o in options} == {reduced_formula(formula)}
    page.text_input(key="predict_formula").input("Xe9Zz").run()
    assert not page.exception
    assert any("No test material has exactly the composition Xe9Zz" in c.value for c in page.caption)


def test_routine_steps_are_information_not_warnings(page: AppTest, fixtures_dir: Path) -> None:
    page = _upload(page, _fixture(fixtures_dir, "spectra", "xdi", "zn_znse_rt.xdi"))  # a transmission scan
    assert_clean(page)
    assert any("mu computed as ln(i0/itrans)" in c.value for c in page.caption)
    assert not any("computed as" in w.value for w in page.warning)
