"""Clustering page: renders, element choice works, unclusterable elements give st.error."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import assert_clean
from xanes_core.analysis.clustering import cluster_all_elements
from xanes_core.data.dataset import XanesDataset


@pytest.fixture
def page(app: AppTest) -> AppTest:
    return app.switch_page("pages/clustering.py").run()


def test_renders(page: AppTest) -> None:
    assert_clean(page)
    assert page.title[0].value == "Clustering"
    assert len(page.metric) == 2
    # decision regions, representative spectra, two periodic tables
    assert len(page.get("plotly_chart")) == 4


def test_each_fraction_stands_beside_its_chance_level(page: AppTest, demo_cache) -> None:
    """The delta is the fraction minus what random clustering with the same cluster sizes gets,
    and the page, the tooltip and the analysis agree on which spectra are fitted and counted."""
    from xanes_core.analysis.clustering import cluster_element

    symbol = page.selectbox(key="cluster_element").value
    result = cluster_element(XanesDataset.load(demo_cache / "datasets" / "demo"), symbol)
    topological = page.metric[0]
    chance = result.chance_fraction(1)
    assert topological.value == f"{result.fraction_correct(1):.0%}"
    assert f"vs chance ({chance:.0%})" in topological.proto.delta
    assert "all splits" in topological.proto.help and "fitted on the training split" in page.caption[0].value
    assert chance == pytest.approx((result.predicted == 1).mean())


def test_element_choice_changes_results(page: AppTest) -> None:
    box = page.selectbox(key="cluster_element")
    before = [m.value for m in page.metric]
    for symbol in box.options[:4]:
        page.selectbox(key="cluster_element").set_value(symbol).run()
        assert_clean(page)
        assert page.get("plotly_chart")[0].proto.spec  # figure present
    assert [m.value for m in page.metric] != before or len(box.options) == 1


def test_unclusterable_element_is_an_error_message(page: AppTest, demo_cache) -> None:
    scores = cluster_all_elements(XanesDataset.load(demo_cache / "datasets" / "demo"))
    skipped = scores.loc[scores["note"] != "", "element"]
    if skipped.empty:
        pytest.skip("every element of the small demo can be clustered")
    page.selectbox(key="cluster_element").set_value(skipped.iloc[0]).run()
    assert not page.exception
    assert "training spectra" in page.error[0].value
    assert len(page.get("plotly_chart")) == 2  # the all-elements tables still show
