"""Data access for the course: one registry, one cache, one local mirror.

Introduced in the chapter *Working on JupyterHub and Colab* (``book/jupyterhub_colab.md``).

Every dataset the course downloads is listed once in :data:`REGISTRY`, with its
official URL and checksum. A loader looks in three places, in this order:

1. the **local mirror**, a folder named by the environment variable
   ``HEICADLEARN_DATA`` (used on machines without internet, such as CI);
2. the **cache**, :func:`get_data_home` (``HEICADLEARN_CACHE`` or
   ``~/.cache/heicadlearn``), where earlier downloads were kept;
3. the **official source**, downloaded with :mod:`pooch`, which writes to a
   temporary file, verifies the checksum and only then moves the file into the
   cache, so an interrupted or wrong download never leaves a file behind.

Fashion-MNIST has one more place between 1 and 2: Debian's package
``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import logging
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "CACHE_ENV",
    "MIRROR_ENV",
    "REGISTRY",
    "ChecksumError",
    "CorruptFileError",
    "DataError",
    "DataUnavailableError",
    "PneumoniaMNIST",
    "RemoteFile",
    "XraySample",
    "FASHION_MNIST_CLASSES",
    "fetch",
    "get_data_home",
    "get_mirror",
    "load_chestxray14_samples",
    "load_fashion_mnist",
    "load_pneumoniamnist",
]

MIRROR_ENV = "HEICADLEARN_DATA"
CACHE_ENV = "HEICADLEARN_CACHE"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


class DataError(RuntimeError):
    """Base class of every data-access error of the course."""


class DataUnavailableError(DataError):
    """The data is neither in the mirror nor in the cache, and downloading failed."""


class ChecksumError(DataError):
    """A file's checksum does not match the registry."""


class CorruptFileError(DataError):
    """A file exists but cannot be read (truncated or damaged)."""


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: where it lives relative to the mirror/cache, and where online.

    ``known_hash`` is the official checksum (``"md5:..."`` or ``"sha256:..."``) that a
    download must match. ``mirror_hashes`` are further checksums accepted for a copy
    in the local mirror (for example a re-packed but equivalent file).
    """

    name: str
    url: str
    known_hash: str | None
    mirror_hashes: tuple[str, ...] = field(default=())
    description: str = ""


_FASHION_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Official MD5 checksums from the Fashion-MNIST README (Xiao et al. 2017); Keras
# serves the same files. Debian's package recompresses them, so a mirror copy is
# checked by parsing instead (see _read_idx).
_FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
}

# The NIH serves ChestX-ray14 only as multi-GB archives; these seven test-set
# images are taken from a public copy at a fixed commit and verified by SHA-256.
_CXR_BASE = (
    "https://raw.githubusercontent.com/taheeraahmed/master-thesis/"
    "f70fb96fa2b9a842e7ab3fb6a75ae2085620b099/04-gradio/example_images/"
)
_CXR_FILES = {
    "00000003_000.png": "6a8be07b5e70d1e0f43846d06a678ea55adc2d7ea9d26071690a88ebfb6fce26",
    "00000013_004.png": "6372c968eb7ce5d86d98c9fd2b5bb911bdf2742606e97a3202a90ab2185feed4",
    "00000013_018.png": "eb7e288bee3140c0b2928266fd78faa3012c11b53b9d3a5a383b143df944b117",
    "00000013_019.png": "5c887fb79f2b335a536ff213f620a7a940fd18be7f5ec570640aba330b0cef16",
    "00000013_021.png": "10239a603fe9c0c3faee025cf9c3083484bfabeeba2c1341d9fff887998414b2",
    "00000013_035.png": "673bf041b73f563b59f57e5bb6745f7f8bd1c20f2519d06d95539973a467d2a4",
    "00000032_015.png": "8bc8b745f6d16dc133575e993a87e5e38e0d0923c77119bd608f83c246911235",
}

#: Official ChestX-ray14 metadata (``Data_Entry_2017.csv``) of the seven sample images:
#: finding labels, patient age, sex and view position. Used when the mirror has no
#: ``labels.csv`` (the NIH offers the table only inside its full download).
CHESTXRAY14_SAMPLE_LABELS = {
    "00000003_000.png": ("Hernia", 81, "F", "PA"),
    "00000013_004.png": ("Effusion|Emphysema|Infiltration|Pneumothorax", 60, "M", "AP"),
    "00000013_018.png": ("Effusion|Infiltration|Pneumothorax", 60, "M", "AP"),
    "00000013_019.png": ("No Finding", 61, "M", "PA"),
    "00000013_021.png": ("Effusion", 61, "M", "PA"),
    "00000013_035.png": ("Atelectasis|Pneumothorax", 56, "M", "PA"),
    "00000032_015.png": ("Infiltration", 54, "F", "AP"),
}

#: Every file the course downloads, by its path inside the mirror or cache.
REGISTRY: dict[str, RemoteFile] = {
    "pneumoniamnist.npz": RemoteFile(
        name="pneumoniamnist.npz",
        url="https://zenodo.org/records/10519652/files/pneumoniamnist.npz?download=1",
        known_hash="md5:28209eda62fecd6e6a2d98b1501bb15f",
        # The course mirror holds the same images, labels and splits, re-packed.
        mirror_hashes=("sha256:8c555c787c4594882835129e3cee6a02cf9b8a6d8aed162b512521a5697177c8",),
        description="PneumoniaMNIST (MedMNIST v2), 28x28 paediatric chest X-rays",
    ),
    **{
        f"fashion-mnist/{name}": RemoteFile(
            name=f"fashion-mnist/{name}",
            url=_FASHION_BASE + name,
            known_hash=md5,
            description="Fashion-MNIST (Xiao et al. 2017)",
        )
        for name, md5 in _FASHION_FILES.items()
    },
    **{
        f"chestxray14-samples/{name}": RemoteFile(
            name=f"chestxray14-samples/{name}",
            url=_CXR_BASE + name,
            known_hash=f"sha256:{sha}",
            description="NIH ChestX-ray14 test-set image (Wang et al. 2017)",
        )
        for name, sha in _CXR_FILES.items()
    },
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def get_data_home() -> Path:
    """Folder where downloads are cached: ``$HEICADLEARN_CACHE`` or ``~/.cache/heicadlearn``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "heicadlearn"


def get_mirror() -> Path | None:
    """The local mirror folder named by ``$HEICADLEARN_DATA``, or ``None`` if unset."""
    env = os.environ.get(MIRROR_ENV)
    if not env:
        return None
    path = Path(env).expanduser()
    if not path.is_dir():
        raise DataUnavailableError(
            f"{MIRROR_ENV} is set to {env!r}, which is not a folder. Point it at the "
            "folder that holds the course data (see data/README.md), or unset it to download."
        )
    return path


def _file_hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _matches(path: Path, known_hash: str) -> bool:
    algorithm, _, expected = known_hash.partition(":")
    return _file_hash(path, algorithm) == expected.lower()


def _where_to_put(entry: RemoteFile) -> str:
    return (
        f"To work offline, download {entry.url} on a machine with internet and save it as "
        f"<folder>/{entry.name}, then set {MIRROR_ENV}=<folder> (see data/README.md)."
    )


@contextlib.contextmanager
def _quiet_pooch():
    """Silence pooch's INFO messages, which print absolute cache paths, for one call."""
    logger = logging.getLogger("pooch")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def fetch(entry: RemoteFile | str) -> Path:
    """Return a local path to a registered file: from the mirror, the cache, or a download.

    ``entry`` is a :class:`RemoteFile` or a key of :data:`REGISTRY`.
    Raises :class:`ChecksumError` for a wrong file, :class:`DataUnavailableError` when
    the file is nowhere locally and cannot be downloaded.
    """
    if isinstance(entry, str):
        entry = REGISTRY[entry]
    mirror = get_mirror()
    if mirror is not None and (mirror / entry.name).is_file():
        path = mirror / entry.name
        accepted = tuple(h for h in (entry.known_hash, *entry.mirror_hashes) if h)
        if accepted and not any(_matches(path, h) for h in accepted):
            raise ChecksumError(
                f"The mirror file {path} does not match its checksum ({' or '.join(accepted)}): "
                f"it is corrupt or a different version. Replace it with a fresh copy from "
                f"{entry.url}, or remove it to download into the cache."
            )
        return path
    return _download(entry)


def _download(entry: RemoteFile) -> Path:
    import pooch
    import requests

    target = get_data_home() / entry.name
    corrupt_note = ""
    if target.is_file() and entry.known_hash and not _matches(target, entry.known_hash):
        # A damaged cached copy: remove it so that it is downloaded again.
        target.unlink()
        corrupt_note = f" The cached copy {target} was corrupt and has been removed."
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet_pooch():
            path = pooch.retrieve(
                url=entry.url,
                known_hash=entry.known_hash,
                fname=target.name,
                path=target.parent,
                progressbar=False,
            )
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise ChecksumError(
            f"The download of {entry.url} does not match its checksum {entry.known_hash}; "
            f"nothing was saved. The server may have sent an error page or a changed file. "
            f"Try again later. {_where_to_put(entry)}"
        ) from exc
    except (requests.RequestException, OSError) as exc:
        mirror = os.environ.get(MIRROR_ENV)
        where = f"{MIRROR_ENV} is {mirror!r}" if mirror else f"{MIRROR_ENV} is not set"
        raise DataUnavailableError(
            f"Could not download {entry.name} from {entry.url} ({type(exc).__name__}), "
            f"and it is not in the local mirror ({where}) or the cache.{corrupt_note} "
            f"{_where_to_put(entry)}"
        ) from exc
    return Path(path)


# --------------------------------------------------------------------------- Fashion-MNIST


def _read_idx(path: Path, magic: int, url: str) -> np.ndarray:
    """Read a gzip-compressed IDX file (the MNIST format) into a uint8 array."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(
            f"{path} is not a readable gzip file ({exc}). It is truncated or damaged: "
            f"delete it, or replace it with a fresh copy from {url}."
        ) from exc
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise CorruptFileError(
            f"{path} is not an IDX file with magic number {magic}: delete it, or replace it "
            f"with a fresh copy from {url}."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise CorruptFileError(
            f"{path} holds {len(raw) - header} values but its header announces {shape}: "
            f"it is truncated. Delete it, or replace it with a fresh copy from {url}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _fashion_paths() -> dict[str, Path]:
    names = list(_FASHION_FILES)
    mirror = get_mirror()
    for folder in (mirror / "fashion-mnist" if mirror else None, DEBIAN_FASHION_MNIST):
        if folder is not None and all((folder / n).is_file() for n in names):
            return {n: folder / n for n in names}
    return {n: fetch(f"fashion-mnist/{n}") for n in names}


def load_fashion_mnist():
    """Load Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8 arrays.

    The same arrays as ``keras.datasets.fashion_mnist.load_data()``: 60,000 training and
    10,000 test images of 28x28 pixels, labels 0-9 (names in :data:`FASHION_MNIST_CLASSES`).
    Introduced in the chapter *Homework: classifying Fashion-MNIST*.
    """
    paths = _fashion_paths()

    def read(name, magic):
        return _read_idx(paths[name], magic, _FASHION_BASE + name)

    x_train = read("train-images-idx3-ubyte.gz", 2051)
    y_train = read("train-labels-idx1-ubyte.gz", 2049)
    x_test = read("t10k-images-idx3-ubyte.gz", 2051)
    y_test = read("t10k-labels-idx1-ubyte.gz", 2049)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise CorruptFileError(
            f"Fashion-MNIST files in {paths['train-images-idx3-ubyte.gz'].parent} disagree in "
            "length (images versus labels): replace them with fresh copies."
        )
    return (x_train, y_train), (x_test, y_test)


# ------------------------------------------------------------------------- PneumoniaMNIST


@dataclass(frozen=True)
class PneumoniaMNIST:
    """The official PneumoniaMNIST splits: uint8 images (N, 28, 28), labels (N,) with
    0 = normal and 1 = pneumonia."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, str] = ("normal", "pneumonia")


def load_pneumoniamnist() -> PneumoniaMNIST:
    """Load PneumoniaMNIST (MedMNIST v2; Yang et al. 2023) with its official splits.

    Introduced in the chapter *How does a computer see a picture?*; trained on in the
    CheXNet chapter.
    """
    path = fetch("pneumoniamnist.npz")
    keys = [f"{split}_{kind}" for split in ("train", "val", "test") for kind in ("images", "labels")]
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in keys}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise CorruptFileError(
            f"{path} cannot be read as PneumoniaMNIST ({type(exc).__name__}: {exc}). "
            f"Delete it, or replace it with a fresh copy from {REGISTRY['pneumoniamnist.npz'].url}."
        ) from exc
    return PneumoniaMNIST(
        x_train=arrays["train_images"],
        y_train=arrays["train_labels"].reshape(-1),
        x_val=arrays["val_images"],
        y_val=arrays["val_labels"].reshape(-1),
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"].reshape(-1),
    )


# --------------------------------------------------------------------- ChestX-ray14 samples


@dataclass(frozen=True)
class XraySample:
    """One NIH ChestX-ray14 image with its official metadata."""

    image_index: str
    image: np.ndarray  # (1024, 1024) uint8
    labels: tuple[str, ...]
    patient_age: int
    patient_sex: str
    view_position: str


def _sample_labels() -> dict[str, tuple[str, int, str, str]]:
    mirror = get_mirror()
    table = mirror / "chestxray14-samples" / "labels.csv" if mirror else None
    if table is None or not table.is_file():
        return dict(CHESTXRAY14_SAMPLE_LABELS)
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return {
            row["Image Index"]: (
                row["Finding Labels"],
                int(row["Patient Age"]),
                row["Patient Gender"],
                row["View Position"],
            )
            for row in rows
        }
    except (KeyError, ValueError) as exc:
        raise CorruptFileError(f"{table} is not in the format of ChestX-ray14's Data_Entry_2017.csv ({exc}).") from exc


def load_chestxray14_samples() -> list[XraySample]:
    """Load the seven NIH ChestX-ray14 sample images with their official labels.

    Introduced in the chapter *Welcome and AI in practice*.
    """
    from PIL import Image, UnidentifiedImageError

    labels = _sample_labels()
    samples = []
    for name in _CXR_FILES:
        path = fetch(f"chestxray14-samples/{name}")
        try:
            with Image.open(path) as img:
                image = np.asarray(img.convert("L"))
        except (UnidentifiedImageError, OSError) as exc:
            raise CorruptFileError(f"{path} cannot be read as an image ({exc}).") from exc
        finding, age, sex, view = labels[name]
        samples.append(
            XraySample(
                image_index=name,
                image=image,
                labels=tuple(finding.split("|")),
                patient_age=age,
                patient_sex=sex,
                view_position=view,
            )
        )
    return samples
