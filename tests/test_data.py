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
    load_bbbc039,
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
    assert len(data.REGISTRY) == 1 + 4 + 7 + 60
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
        "import heicadlearn, heicadlearn.data, heicadlearn.demo, heicadlearn.plotting, heicadlearn.tf, "
        "heicadlearn.segmentation; "
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


# ------------------------------------------------------------------------------- BBBC039


def _bbbc039_table() -> dict[str, dict]:
    with open(mirror_path() / "bbbc039" / "split.csv", newline="") as handle:
        return {f"{r['well']}_{r['site']}": r for r in csv.DictReader(handle)}


def _read_raw_tiff(path: Path) -> np.ndarray:
    """An independent reader for uncompressed little-endian 16-bit grey TIFFs (no Pillow)."""
    import struct

    raw = path.read_bytes()
    assert raw[:4] == b"II*\x00", "little-endian TIFF"
    (ifd,) = struct.unpack_from("<I", raw, 4)
    (count,) = struct.unpack_from("<H", raw, ifd)
    tags = {}
    for k in range(count):
        tag, kind, n, value = struct.unpack_from("<HHII", raw, ifd + 2 + 12 * k)
        if n == 1:
            tags[tag] = [value & 0xFFFF] if kind == 3 else [value]
        else:
            fmt = "<" + ("H" if kind == 3 else "I") * n
            tags[tag] = list(struct.unpack_from(fmt, raw, value))
    width, height = tags[256][0], tags[257][0]
    assert tags[258] == [16] and tags[259] == [1], "16 bits per pixel, no compression"
    pixels = b"".join(raw[o : o + c] for o, c in zip(tags[273], tags[279], strict=True))
    return np.frombuffer(pixels, dtype="<u2").reshape(height, width)


def test_bbbc039_from_the_mirror_matches_its_description():
    d = load_bbbc039()
    assert d.images.shape == (30, 520, 696) and d.images.dtype == np.uint16
    assert d.labels.shape == (30, 520, 696) and d.labels.dtype == np.int32
    assert int(d.images.max()) == 4095 and sum(int(im.max()) == 4095 for im in d.images) == 5
    table = _bbbc039_table()
    assert list(d.names) == sorted(table) and len(set(d.names)) == 30
    assert list(d.split) == [table[n]["split"] for n in d.names]
    assert [d.split.count(s) for s in ("train", "val", "test")] == [20, 5, 5]
    counts = [int(label.max()) for label in d.labels]
    assert counts == [int(table[n]["n_objects"]) for n in d.names]
    assert counts[d.names.index("A02_s1")] == 110
    assert sum(counts) == 3878 and min(counts) == 43 and max(counts) == 198
    for label in d.labels:  # labels are 1..n without gaps
        assert set(np.unique(label)) == set(range(int(label.max()) + 1))
    sizes = np.concatenate([np.bincount(label.ravel())[1:] for label in d.labels])
    assert (sizes < 30).sum() == 202 and np.median(sizes) == 624
    fractions = [float((label > 0).mean()) for label in d.labels]
    assert np.allclose(fractions, [float(table[n]["foreground_fraction"]) for n in d.names], atol=5e-5)
    images, labels, names = d.select("test")
    assert images.shape == (5, 520, 696) and labels.shape == (5, 520, 696)
    assert names == ("C19_s4", "G06_s3", "J03_s4", "N07_s5", "P24_s9")
    with pytest.raises(ValueError, match="split must be"):
        d.select("testing")


def test_bbbc039_pillow_reads_the_true_pixel_values():
    d = load_bbbc039()
    for index in (0, 5, 29):
        name = data.BBBC039_FIELDS[index][0]
        raw = _read_raw_tiff(mirror_path() / "bbbc039" / "images" / f"{name}.tif")
        np.testing.assert_array_equal(d.images[index], raw)
    table = _bbbc039_table()
    for index, name in enumerate(d.names):
        assert int(d.images[index].min()) == int(table[name]["image_min"])
        assert int(d.images[index].max()) == int(table[name]["image_max"])


def test_bbbc039_registry_has_every_file_with_the_mirror_checksum():
    sums = dict(reversed(line.split()) for line in (mirror_path() / "bbbc039" / "SHA256SUMS").read_text().splitlines())
    keys = [k for k in data.REGISTRY if k.startswith("bbbc039/")]
    assert len(keys) == 60
    for key in keys:
        entry = data.REGISTRY[key]
        assert entry.known_hash == "sha256:" + sums[key.removeprefix("bbbc039/")]
        assert entry.url.startswith(
            "https://raw.githubusercontent.com/DeepTrackAI/cell_counting_dataset/"
            "d460149beb419c92785edcdef0628c5bf66f3325/cell%20nuclei/"
        )
    assert [data.bbbc039_split(i) for i in range(12)] == (["train"] * 4 + ["val", "test"]) * 2


def test_bbbc039_mask_decoding_separates_touching_nuclei():
    red = np.zeros((6, 9), dtype=np.uint8)
    red[1:3, 1:3] = 1  # an isolated nucleus
    red[1:5, 4:6] = 2  # two nuclei that touch get different values
    red[1:5, 6:8] = 3
    red[4, 1] = 1  # two one-pixel specks that touch only at a corner:
    red[5, 0] = 1  # 4-connectivity keeps them apart
    labels = data.decode_bbbc039_mask(red)
    assert labels.max() == 5
    assert len(np.unique(labels[1:5, 4:6])) == 1 and len(np.unique(labels[1:5, 6:8])) == 1
    assert labels[1, 4] != labels[1, 6]
    assert labels[5, 0] not in (0, labels[4, 1]) and labels[4, 1] != labels[2, 1]


def _serve_bbbc039(http_server, monkeypatch, mode_for=None):
    """Point every BBBC039 registry entry at the local server, which serves the mirror's bytes."""
    for key in [k for k in data.REGISTRY if k.startswith("bbbc039/")]:
        route = "/" + key
        http_server.routes[route] = ((mirror_path() / key).read_bytes(), (mode_for or {}).get(key, "ok"))
        monkeypatch.setitem(data.REGISTRY, key, dataclasses.replace(data.REGISTRY[key], url=http_server.url + route))


def test_bbbc039_downloads_into_the_cache_and_reuses_it(http_server, clean_data_env, monkeypatch):
    _serve_bbbc039(http_server, monkeypatch)
    d = load_bbbc039()
    assert int(d.labels[0].max()) == 110
    assert len(http_server.requests) == 60
    assert len(list((clean_data_env / "bbbc039").rglob("*.tif"))) == 30
    assert len(list((clean_data_env / "bbbc039").rglob("*.png"))) == 30
    load_bbbc039()
    assert len(http_server.requests) == 60, "the second call must read the cache"


def test_bbbc039_offline_without_mirror_says_what_to_do(clean_data_env, monkeypatch):
    first = f"bbbc039/images/{data.BBBC039_FIELDS[0][0]}.tif"
    for key in [k for k in data.REGISTRY if k.startswith("bbbc039/")]:
        monkeypatch.setitem(
            data.REGISTRY, key, dataclasses.replace(data.REGISTRY[key], url=f"http://127.0.0.1:9/{key}")
        )
    with pytest.raises(DataUnavailableError) as info:
        load_bbbc039()
    message = str(info.value)
    assert "HEICADLEARN_DATA" in message and f"http://127.0.0.1:9/{first}" in message
    assert f"<folder>/{first}" in message
    assert not [p for p in clean_data_env.rglob("*") if p.is_file()]


def test_bbbc039_wrong_download_is_rejected_and_nothing_kept(http_server, clean_data_env, monkeypatch):
    _serve_bbbc039(http_server, monkeypatch)
    victim = f"bbbc039/masks/{data.BBBC039_FIELDS[3][0]}.png"
    http_server.routes["/" + victim] = (b"<html>rate limit exceeded</html>", "ok")
    with pytest.raises(ChecksumError, match="does not match its checksum") as info:
        load_bbbc039()
    assert victim.rsplit("/", 1)[1] in str(info.value)
    assert not (clean_data_env / victim).exists()
    assert not [p for p in (clean_data_env / "bbbc039").rglob("*") if p.is_file() and p.suffix not in (".tif", ".png")]


def test_bbbc039_interrupted_download_leaves_no_partial_file_and_resumes(http_server, clean_data_env, monkeypatch):
    victim = f"bbbc039/images/{data.BBBC039_FIELDS[10][0]}.tif"
    _serve_bbbc039(http_server, monkeypatch, mode_for={victim: "cut"})
    with pytest.raises(DataUnavailableError, match="Could not download"):
        load_bbbc039()
    assert not (clean_data_env / victim).exists()
    assert not [p for p in (clean_data_env / "bbbc039").rglob("*") if p.is_file() and p.suffix not in (".tif", ".png")]
    done_before = len(http_server.requests)
    assert done_before == 2 * 10 + 1, "the files before the cut one were fetched, the cut one once"
    http_server.routes["/" + victim] = (http_server.routes["/" + victim][0], "ok")
    assert int(load_bbbc039().labels[10].max()) > 0
    assert len(http_server.requests) - done_before == 60 - 2 * 10, "only the missing files are fetched again"


@pytest.mark.parametrize("damage", ["truncated", "not_tiff"])
def test_bbbc039_damaged_mirror_file_names_the_file(tmp_path, monkeypatch, damage):
    shutil.copytree(mirror_path() / "bbbc039", tmp_path / "bbbc039")
    victim = tmp_path / "bbbc039" / "images" / f"{data.BBBC039_FIELDS[7][0]}.tif"
    victim.chmod(0o644)
    raw = victim.read_bytes()
    victim.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else b"<html>not found</html>")
    monkeypatch.setenv("HEICADLEARN_DATA", str(tmp_path))
    with pytest.raises(ChecksumError) as info:
        load_bbbc039()
    assert str(victim) in str(info.value) and "remove it to download" in str(info.value)


def test_bbbc039_file_that_is_no_image_names_the_file(http_server, clean_data_env, monkeypatch):
    """A file that passes its checksum but is no TIFF (e.g. a wrong registry entry) fails clearly."""
    _serve_bbbc039(http_server, monkeypatch)
    key = f"bbbc039/images/{data.BBBC039_FIELDS[2][0]}.tif"
    payload = b"not a tiff at all"
    http_server.routes["/" + key] = (payload, "ok")
    monkeypatch.setitem(data.REGISTRY, key, dataclasses.replace(data.REGISTRY[key], known_hash=sha256(payload)))
    with pytest.raises(CorruptFileError, match="cannot be read as a BBBC039 image") as info:
        load_bbbc039()
    assert str(clean_data_env / key) in str(info.value) and "fresh copy" in str(info.value)


def test_bbbc039_mask_of_the_wrong_size_names_the_file(http_server, clean_data_env, monkeypatch):
    from PIL import Image

    _serve_bbbc039(http_server, monkeypatch)
    key = f"bbbc039/masks/{data.BBBC039_FIELDS[0][0]}.png"
    buffer = io.BytesIO()
    Image.new("RGBA", (100, 80)).save(buffer, format="PNG")
    payload = buffer.getvalue()
    http_server.routes["/" + key] = (payload, "ok")
    monkeypatch.setitem(data.REGISTRY, key, dataclasses.replace(data.REGISTRY[key], known_hash=sha256(payload)))
    with pytest.raises(CorruptFileError, match=r"expected an RGBA \(520, 696\) PNG") as info:
        load_bbbc039()
    assert str(clean_data_env / key) in str(info.value)
