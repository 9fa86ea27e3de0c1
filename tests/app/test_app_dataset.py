"""Dataset browser: renders, and every filter changes what the table and the spectra show."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.app.helpers import N_SAMPLES, assert_clean


def _match_count(app: AppTest) -> int:
    text = next(m.value for m in app.markdown if "materials match" in m.value)
    return int(re.search(r"\*\*([\d,]+)\*\*", text).group(1).replace(",", ""))


def _table(app: AppTest):
    return app.dataframe[0].value


def test_renders_all_sections(app: AppTest) -> None:
    assert_clean(app)
    assert _match_count(app) == N_SAMPLES
    assert len(_table(app)) == N_SAMPLES
    assert [t.label for t in app.tabs] == ["Materials", "Spectra", "Dataset overview"]
    # spectra overlay + 3 periodic tables + element-count bars + split balance
    assert len(app.get("plotly_chart")) == 6


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
