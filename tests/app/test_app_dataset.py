"""Dataset browser: renders, and every filter changes what the table and the spectra show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, N_SAMPLES, assert_clean


def _match_count(app: AppTest) -> int:
    text = next(m.value for m in app.markdown if "materials match" in m.value)
    return int(re.search(r"\*\*([\d,]+)\*\*", text).group(1).replace(",", ""))


def _table(app: AppTest):
    return app.dataframe[0].value


def test_renders_all_sections(app: AppTest) -> None:
    assert_clean(app)
    assert _match_count(app) == N_SAMPLES
    assert len(_table(app)) == N_SAMPLES
    assert [t.label for t in app.tabs] == ["Materials", "Spectra", "Families", "Dataset overview"]
    # spectra overlay + the first family's spectra (one per element) + 3 periodic tables + element-count bars
    # + split balance
    assert len(app.get("plotly_chart")) == 6 + len(_family_figures(app))


def test_class_filter(app: AppTest) -> None:
    app.multiselect(key="f_classes").select("topological").run()
    assert_clean(app)
    table = _table(app)
    assert 0 < len(table) < N_SAMPLES
    assert set(table["class"]) == {"topological"}
    assert _match_count(app) == len(table)


def test_element_number_and_formula_filters(app: AppTest) -> None:
    symbol = app.selectbox(key="spectra_element").value  # most common element in the data
    app.multiselect(key="f_elements").select(symbol).run()
    with_element = _table(app)
    assert with_element["elements"].str.split().map(lambda e: symbol in e).all()
    app.slider(key="f_n_elements").set_value((2, 2)).run()
    assert set(_table(app)["n_elements"]) == {2}
    app.text_input(key="f_formula").input("no-such-formula").run()
    assert_clean(app)
    assert _match_count(app) == 0
    assert any("No spectra" in i.value for i in app.info)


def test_crystal_system_and_space_group_filters(app: AppTest) -> None:
    system = _table(app)["crystal_system"].mode()[0]
    app.multiselect(key="f_systems").select(system).run()
    assert set(_table(app)["crystal_system"]) == {system}
    group = int(_table(app)["space_group"].mode()[0])
    app.multiselect(key="f_groups").select(group).run()
    assert set(_table(app)["space_group"]) == {group}
    assert_clean(app)


def test_spectra_element_and_cap(app: AppTest) -> None:
    caption = lambda: next(c.value for c in app.caption if c.value.startswith("Drawing"))  # noqa: E731
    first = caption()
    other = app.selectbox(key="spectra_element").options[1]
    app.selectbox(key="spectra_element").set_value(other.split(" ")[0]).run()
    assert caption() != first and other.split(" ")[0] in caption()
    app.slider(key="spectra_limit").set_value(5).run()
    assert caption().startswith("Drawing 5 of")
    assert_clean(app)


def _spectra_figure(app: AppTest) -> dict:
    import json

    return json.loads(app.get("plotly_chart")[0].proto.spec)


def test_highlight_class_means_edge_axis_and_the_broad_bi_edge(app: AppTest) -> None:
    box = app.selectbox(key="spectra_element")
    box.set_value(box.options[0].split(" ")[0]).run()
    app.slider(key="spectra_limit").set_value(5).run()
    highlight = app.selectbox(key="spectra_highlight")
    target = highlight.options[-1]  # a material outside the first 5 drawn, likely
    highlight.select_index(len(highlight.options) - 1)
    app.toggle(key="spectra_means").set_value(True)
    app.toggle(key="spectra_relative").set_value(True).run()
    assert_clean(app)
    traces = _spectra_figure(app)["data"]
    assert traces[-1]["name"] == target and traces[-1]["line"]["width"] > 3  # drawn even if not in the subset
    assert any(t["name"].startswith("topological mean") for t in traces) or \
        all(t["name"] != "topological" for t in traces)
    assert "E − E0" in _spectra_figure(app)["layout"]["xaxis"]["title"]["text"]
    app.selectbox(key="spectra_element").set_value("Bi").run()  # the demo has Bi; its core hole is ~60 eV wide
    assert any("broadens every feature by about 6" in c.value for c in app.caption)


def _family_figures(app: AppTest) -> list[dict]:
    import json

    figures = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return [f for f in figures if "family" in f["layout"]["title"]["text"]]


def _members(app: AppTest):
    columns = ["sample_id", "formula", "class", "space_group", "split"]
    return next(d.value for d in app.dataframe if list(d.value.columns[:5]) == columns)


def test_families_with_both_classes_their_members_and_spectra(app: AppTest) -> None:
    table = next(d.value for d in app.dataframe if "both_classes" in d.value.columns)
    assert len(table) > 0 and table["both_classes"].all()
    family = app.selectbox(key="families_family").value
    assert family == table["family"].iloc[0]  # the largest first
    members = _members(app)
    assert len(members) == table["n_materials"].iloc[0] and {"topological", "trivial"} <= set(members["class"])
    figures = _family_figures(app)
    assert len(figures) == len(family.split("-"))  # demo: every element of the formula has spectra
    names = {t["name"] for f in figures for t in f["data"]}
    assert {f"{fo} ({sid})" for fo, sid in zip(members["formula"], members["sample_id"])} <= names
    app.toggle(key="families_both").set_value(False).run()
    assert_clean(app)
    assert len(next(d.value for d in app.dataframe if "both_classes" in d.value.columns)) > len(table)
    app.multiselect(key="f_classes").select("trivial").run()  # the families follow the filters
    assert_clean(app)
    assert any(m.value.startswith("**0** families") for m in app.markdown) or \
        not next(d.value for d in app.dataframe if "both_classes" in d.value.columns)["both_classes"].any()


def _families(app: AppTest):
    return next(d.value for d in app.dataframe if "both_classes" in d.value.columns)


@pytest.fixture(scope="module")
def run_cache(demo_cache: Path, tmp_path_factory) -> Path:
    """The app tests' demo dataset (linked) and a 1-epoch tiny core CNN trained on it."""
    from xanes_core.data.dataset import XanesDataset
    from xanes_core.learn.config import ModelConfig
    from xanes_core.learn.training import Trainer, TrainingConfig

    root = tmp_path_factory.mktemp("families-cache")
    (root / "datasets").mkdir()
    (root / "datasets" / "demo").symlink_to(demo_cache / "datasets" / "demo")
    path = root / "datasets" / "demo"
    config = TrainingConfig(dataset=str(path), model="core", epochs=1, augment=False,
                            model_config=ModelConfig(filters=(4, 8, 4), dense_units=(16, 8)))
    final = Trainer(config, out=root / "runs" / "tiny-core", dataset=XanesDataset.load(path)).start().join()
    assert final.status == "completed", final.message
    return root


def test_families_with_a_runs_predictions(run_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("XANES_CACHE", str(run_cache))
    app = AppTest.from_file(APP, default_timeout=90).run()
    box = app.selectbox(key="families_run")
    assert box.options[0] == "none" and box.options[1].startswith("tiny-core")
    box.select_index(1).run()
    assert_clean(app)
    table = _families(app)
    assert {"n_test", "test_correct"} <= set(table.columns) and (table["test_correct"] <= table["n_test"]).all()
    members = _members(app)
    assert members["p_topological (run)"].between(0, 1).all()
    assert set(members["predicted"]) <= {"topological", "trivial"}
    names = {t["name"] for f in _family_figures(app) for t in f["data"]}
    assert any(" · p = " in name for name in names)


def test_families_of_a_dataset_built_from_real_feff_files(fixtures_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """Real Cu oxides (one Cu spectrum each, labels unknown but two placeholders): the Cu-O family
    groups their stoichiometries, and spectra of unknown class are drawn too."""
    from tests.analysis.helpers import real_feff_or_skip
    from tests.sources.feff_files import write_xmu
    from xanes_core.data.families import element_set
    from xanes_core.sources.local_files import MANIFEST_COLUMNS, build_local_dataset

    feff = real_feff_or_skip(fixtures_dir)
    picked = [i for i, f in enumerate(feff.formula) if element_set(f) in (("Cu", "O"), ("La", "Cu", "O"))]
    lines = [",".join(MANIFEST_COLUMNS)]
    for rank, i in enumerate(picked):
        write_xmu(tmp_path / "files" / f"{feff.mp_id[i]}.xmu.dat", feff.energy[i], feff.mu[i])
        label = ("topological", "trivial")[rank] if rank < 2 else ""
        lines.append(f"{feff.mp_id[i]},{feff.formula[i]},{int(feff.space_group[i])},{label},Cu,files/{feff.mp_id[i]}.xmu.dat")
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    build_local_dataset(tmp_path / "manifest.csv", tmp_path / "cache" / "datasets" / "cu-oxides")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    app = AppTest.from_file(APP, default_timeout=90).run()
    app.session_state["dataset_name"] = "cu-oxides"
    app.run()
    assert_clean(app)
    table = _families(app)
    assert table["family"].tolist()[:1] == ["Cu-O"] and table["both_classes"].iloc[0]
    assert table["n_formulas"].iloc[0] > 1  # several stoichiometries of the same elements
    members = _members(app)
    assert (members["class"] == "unknown").sum() == len(members) - 2
    (figure,) = _family_figures(app)  # Cu only: the dataset holds no O spectra
    assert len([t for t in figure["data"] if "mean" not in t["name"]]) == len(members)
    assert any("No O spectra in this dataset" in c.value for c in app.caption)
