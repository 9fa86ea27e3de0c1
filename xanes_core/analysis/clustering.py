"""Per-element unsupervised baseline: PCA to two components, then two-cluster k-means.

This is the paper's Fig. 2 analysis. It asks how much of the topological/trivial distinction
is visible in one element's spectra without any supervision: if the two k-means clusters line
up with the two classes, a single absorbing element already "sees" topology.

For one element, PCA and k-means are fitted on that element's spectra in the **training
split only**; validation and test spectra are only projected, so the picture shows how the
clusters generalize. K-means works in the 2-D PCA plane, so the decision regions drawn in
that plane are exactly the regions k-means assigns.

Clusters are matched to classes by **class-weighted assignment**: of the two possible
cluster-to-class mappings we keep the one with the higher mean per-class recall on the training
spectra. A plain majority vote would give both clusters to the trivial class whenever trivial
spectra dominate (as they do for most elements, ~3:1 overall); weighting each class by its
size avoids that.

Work runs single-threaded (``threadpool_limits(1)``): the per-element problems are small
(at most a few thousand 200-point spectra, k-means in 2-D), and BLAS/OpenMP threads cost far
more than they save, catastrophically when other work shares the CPUs (O: 6 s with default
threads beside a training run, 0.04 s with one).

Scores ("fraction correctly clustered") are per class over all of the element's spectra, as in
Fig. 2c-d, with the counts behind each fraction kept so that a page can show them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, normalize_symbol
from xanes_core.errors import ElementError

MIN_TRAIN_SPECTRA = 4
GRID_RESOLUTION = 150
_GRID_MARGIN = 0.08


@dataclass(frozen=True)
class ElementClustering:
    """PCA + k-means of one element's spectra, and what it gets right.

    Arrays ``coords``, ``rows``, ``labels``, ``splits`` and ``predicted`` have one entry per
    spectrum of the element (all splits). ``grid_class`` holds the class assigned to each point
    of the ``grid_x`` x ``grid_y`` mesh (shape ``(len(grid_y), len(grid_x))``).
    """

    symbol: str
    rows: np.ndarray            # spectrum rows in the dataset
    coords: np.ndarray          # (n, 2) PCA coordinates
    labels: np.ndarray          # (n,) true class, 1 topological / 0 trivial
    splits: np.ndarray          # (n,) train / validation / test
    predicted: np.ndarray       # (n,) class of the cluster each spectrum falls in
    explained_variance: np.ndarray  # (2,) fraction of variance per component (train)
    centers: np.ndarray         # (2, 2) k-means centres in the PCA plane
    cluster_class: np.ndarray   # (2,) class assigned to cluster 0 and cluster 1
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_class: np.ndarray

    def counts(self, label: int) -> tuple[int, int]:
        """(correctly clustered, total) spectra of one class, all splits together."""
        mask = self.labels == label
        return int((self.predicted[mask] == label).sum()), int(mask.sum())

    def chance_fraction(self, label: int) -> float:
        """What random clustering with the same cluster sizes scores for the class: the share of
        all the element's spectra that land in the cluster matched to it (NaN without spectra)."""
        return float((self.predicted == label).mean()) if self.predicted.size else float("nan")

    def fraction_correct(self, label: int) -> float:
        """Fraction of the class's spectra that land in that class's cluster (NaN if none)."""
        correct, total = self.counts(label)
        return correct / total if total else float("nan")


def cluster_element(dataset: XanesDataset, symbol: str, seed: int = 0) -> ElementClustering:
    """Fit PCA + k-means on the element's training spectra and score all of its spectra.

    Raises ElementError when the element has too few distinct training spectra to fit.
    """
    symbol = normalize_symbol(symbol)
    if symbol not in CHANNELS:
        raise ElementError(f"{symbol} is not one of the model's absorbing-element channels.")
    rows = dataset.element_rows(symbol)
    samples = dataset.sample_index[rows]
    labels = dataset.labels[samples].astype(np.int8)
    splits = dataset.metadata["split"].to_numpy()[samples].astype(str)
    spectra = dataset.spectra[rows]
    train = splits == "train"
    if train.sum() < MIN_TRAIN_SPECTRA or np.unique(spectra[train], axis=0).shape[0] < 3:
        raise ElementError(
            f"{symbol} has {int(train.sum())} training spectra; PCA and k-means need at least "
            f"{MIN_TRAIN_SPECTRA} distinct ones."
        )
    with threadpool_limits(limits=1):
        pca = PCA(n_components=2, svd_solver="full").fit(spectra[train])
        coords = pca.transform(spectra)
        kmeans = KMeans(n_clusters=2, n_init=4, random_state=seed).fit(coords[train])
        grid_x, grid_y, mesh = _grid(coords)
        mesh_clusters, point_clusters = kmeans.predict(mesh), kmeans.predict(coords)
    cluster_class = _match_clusters(kmeans.labels_, labels[train])
    grid_class = cluster_class[mesh_clusters].reshape(len(grid_y), len(grid_x))
    return ElementClustering(
        symbol=symbol, rows=rows, coords=coords, labels=labels, splits=splits,
        predicted=cluster_class[point_clusters], explained_variance=pca.explained_variance_ratio_,
        centers=kmeans.cluster_centers_, cluster_class=cluster_class,
        grid_x=grid_x, grid_y=grid_y, grid_class=grid_class.astype(np.int8),
    )


def _match_clusters(clusters: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Class for each of the two clusters, maximizing the mean per-class recall."""
    def balanced_recall(mapping: np.ndarray) -> float:
        predicted = mapping[clusters]
        recalls = [np.mean(predicted[labels == c] == c) for c in (0, 1) if np.any(labels == c)]
        return float(np.mean(recalls))

    straight, swapped = np.array([0, 1]), np.array([1, 0])
    return straight if balanced_recall(straight) >= balanced_recall(swapped) else swapped


def _grid(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mesh over the points' bounding box (plus a margin) for shading decision regions."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    pad = (high - low) * _GRID_MARGIN + 1e-9
    grid_x = np.linspace(low[0] - pad[0], high[0] + pad[0], GRID_RESOLUTION)
    grid_y = np.linspace(low[1] - pad[1], high[1] + pad[1], GRID_RESOLUTION)
    xx, yy = np.meshgrid(grid_x, grid_y)
    return grid_x, grid_y, np.column_stack([xx.ravel(), yy.ravel()])


def representative_rows(result: ElementClustering, per_class: int = 5) -> np.ndarray:
    """Spectrum rows most typical of each class: nearest to that class's mean PCA position.

    Typical members show what separates the classes better than random picks, which are often
    outliers for rare elements.
    """
    chosen = []
    for label in (0, 1):
        members = np.flatnonzero(result.labels == label)
        if members.size == 0:
            continue
        centre = result.coords[members].mean(axis=0)
        distance = np.linalg.norm(result.coords[members] - centre, axis=1)
        chosen.append(result.rows[members[np.argsort(distance)[:per_class]]])
    return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)


def cluster_all_elements(dataset: XanesDataset, seed: int = 0) -> pd.DataFrame:
    """Fraction correctly clustered per class for every element with enough training spectra.

    One row per element present in the dataset: ``n_topological``, ``n_trivial`` (spectra),
    ``correct_topological``, ``correct_trivial`` and ``fraction_topological``,
    ``fraction_trivial`` (NaN where the element could not be clustered or has no spectra of
    that class), plus ``note`` saying why an element was skipped.
    """
    records = []
    for channel in np.unique(dataset.channel):
        symbol = CHANNELS[channel]
        record: dict[str, object] = {"element": symbol, "note": ""}
        try:
            result = cluster_element(dataset, symbol, seed=seed)
        except ElementError as exc:
            labels = dataset.labels[dataset.sample_index[dataset.element_rows(symbol)]]
            record.update(n_topological=int((labels == 1).sum()), n_trivial=int((labels == 0).sum()),
                          correct_topological=0, correct_trivial=0,
                          fraction_topological=np.nan, fraction_trivial=np.nan, note=str(exc))
        else:
            for label, name in ((1, "topological"), (0, "trivial")):
                correct, total = result.counts(label)
                record[f"n_{name}"] = total
                record[f"correct_{name}"] = correct
                record[f"fraction_{name}"] = result.fraction_correct(label)
        records.append(record)
    columns = ["element", "n_topological", "n_trivial", "correct_topological", "correct_trivial",
               "fraction_topological", "fraction_trivial", "note"]
    return pd.DataFrame.from_records(records, columns=columns)
