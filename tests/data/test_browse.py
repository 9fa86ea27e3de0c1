"""Sample filters and the dataset counts (paper Table 1, Fig. S1a-b) on a small demo."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.data.browse import (
    SampleFilter,
    element_class_counts,
    element_count_table,
    filter_samples,
    sample_table,
)
from xanes_core.data.demo import generate_demo


@pytest.fixture(scope="module")
def demo():
    return generate_demo(200, seed=5)


def test_no_filter_keeps_everything(demo) -> None:
    np.testing.assert_array_equal(filter_samples(demo, SampleFilter()), np.arange(demo.n_samples))


def test_each_restriction(demo) -> None:
    meta = demo.metadata
    symbol = meta["elements"].explode().mode()[0]
    with_symbol = filter_samples(demo, SampleFilter(elements=(symbol,)))
    assert all(symbol in meta["elements"][i] for i in with_symbol) and with_symbol.size > 0
    topo = filter_samples(demo, SampleFilter(labels=(1,)))
    assert set(meta["label"].iloc[topo]) == {1}
    two = filter_samples(demo, SampleFilter(n_elements=(2, 2)))
    assert set(meta["elements"].iloc[two].map(len)) == {2}
    system = meta["crystal_system"].iloc[0]
    assert set(meta["crystal_system"].iloc[filter_samples(demo, SampleFilter(crystal_systems=(system,)))]) == {system}
    group = int(meta["space_group"].iloc[0])
    assert set(meta["space_group"].iloc[filter_samples(demo, SampleFilter(space_groups=(group,)))]) == {group}
    text = meta["formula"].iloc[0][:3].lower()
    found = filter_samples(demo, SampleFilter(formula_contains=text))
    assert 0 in found and all(text in f.lower() for f in meta["formula"].iloc[found])


def test_restrictions_combine(demo) -> None:
    both = filter_samples(demo, SampleFilter(labels=(1,), n_elements=(3, 3)))
    alone = set(filter_samples(demo, SampleFilter(labels=(1,)))) & set(filter_samples(demo, SampleFilter(n_elements=(3, 3))))
    assert set(both) == alone


def test_counts_match_the_metadata(demo) -> None:
    counts = element_class_counts(demo).set_index("element")
    exploded = demo.metadata.explode("elements")
    expected = exploded.groupby(["elements", "label"]).size().unstack(fill_value=0)
    for symbol, row in counts.iterrows():
        assert row.n_topological == expected.loc[symbol].get(1, 0)
        assert row.n_trivial == expected.loc[symbol].get(0, 0)
    table = element_count_table(demo)
    assert table["total"].sum() == demo.n_samples


def test_sample_table_is_readable(demo) -> None:
    table = sample_table(demo, np.array([0, 1]))
    assert list(table["sample_id"]) == list(demo.metadata["sample_id"].iloc[:2])
    assert set(table["class"]) <= {"topological", "trivial"}
    assert "p_topological" in table.columns


def test_formula_search_is_exact_by_composition_with_a_fuzzy_fallback_that_says_so() -> None:
    from xanes_core.data.browse import find_formula

    formulas = ["Bi2Se3", "ZnBi2S2", "Se3Bi2", "Bi4Se6", "NaCl"]
    found, exact = find_formula(formulas, "Bi2Se3")
    assert exact and list(found) == [0, 2, 3]  # the same composition however it is written
    found, exact = find_formula(formulas, "Bi2Se")  # the example: nothing is Bi2Se exactly,
    assert not exact and 0 in found.tolist()       # so the close spellings come back marked fuzzy
    assert find_formula(formulas, "no such thing")[0].size == 0
