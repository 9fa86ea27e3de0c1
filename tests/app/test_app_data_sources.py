"""Data sources page: catalogue upload, a real build against the local MP server, errors; the
server's key never sent to an endpoint a visitor typed; a build from an uploaded zip of real
spectrum files plus a manifest, then browsed on the Dataset page.

Each test runs in a cache of its own (a copy of the small demo plus whatever the build writes),
so built datasets and raw answers cannot leak into other app tests. The build job lives in
``st.cache_resource``, which every AppTest in this process shares: it is cleared per test.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean, rerun_until
from tests.sources.mp_server import (
    FakeMaterialsProject,
    Material,
    documents,
    real_spectra,
)
from tests.sources.feff_files import load_real_feff, xmu_text
from xanes_core.data.dataset import UNLABELLED, XanesDataset
from xanes_core.io.limits import CATALOGUE_MB, MANIFEST_MB, MB, ZIP_MB
from xanes_core.sources.labels import read_labels
from xanes_core.sources.local_files import MANIFEST_COLUMNS

KEY = "Xk3tS9pQv2LmN8rB4wZy7HcJ1dFgA6eU"
SERVER_KEY = "S3rv3rK3yS3rv3rK3yS3rv3rK3yS3rv3"  # MP_API_KEY of the server where the fake would refuse it
CATALOGUE = b"mp_id,icsd,formula,label\nmp-24850,,LiCoO2,trivial\nmp-13,,Fe,0\nmp-19006,,MnO,1\nmp-1,,Cu,0\n"
BUILD_TIMEOUT_S = 45.0


@pytest.fixture
def cache(demo_cache: Path, tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path))
    monkeypatch.delenv("MP_API_KEY", raising=False)
    monkeypatch.delenv("XANES_MP_KEY_ENDPOINTS", raising=False)
    st.cache_resource.clear()  # a fresh build job: no status left over from another test
    return tmp_path


@pytest.fixture
def page(cache: Path) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    return app.switch_page("pages/data_sources.py").run()


@pytest.fixture(scope="module")
def server(fixtures_dir):
    """Three materials with real Co, Fe and Mn K-edge XANES (mp-1 of the catalogue is absent)."""
    real = real_spectra(fixtures_dir)
    materials = [Material("mp-24850", real["Co"][0]), Material("mp-13", real["Fe"][0]),
                 Material("mp-19006", real["Mn"][0])]
    summaries, xas = documents(materials, fixtures_dir)
    with FakeMaterialsProject(summaries, xas, KEY) as fake:
        yield fake


def upload(page: AppTest, name: str, data: bytes) -> AppTest:
    page.file_uploader(key="mp_labels_file").set_value((name, data, "text/csv"))
    return page.run()


def metrics(page: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in page.metric}


def table_with(page: AppTest, column: str):
    """The first table shown that has this column (AppTest does not expose dataframe keys)."""
    return next(d.value for d in page.dataframe if column in d.value.columns)


def start_build(page: AppTest, server: FakeMaterialsProject, key: str, endpoint: str | None = None) -> AppTest:
    """Upload the tiny catalogue, fill in the form (an empty ``key`` leaves the field empty),
    start, and rerun until the build has ended."""
    upload(page, "tiny.csv", CATALOGUE)
    if key:
        page.text_input(key="mp_api_key").input(key)
    page.text_input(key="mp_endpoint").input(endpoint or server.endpoint)
    page.text_input(key="mp_dataset_name").input("mp-test")
    page.button(key="mp_start").click().run()
    return wait_for_end(page)


def page_text(page: AppTest) -> str:
    """Everything the page sends to the browser: every element's message (widget defaults too)."""
    return "\n".join(str(node.proto) for node in page._tree if getattr(node, "proto", None) is not None)


def assert_nowhere(secret: str, page: AppTest, cache: Path) -> None:
    assert secret not in page_text(page)
    for path in (p for p in cache.rglob("*") if p.is_file()):
        assert secret.encode() not in path.read_bytes(), path


def wait_for_end(page: AppTest) -> AppTest:
    return rerun_until(page, lambda p: not (p.button(key="mp_start").disabled or p.get("progress")),
                       BUILD_TIMEOUT_S, lambda: "the build to end")


def test_renders_with_start_disabled_until_a_catalogue_is_given(page: AppTest) -> None:
    assert_clean(page)
    assert page.title[0].value == "Data sources"
    assert page.button(key="mp_start").disabled and page.button(key="mp_stop").disabled
    assert page.text_input(key="mp_api_key").value == ""  # never pre-filled with a key
    assert any("Start needs a label catalogue" in c.value for c in page.caption)  # why it is greyed out


def test_the_example_catalogue_reads_and_the_build_is_estimated(page: AppTest) -> None:
    from xanes_core.sources.labels import EXAMPLE_LABELS
    from xanes_core.sources.materials_project import estimate_calls

    example = read_labels(EXAMPLE_LABELS)
    assert set(example["label"]) == {0, 1} and example["mp_id"].notna().all()
    assert estimate_calls(example) == 2  # six materials: one chunk of structures, one of spectra
    icsd_only = example.assign(mp_id=None)
    assert estimate_calls(icsd_only) == 1 + 2  # their formulas are resolved first
    upload(page, "example_labels.csv", EXAMPLE_LABELS.read_bytes())
    assert_clean(page)
    assert any("at most 2 Materials Project client calls" in c.value for c in page.caption)
    assert not page.button(key="mp_start").disabled
    assert not any("Start needs" in c.value for c in page.caption)


def test_materiae_upload_shows_class_counts(page: AppTest, fixtures_dir: Path) -> None:
    path = fixtures_dir / "labels" / "materiae_sample.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    expected = read_labels(path)
    upload(page, path.name, path.read_bytes())
    assert_clean(page)
    n_topological = int(expected["label"].sum())
    assert metrics(page) == {"Catalogue entries": f"{len(expected):,}", "Topological": f"{n_topological:,}",
                             "Trivial": f"{len(expected) - n_topological:,}"}
    classes = table_with(page, "entries").set_index("fine_class")["entries"]
    assert classes.to_dict() == expected["fine_class"].value_counts().to_dict()
    assert not page.button(key="mp_start").disabled


def test_malformed_catalogue_is_an_error_message(page: AppTest) -> None:
    upload(page, "broken.csv", b"foo,bar\n1,2\n")
    assert not page.exception
    assert "broken.csv" in page.error[0].value and "/tmp" not in page.error[0].value
    assert page.button(key="mp_start").disabled


def test_build_completes_and_shows_the_funnel(page: AppTest, server: FakeMaterialsProject, cache: Path) -> None:
    start_build(page, server, KEY)
    assert_clean(page)
    assert "Saved 3 materials" in page.success[0].value
    assert len(page.get("plotly_chart")) == 1
    per_class = table_with(page, "in dataset").set_index("class")
    assert per_class.loc["topological", "in dataset"] == 1 and per_class.loc["trivial", "in dataset"] == 2
    assert per_class.loc["trivial", "dropped"] == 1
    reasons = table_with(page, "meaning")
    assert reasons.to_dict("records")[0]["reason"] == "not_on_mp"
    assert page.get("download_button")
    assert (cache / "datasets" / "mp-test" / "manifest.json").is_file()
    for path in (p for p in cache.rglob("*") if p.is_file()):
        assert KEY.encode() not in path.read_bytes(), path


def test_progress_then_stop(page: AppTest, server: FakeMaterialsProject, monkeypatch) -> None:
    """The server holds every answer until Stop is clicked, so the build cannot finish first
    (it did on a busy machine, where a merely slow server still beat the click)."""
    answer = server.answer
    stop_clicked = threading.Event()

    def held(*args):
        stop_clicked.wait(timeout=BUILD_TIMEOUT_S)
        return answer(*args)

    monkeypatch.setattr(server, "answer", held)
    upload(page, "tiny.csv", CATALOGUE)
    page.text_input(key="mp_api_key").input(KEY)
    page.text_input(key="mp_endpoint").input(server.endpoint)
    page.button(key="mp_start").click().run()
    assert page.get("progress"), "a running build shows its progress"
    assert page.button(key="mp_start").disabled and not page.button(key="mp_stop").disabled
    page.button(key="mp_stop").click().run()
    stop_clicked.set()
    wait_for_end(page)
    assert not page.exception and not page.error
    assert "stopped" in page.warning[0].value


def test_bad_key_is_an_error_message(page: AppTest, server: FakeMaterialsProject) -> None:
    start_build(page, server, "W" * 32)
    assert not page.exception
    assert "refused the API key" in page.error[0].value
    assert "W" * 32 not in page.error[0].value


def test_server_key_never_goes_to_an_endpoint_a_visitor_typed(page: AppTest, server: FakeMaterialsProject,
                                                              cache: Path, monkeypatch) -> None:
    """The fake server accepts this key, so a build that sent it would succeed: it is refused before
    any request, for the listener's own address and for a look-alike of the official host."""
    monkeypatch.setenv("MP_API_KEY", KEY)
    port = server.endpoint.rsplit(":", 1)[1]
    for endpoint, message in ((server.endpoint, "enter your own API key"),
                              (f"http://api.materialsproject.org@127.0.0.1:{port}", "not an http(s) endpoint")):
        before = len(server.headers)
        start_build(page, server, "", endpoint)
        assert len(server.headers) == before, "the listener was contacted"
        assert not page.exception
        assert message in page.error[0].value
        assert not (cache / "datasets" / "mp-test").exists()
        assert_nowhere(KEY, page, cache)


def test_a_typed_key_builds_from_another_endpoint_without_the_server_key(page: AppTest, server: FakeMaterialsProject,
                                                                         cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("MP_API_KEY", SERVER_KEY)
    before = len(server.headers)
    start_build(page, server, KEY)
    assert_clean(page)
    assert "Saved 3 materials" in page.success[0].value
    assert server.received(KEY, since=before) and not server.received(SERVER_KEY, since=before)
    assert_nowhere(SERVER_KEY, page, cache)
    assert_nowhere(KEY, page, cache)


def test_an_endpoint_the_operator_lists_gets_the_server_key(page: AppTest, server: FakeMaterialsProject,
                                                            cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("MP_API_KEY", KEY)
    monkeypatch.setenv("XANES_MP_KEY_ENDPOINTS", server.endpoint)
    start_build(page, server, "")
    assert_clean(page)
    assert "Saved 3 materials" in page.success[0].value
    assert_nowhere(KEY, page, cache)


def test_a_public_server_builds_only_from_listed_endpoints_whatever_the_key(page: AppTest, server: FakeMaterialsProject,
                                                                          cache: Path, monkeypatch) -> None:
    """With XANES_MP_VISITOR_ENDPOINTS=listed a visitor's own key does not make the server call a
    host of the visitor's choosing; listing the host lets the same build through."""
    monkeypatch.setenv("XANES_MP_VISITOR_ENDPOINTS", "listed")
    before = len(server.headers)
    start_build(page, server, KEY)
    assert len(server.headers) == before, "the listener was contacted"
    assert not page.exception and "builds only from" in page.error[0].value
    assert not (cache / "datasets" / "mp-test").exists()
    monkeypatch.setenv("XANES_MP_KEY_ENDPOINTS", server.endpoint)
    start_build(page, server, KEY)
    assert_clean(page)
    assert "Saved 3 materials" in page.success[0].value and server.received(KEY, since=before)


def test_oversized_catalogue_is_one_error_and_nothing_is_written(page: AppTest, cache: Path,
                                                                 tmp_path_factory, monkeypatch) -> None:
    assert page.file_uploader(key="mp_labels_file").proto.max_upload_size_mb == CATALOGUE_MB
    scratch = tmp_path_factory.mktemp("scratch")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the page once wrote uploads
    before = sorted(cache.rglob("*"))
    big = b"mp_id,label,note\nmp-149,0," + b"x" * (CATALOGUE_MB * MB) + b"\n"
    upload(page, "big.csv", big)
    assert not page.exception
    assert [e.value for e in page.error] == [f"big.csv: 10.0 MB is over the {CATALOGUE_MB} MB limit for label catalogues."]
    assert page.button(key="mp_start").disabled
    assert sorted(cache.rglob("*")) == before and not any(scratch.iterdir())


# ------------------------------------------------------------------ your own spectrum files
def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def manifest_csv(rows: list[list]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    return text.getvalue().encode()


@pytest.fixture(scope="module")
def own_files(fixtures_dir) -> tuple[dict[str, bytes], list[list]]:
    """Six real FEFF Cu spectra (xmu.dat) and a measured Cu foil XDI, with a manifest: three
    labelled, three unknown, one row whose file is not in the zip (placeholder labels)."""
    folder = fixtures_dir.parent / "data" / "real_feff"
    if not (folder / "cu_feff_materials.npz").is_file():
        pytest.skip(f"real FEFF spectra not found in {folder}")
    real = load_real_feff(folder)
    files = {f"feff/{real.mp_id[i]}.dat": xmu_text(real.energy[i], real.mu[i]).encode() for i in range(6)}
    files["measured/cu_foil.xdi"] = (fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi").read_bytes()
    rows = [[real.mp_id[i], real.formula[i], int(real.space_group[i]), ("topological", "trivial", "")[i % 3],
             "Cu", f"feff/{real.mp_id[i]}.dat"] for i in range(6)]
    rows += [["mp-30", "Cu", "", "", "Cu", "measured/cu_foil.xdi"], ["lost", "", "", "", "Cu", "feff/lost.dat"]]
    return files, rows


def build_own(page: AppTest, archive: bytes, manifest: bytes | None, name: str = "mine") -> AppTest:
    page.file_uploader(key="local_zip").set_value(("spectra.zip", archive, "application/zip"))
    if manifest is not None:
        page.file_uploader(key="local_manifest").set_value(("manifest.csv", manifest, "text/csv"))
    page.text_input(key="local_dataset_name").input(name)
    page.run()  # the uploads enable the button, as in the browser
    return page.button(key="local_build").click().run()


def test_own_files_build_shows_the_summary_and_is_browsable(page: AppTest, own_files, cache: Path) -> None:
    files, rows = own_files
    assert page.file_uploader(key="local_zip").proto.max_upload_size_mb == ZIP_MB
    assert page.file_uploader(key="local_manifest").proto.max_upload_size_mb == MANIFEST_MB
    build_own(page, zip_of(files), manifest_csv(rows))
    assert_clean(page)
    assert "Saved 7 materials (7 spectra) to mine" in page.success[0].value
    summary = next(j.value for j in page.json)
    assert '"n_labelled": 4' in summary and '"n_topological": 2' in summary and '"n_trivial": 2' in summary
    assert table_with(page, "meaning").to_dict("records") == [
        {"reason": "file_not_found", "meaning": "no such file next to the manifest", "rows": 1}]
    dataset = XanesDataset.load(cache / "datasets" / "mine")
    assert (dataset.labels == UNLABELLED).sum() == 3 and dataset.metadata["split"][~dataset.labelled].isna().all()
    page.switch_page("pages/dataset.py").run()
    page.session_state["dataset_name"] = "mine"  # the sidebar chooser (see test_app_shell on AppTest's tree)
    page.run()
    assert "Dataset: **mine** · 7 materials" in page.caption[0].value
    assert_clean(page)
    assert page.multiselect(key="f_classes").options == ["topological", "trivial", "unknown"]
    page.multiselect(key="f_classes").select("unknown")
    page.session_state["dataset_name"] = "mine"  # AppTest forgets the dropped chooser's value on each run
    page.run()
    assert_clean(page)
    materials = table_with(page, "split")
    assert sorted(materials["sample_id"]) == sorted(r[0] for r in rows if not r[3] and r[0] != "lost")
    assert set(materials["class"]) == {"unknown"}


def test_manifest_inside_the_zip_is_used(page: AppTest, own_files, cache: Path) -> None:
    files, rows = own_files
    build_own(page, zip_of({**files, "manifest.csv": manifest_csv(rows[:2])}), None, "zipped")
    assert_clean(page)
    assert "Saved 2 materials" in page.success[0].value
    assert XanesDataset.load(cache / "datasets" / "zipped").n_samples == 2


@pytest.mark.parametrize("archive, manifest, message", [
    (lambda files: zip_of(files), None, "has no manifest.csv at its top level"),
    (lambda files: zip_of({**files, "../escape.dat": b"1 2"}), b"", "not a relative path inside the archive"),
    (lambda files: b"PK\x03\x04 not really a zip", b"", "not a zip archive"),
    (lambda files: zip_of(files), b"material_id,file\nmp-1,a.dat\n", "lacks column(s) formula, space_group"),
])
def test_bad_uploads_are_one_line_and_write_nothing(page: AppTest, own_files, cache: Path, archive, manifest,
                                                    message) -> None:
    files, rows = own_files
    build_own(page, archive(files), manifest if manifest != b"" else manifest_csv(rows), "broken")
    assert not page.exception and not page.success
    assert message in page.error[0].value and "\n" not in page.error[0].value
    assert not (cache / "datasets" / "broken").exists()
