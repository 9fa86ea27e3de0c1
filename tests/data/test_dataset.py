import json

import numpy as np
import pytest

from tests.helpers import with_unlabelled
from xanes_core.data.dataset import SPLITS, UNLABELLED, XanesDataset, check_replaceable, list_datasets
from xanes_core.errors import DatasetError


def test_round_trip_keeps_every_array_and_column(demo_small, tmp_path):
    path = demo_small.save(tmp_path / "ds")
    loaded = XanesDataset.load(path)
    assert np.array_equal(loaded.spectra, demo_small.spectra)
    assert np.array_equal(loaded.sample_index, demo_small.sample_index)
    assert np.array_equal(loaded.channel, demo_small.channel)
    assert loaded.metadata["elements"].tolist() == demo_small.metadata["elements"].tolist()
    assert loaded.metadata.drop(columns="elements").equals(demo_small.metadata.drop(columns="elements"))
    assert loaded.provenance["kind"] == "demo"
    assert list_datasets(tmp_path) == [path]


def test_sparse_storage_is_far_smaller_than_dense(demo_small):
    summary = demo_small.summary()
    assert summary["stored_megabytes"] * 10 < summary["dense_megabytes"]


@pytest.mark.parametrize("damage", ["truncate_arrays", "flip_metadata_byte", "drop_manifest", "foreign_manifest",
                                    "future_version", "garbage_manifest"])
def test_corrupt_or_foreign_folders_are_refused_clearly(demo_small, tmp_path, damage):
    path = demo_small.save(tmp_path / "ds")
    manifest = path / "manifest.json"
    if damage == "truncate_arrays":
        data = (path / "arrays.npz").read_bytes()
        (path / "arrays.npz").write_bytes(data[: len(data) // 2])
    elif damage == "flip_metadata_byte":
        data = bytearray((path / "metadata.parquet").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (path / "metadata.parquet").write_bytes(bytes(data))
    elif damage == "drop_manifest":
        manifest.unlink()
    elif damage == "foreign_manifest":
        manifest.write_text(json.dumps({"format": "something-else"}))
    elif damage == "future_version":
        content = json.loads(manifest.read_text())
        content["schema_version"] = 99
        manifest.write_text(json.dumps(content))
    elif damage == "garbage_manifest":
        manifest.write_bytes(b"\x00\xff not json")
    with pytest.raises(DatasetError) as info:
        XanesDataset.load(path)
    assert "\n" not in str(info.value)


def test_a_failed_save_leaves_the_previous_dataset_intact(demo_small, tmp_path, monkeypatch):
    path = demo_small.save(tmp_path / "ds")
    before = (path / "arrays.npz").read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pandas.DataFrame.to_parquet", explode)
    with pytest.raises(OSError):
        demo_small.subset(np.arange(100)).save(path)
    assert (path / "arrays.npz").read_bytes() == before
    assert XanesDataset.load(path).n_samples == demo_small.n_samples


def test_nan_spectra_are_refused(demo_small):
    spectra = demo_small.spectra.copy()
    spectra[3, 10] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        XanesDataset(spectra=spectra, sample_index=demo_small.sample_index, channel=demo_small.channel,
                     metadata=demo_small.metadata)


def test_default_demo_round_trips_at_full_size(demo_full, tmp_path):
    loaded = XanesDataset.load(demo_full.save(tmp_path / "demo"))
    assert loaded.n_samples == 16_458
    assert loaded.summary() == demo_full.summary()


def test_unlabelled_samples_round_trip_without_a_split(demo_small, tmp_path):
    mixed = with_unlabelled(demo_small, 25)
    loaded = XanesDataset.load(mixed.save(tmp_path / "mixed"))
    assert (loaded.labels[-25:] == UNLABELLED).all() and loaded.labelled.sum() == demo_small.n_samples
    assert loaded.metadata["split"][-25:].isna().all()
    for split in SPLITS:
        assert np.array_equal(loaded.split_indices(split), demo_small.split_indices(split))
    summary = loaded.summary()
    assert summary["n_unlabelled"] == 25 and summary["n_samples"] == demo_small.n_samples + 25
    assert summary["n_topological"] + summary["n_trivial"] == demo_small.n_samples
    assert sum(summary["splits"].values()) == demo_small.n_samples
    assert json.loads((tmp_path / "mixed" / "manifest.json").read_text())["n_labelled"] == demo_small.n_samples


def test_an_unknown_label_is_never_in_a_split_and_labels_are_one_zero_or_unknown(demo_small):
    in_split = demo_small.metadata.copy()
    in_split.loc[3, "label"] = UNLABELLED
    with pytest.raises(DatasetError, match="no label but is in a split"):
        XanesDataset(demo_small.spectra, demo_small.sample_index, demo_small.channel, in_split)
    odd = demo_small.metadata.copy()
    odd.loc[3, "label"] = 2
    with pytest.raises(DatasetError, match="Label '2' is not 1, 0 or -1"):
        XanesDataset(demo_small.spectra, demo_small.sample_index, demo_small.channel, odd)


def test_saving_never_replaces_a_folder_that_is_not_a_dataset(demo_small, tmp_path):
    check_replaceable(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty")
    check_replaceable(demo_small.save(tmp_path / "ds"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "spectrum.xdi").write_text("mine")
    with pytest.raises(DatasetError, match="not a dataset folder"):
        check_replaceable(tmp_path / "mine")
