"""heicadlearn.data: real data from the mirror, and the real download code against a local server."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from heicadlearn import data
from heicadlearn.data import (
    ChecksumError,
    CorruptFileError,
    DataUnavailableError,
    RemoteFile,
    fetch,
    load_chestxray14_samples,
    load_fashion_mnist,
    load_pneumoniamnist,
)

from .conftest import mirror_path


def sha256(payload: bytes) -> str:
    return "sha256:" + hashlib.sha256(payload).hexdigest()


# ----------------------------------------------------------------------------- real data


def test_pneumoniamnist_has_the_official_splits_and_class_counts():
    d = load_pneumoniamnist()
    assert d.x_train.shape == (4708, 28, 28) and d.x_val.shape == (524, 28, 28) and d.x_test.shape == (624, 28, 28)
    assert d.x_train.dtype == np.uint8
    assert np.bincount(d.y_train).tolist() == [1214, 3494]
    assert np.bincount(d.y_val).tolist() == [135, 389]
    assert np.bincount(d.y_test).tolist() == [234, 390]
    assert d.class_names == ("normal", "pneumonia")


def test_fashion_mnist_equals_keras_loader(tmp_path, monkeypatch):
    """Our loader returns exactly what keras.datasets.fashion_mnist.load_data() returns."""
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.dtype == np.uint8 and set(np.unique(y_train)) == set(range(10))
    # Give Keras the same four files in its own cache, so that it reads instead of downloading.
    keras_cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    keras_cache.mkdir(parents=True)
    for name in data._FASHION_FILES:
        shutil.copy(data._fashion_paths()[name], keras_cache / name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras.datasets import fashion_mnist

    (kx_train, ky_train), (kx_test, ky_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, kx_train)
    np.testing.assert_array_equal(y_train, ky_train)
    np.testing.assert_array_equal(x_test, kx_test)
    np.testing.assert_array_equal(y_test, ky_test)


def test_chestxray14_samples_carry_official_labels():
    samples = load_chestxray14_samples()
    assert [s.image_index for s in samples] == sorted(data._CXR_FILES)
    for s in samples:
        assert s.image.shape == (1024, 1024) and s.image.dtype == np.uint8
    by_name = {s.image_index: s for s in samples}
    assert by_name["00000003_000.png"].labels == ("Hernia",)
    assert by_name["00000013_004.png"].labels == ("Effusion", "Emphysema", "Infiltration", "Pneumothorax")
    assert by_name["00000013_019.png"].labels == ("No Finding",)


def test_embedded_labels_match_the_mirror_table():
    table = mirror_path() / "chestxray14-samples" / "labels.csv"
    with open(table, newline="") as handle:
        rows = {r["Image Index"]: r for r in csv.DictReader(handle)}
    assert set(rows) == set(data.CHESTXRAY14_SAMPLE_LABELS)
    for name, (finding, age, sex, view) in data.CHESTXRAY14_SAMPLE_LABELS.items():
        r = rows[name]
        assert (r["Finding Labels"], int(r["Patient Age"]), r["Patient Gender"], r["View Position"]) == (
            finding,
            age,
            sex,
            view,
        )


def test_registry_entries_are_https_with_checksums():
    assert len(data.REGISTRY) == 1 + 4 + 7
    for key, entry in data.REGISTRY.items():
        assert entry.name == key
        assert entry.url.startswith("https://")
        algorithm, _, digest = entry.known_hash.partition(":")
        assert algorithm in ("md5", "sha256") and len(digest) == {"md5": 32, "sha256": 64}[algorithm]


def test_import_has_no_side_effects():
    """Importing the package downloads nothing and sets no warning filters."""
    import subprocess
    import sys

    code = (
        "import warnings, sys, numpy, matplotlib; before = list(warnings.filters); "  # numpy sets its own filters
        "import heicadlearn, heicadlearn.data, heicadlearn.demo, heicadlearn.plotting, heicadlearn.tf; "
        "assert warnings.filters == before, 'warning filters changed'; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
        "assert 'requests' not in sys.modules and 'pooch' not in sys.modules, 'downloader imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------- downloads, local server


def test_download_verifies_caches_and_is_reused(http_server, clean_data_env):
    payload = b"real bytes " * 1000
    http_server.routes["/file.bin"] = (payload, "ok")
    entry = RemoteFile("demo/file.bin", http_server.url + "/file.bin", sha256(payload))
    path = fetch(entry)
    assert path == clean_data_env / "demo" / "file.bin"
    assert path.read_bytes() == payload
    fetch(entry)
    assert http_server.requests == ["/file.bin"], "the second call must use the cache"


def test_offline_without_mirror_says_what_to_do(clean_data_env):
    entry = dataclasses.replace(data.REGISTRY["pneumoniamnist.npz"], url="http://127.0.0.1:9/pneumoniamnist.npz")
    with pytest.raises(DataUnavailableError) as info:
        fetch(entry)
    message = str(info.value)
    assert "HEICADLEARN_DATA" in message
    assert "http://127.0.0.1:9/pneumoniamnist.npz" in message
    assert "<folder>/pneumoniamnist.npz" in message
    assert not any(clean_data_env.rglob("*.npz"))


def test_checksum_mismatch_leaves_nothing(http_server, clean_data_env):
    http_server.routes["/x.npz"] = (b"an error page, not the data", "ok")
    entry = RemoteFile("x.npz", http_server.url + "/x.npz", sha256(b"the real data"))
    with pytest.raises(ChecksumError, match="does not match its checksum"):
        fetch(entry)
    leftovers = [p for p in clean_data_env.rglob("*") if p.is_file()]
    assert leftovers == []


def test_interrupted_download_leaves_no_partial_file_and_retries(http_server, clean_data_env):
    payload = os.urandom(200_000)
    http_server.routes["/big.bin"] = (payload, "cut")
    entry = RemoteFile("big.bin", http_server.url + "/big.bin", sha256(payload))
    with pytest.raises(DataUnavailableError):
        fetch(entry)
    assert [p for p in clean_data_env.rglob("*") if p.is_file()] == []
    http_server.routes["/big.bin"] = (payload, "ok")
    assert fetch(entry).read_bytes() == payload
    assert http_server.requests == ["/big.bin", "/big.bin"]


def test_loader_downloads_through_the_registry(http_server, clean_data_env, monkeypatch):
    """load_pneumoniamnist() end to end over HTTP: the registry entry points at the local server."""
    payload = (mirror_path() / "pneumoniamnist.npz").read_bytes()
    http_server.routes["/pneumoniamnist.npz"] = (payload, "ok")
    entry = dataclasses.replace(
        data.REGISTRY["pneumoniamnist.npz"], url=http_server.url + "/pneumoniamnist.npz", known_hash=sha256(payload)
    )
    monkeypatch.setitem(data.REGISTRY, "pneumoniamnist.npz", entry)
    d = load_pneumoniamnist()
    assert len(d.y_test) == 624
    assert (clean_data_env / "pneumoniamnist.npz").is_file()


def test_corrupt_file_in_cache_is_replaced(http_server, clean_data_env):
    payload = b"good" * 5000
    http_server.routes["/c.bin"] = (payload, "ok")
    entry = RemoteFile("c.bin", http_server.url + "/c.bin", sha256(payload))
    clean_data_env.mkdir(parents=True)
    (clean_data_env / "c.bin").write_bytes(payload[:100])  # truncated earlier download
    assert fetch(entry).read_bytes() == payload


def test_corrupt_file_in_cache_offline_names_the_file(clean_data_env):
    entry = RemoteFile("c.npz", "http://127.0.0.1:9/c.npz", sha256(b"whole file"))
    clean_data_env.mkdir(parents=True)
    (clean_data_env / "c.npz").write_bytes(b"whole")
    with pytest.raises(DataUnavailableError) as info:
        fetch(entry)
    assert str(clean_data_env / "c.npz") in str(info.value) and "corrupt" in str(info.value)
    assert not (clean_data_env / "c.npz").exists()


def test_truncated_npz_in_mirror_names_the_file(tmp_path, monkeypatch):
    payload = (mirror_path() / "pneumoniamnist.npz").read_bytes()
    (tmp_path / "pneumoniamnist.npz").write_bytes(payload[: len(payload) // 3])
    monkeypatch.setenv("HEICADLEARN_DATA", str(tmp_path))
    with pytest.raises(ChecksumError) as info:
        load_pneumoniamnist()
    assert str(tmp_path / "pneumoniamnist.npz") in str(info.value)


def test_unreadable_npz_names_the_file(tmp_path, monkeypatch, http_server, clean_data_env):
    """A file that passes its checksum but is no npz (e.g. a wrong registry entry) still fails clearly."""
    payload = b"not a zip archive"
    http_server.routes["/p.npz"] = (payload, "ok")
    entry = RemoteFile("pneumoniamnist.npz", http_server.url + "/p.npz", sha256(payload))
    monkeypatch.setitem(data.REGISTRY, "pneumoniamnist.npz", entry)
    with pytest.raises(CorruptFileError, match="cannot be read as PneumoniaMNIST") as info:
        load_pneumoniamnist()
    assert "pneumoniamnist.npz" in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "not_gzip"])
def test_damaged_gz_in_mirror_names_the_file(tmp_path, monkeypatch, damage):
    source = mirror_path() / "fashion-mnist"
    mirror = tmp_path / "fashion-mnist"
    mirror.mkdir()
    for name in data._FASHION_FILES:
        shutil.copy(source / name, mirror / name)
    victim = mirror / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(victim.read_bytes())
    if damage == "truncated":
        victim.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    else:
        victim.write_bytes(b"<html>not found</html>")
    monkeypatch.setenv("HEICADLEARN_DATA", str(tmp_path))
    with pytest.raises(CorruptFileError) as info:
        load_fashion_mnist()
    assert str(victim) in str(info.value)


def test_mirror_variable_must_be_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HEICADLEARN_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataUnavailableError, match="not a folder"):
        load_pneumoniamnist()


def test_idx_reader_rejects_wrong_magic(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as handle:
        handle.write((1234).to_bytes(4, "big") + bytes(8))
    with pytest.raises(CorruptFileError, match="magic number 2049"):
        data._read_idx(path, 2049, "https://example.org/x.gz")


def test_data_home_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HEICADLEARN_CACHE", str(tmp_path / "c"))
    assert data.get_data_home() == tmp_path / "c"
    monkeypatch.delenv("HEICADLEARN_CACHE")
    assert data.get_data_home() == Path.home() / ".cache" / "heicadlearn"


def test_image_that_is_not_png_names_the_file(tmp_path, monkeypatch):
    """A mirror image with the right name but wrong content fails its SHA-256, naming the file."""
    src = mirror_path() / "chestxray14-samples"
    dst = tmp_path / "chestxray14-samples"
    shutil.copytree(src, dst)
    bad = dst / "00000013_021.png"
    bad.write_bytes(io.BytesIO(b"not an image").getvalue())
    monkeypatch.setenv("HEICADLEARN_DATA", str(tmp_path))
    with pytest.raises(ChecksumError) as info:
        load_chestxray14_samples()
    assert str(bad) in str(info.value)
