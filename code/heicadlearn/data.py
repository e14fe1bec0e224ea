"""Data access for the course: one registry, one cache, one local mirror.

Introduced in the chapter *Working on JupyterHub and Colab* (``book/jupyterhub_colab.md``);
how it finds files is told on the page *Data used in this course* (``book/data.md``).

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

The BBBC039 nuclei images (:func:`load_bbbc039`) are 60 single files, each fetched and
verified on its own, so an interrupted download resumes with the files still missing.
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
    "BBBC039",
    "BBBC039_FIELDS",
    "BBBC039_SHAPE",
    "ChecksumError",
    "CorruptFileError",
    "DataError",
    "DataUnavailableError",
    "PneumoniaMNIST",
    "RemoteFile",
    "XraySample",
    "bbbc039_split",
    "decode_bbbc039_mask",
    "FASHION_MNIST_CLASSES",
    "fetch",
    "get_data_home",
    "get_mirror",
    "load_bbbc039",
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

# BBBC039v1 (Caicedo et al. 2019; Broad Bioimage Benchmark Collection, Ljosa et al. 2012):
# 30 of its 200 fields of view, byte-for-byte copies of the upstream files, fetched one by
# one from a public GitHub copy of the dataset at a fixed commit.
_BBBC039_BASE = (
    "https://raw.githubusercontent.com/DeepTrackAI/cell_counting_dataset/"
    "d460149beb419c92785edcdef0628c5bf66f3325/cell%20nuclei/"
)
#: The 30 BBBC039 fields of view of the course, sorted by name:
#: (upstream file name without extension, SHA-256 of the image .tif, SHA-256 of the mask .png).
#: They are 30 evenly spaced fields of the 197 non-empty ones (``np.linspace(0, 196, 30)``
#: over the sorted names); the split into training, validation and test images is
#: :func:`bbbc039_split`.
BBBC039_FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB",
        "9eacee0e5a4c29af70307af4d310320632e31ed84b4d8b5fd4fce42930f780ec",
        "c56c246edcd456f81fb0d61d318c2b7a378afba207bd0b409834db16d30cfb72",
    ),
    (
        "IXMtest_A18_s1_w1BFDF1C94-9C1F-4F5F-BBC1-05196333B1BF",
        "c118bfba48188ad76d17c36135384f7658bf98c4399d97a037b3cd0623ce78ff",
        "ee46e8c7a734d1656493d6ad6f1e73a6b9c2cb037b333cd6d031a1086f1d4870",
    ),
    (
        "IXMtest_B04_s4_w1F6AEFA0F-AF87-4B3B-A334-698647CFE043",
        "050eb9075826c493e83496821a9d6fdcb552661fb97ca1881342c635fcbf370e",
        "224af73534b6512a6ac3bfe9db31161b7842c394ef7a255dc22aba5c2649a1f3",
    ),
    (
        "IXMtest_B20_s2_w159B9FE71-035A-4DED-B0CA-C76916C968BC",
        "cf3e628f13040792d3ac0c6b07103ac9a8084afc2b01063e93867b553cb97d4b",
        "9c8d231ef156aded26d0c3c426fd3b421c4d6ce99b9862424c2a3a8002437c5b",
    ),
    (
        "IXMtest_B24_s9_w18C4FE0DD-12CA-4711-9722-3E3105D1E691",
        "09576736335f5dff3de7be6de40162ce36d63d30a88c3bc0d312304e4b2a20b6",
        "e67d26f8fe6fbd360a03d39dc74ebb49fb922cd32ef2cc0dd5898ac4bcfcc345",
    ),
    (
        "IXMtest_C19_s4_w1AD3DC23E-B9B5-46E9-9716-26096C672A13",
        "04b171051f9062520d57d042be72499be9d28aed486a95b664e0f35e089247ed",
        "05cf48c1d9ff77fa4b164e63bff4536d9c35ff259fdbc1d829818fa1a0940400",
    ),
    (
        "IXMtest_D06_s5_w13C67AAA9-6E81-42DB-AC5F-7126602F3607",
        "a770c48972924d9040d10a383c91e8e6108596fd731948681bf8b0561d7fc9e7",
        "7b58b80deb223736cc815a994dfa3621dfb251a9debe8804b512e4218cc9da66",
    ),
    (
        "IXMtest_D20_s3_w19D371AF3-0189-48A3-AF3B-D108DE6A017F",
        "9a5a09ec913e10abeecf8cdfa3f467c6f414505553375d0db887bb5fea80fc72",
        "95e93c97dea04349d139826dab776581d6c4aa22104fd2989d113a8f2a6fc3fd",
    ),
    (
        "IXMtest_E12_s9_w1A811DEC0-ADD9-411A-B5D5-A654C70F253D",
        "d2b35ecc6958aab89b08db6816890176b06a4357a191798137f7585374cb06de",
        "2e9513ecd2ae40905442ce128d5fceafce933a33f29b8ec3fe74c6748e6c041f",
    ),
    (
        "IXMtest_F04_s5_w1D94DA1A2-873C-44B3-80EB-36DC2A97E9A3",
        "1c87ab7ba25d93df33136d7bba9a49d316f6920f8ca96ed4429c66f8a8c1b8b4",
        "303bd79a9851e150e679762ec202e6c95a76c57e4b4db50bf25834a88def921f",
    ),
    (
        "IXMtest_F14_s7_w1E67F2A8A-EEC1-4F01-A1E2-0ECFC639637F",
        "7f03b873fe9039afec4f4ce2cbff9cbcd2bc7855d9bf8ea0149ef59153c023c0",
        "b25e8e8bf4c1c2ce6c9f3db3bb026107d629e3872ec12d262ef76b0d2d19e881",
    ),
    (
        "IXMtest_G06_s3_w19ABE30DE-4BFC-4CD5-AD16-6C8BD6E69F9D",
        "079b69b374ece48120645e4c3b88a532a4be2c8bed16258f8621ecc3ac60bae5",
        "15a663aa3a5615c7363f08c1f1697ca24e55be60008875d41e4f4ac60c101508",
    ),
    (
        "IXMtest_G16_s6_w1C3F175E2-0AF5-401C-AC5C-8E128A237B22",
        "bf4d24c9061b14f289aa09d30f262161dd506db80a2822eb2a7d816d79f14005",
        "2cc2c998af7e0d220f780ea41587a70ff37988eb7bfed02e6c10e9087cb9f89e",
    ),
    (
        "IXMtest_H01_s9_w1237AA324-894F-4C97-99F3-FEF47F52A550",
        "69ca4ae509e51c290bc6e164db805297916978032a9a502d9c0456b10b3836cf",
        "e6a9c534173e03602c71f3068f981e0c19245f56db5e8b9c2d992ecef31c96fc",
    ),
    (
        "IXMtest_H16_s4_w16207B133-B3F5-4C39-87A6-D71359B27581",
        "a5d0ae2b4561e6c6a8e243212d775511b06f2752a76becd7ee3502c8e0b8cd87",
        "84cf9172551bac455fb53a6008528c79a1f338573fc2311c18a7b69e47147ee9",
    ),
    (
        "IXMtest_I04_s9_w16A5CC270-8B92-42EE-AA4A-855776F7D46B",
        "1c3c92a12924dba60e947692d3eddc236148ba2f6610c4f09d9a7f3799e2fe7b",
        "ce30780a7d26eb36284b5f33644bd37e02172d5e40d33d8cf7777858f90a4872",
    ),
    (
        "IXMtest_I16_s9_w1582FD22A-5270-4FDC-868F-5F75808E2321",
        "63eb63b8baa8830ad778165746606ca71f8a43d27da42520cb586705b3b12e66",
        "1a595a807b1ab4c8f9359fa793c30dd2823b5d20b11a9d7cbf42470a5a848368",
    ),
    (
        "IXMtest_J03_s4_w1472990BF-A442-497B-8A43-8EE065002EEB",
        "f4fd461f351f556d174fe9c72bfa7cb8b4b2d74c0b0c7bedb7eecb01cbcfc84b",
        "b20d164a1084e5558ee3d1428761bc3d43fbfed7b08765b7f03feffd85aa9373",
    ),
    (
        "IXMtest_J20_s1_w1EEE65E52-7AD8-47C7-A286-6E84C5D77953",
        "9ea71ec947d38b393adb87ce22dba89b45783cfa8d80bcf21b2329cf6bbc106f",
        "f6cdfeb820c9483533f5dacb52765db9281021a0c06095d3d9d24858abd8a324",
    ),
    (
        "IXMtest_K05_s7_w1816D5E2A-B9D8-48DA-9FE6-CBC35FE38C8D",
        "50f5fd45edf3d9287743299dfc7c4fe6770580a4015ba3c85283311048c4de0c",
        "efa69f61ff70da45d843ce4b300fa3bd5adec9e4dd43e3a0460b8170d233169d",
    ),
    (
        "IXMtest_K17_s5_w1BB3AD9D7-3A85-458C-AB1C-07A816C2C203",
        "42ed7955651a252795b5d0bc78a69ef6c2949383966a8d30fbfbf43f1de10fb8",
        "908f866c814f275a7397a6136cd4f4c85031ff9bc07b0871fce5f9fe29d51d43",
    ),
    (
        "IXMtest_L06_s5_w1610AE208-D6E8-4DC4-AC19-D26284AA8556",
        "6b17fb5e036d1f622578bdd87fad26a64f14634399e7919fbddd868b152eaf49",
        "d4958ddafd5702b9bb0ae9eb2482ca5fa43ddf7adf3be883938da4f1d9c31b58",
    ),
    (
        "IXMtest_M12_s5_w16D817EFA-C3C9-45DB-AC15-61BB143DEC62",
        "08fcf84fdc946526b2d1e2072126b7f89cc1ebd0f70b9f965c54e4c26527a587",
        "b4035c5b3eb0347bba472d0d27716f086f767c16a1e3c1c7fb58d2bdb20d4c1f",
    ),
    (
        "IXMtest_N07_s5_w1D30ED7AB-503E-479D-B5BC-B66472568DE2",
        "72aa16357727f76578b5c44a5167caf5284045c3e2fd4d75648363240153d160",
        "07e31f425d3fe20bd5ae7f9add0dd5b336035751c85751d5e09d8d654da9af41",
    ),
    (
        "IXMtest_N18_s2_w1CC5ED51D-86C5-437D-8EDD-E56E4C949B3B",
        "a9cd80fd5f704b7bda8ccf1986314eab42bf0c9b23a0c5efcecb7a1297b4073a",
        "eb55cb0d261324e684b1c9dae74016e8e0badb06d2ff855a8975684e5b65642a",
    ),
    (
        "IXMtest_O04_s2_w19A18B0D8-8E8B-4572-A5C0-5C678F3AD54C",
        "aefa533820425d9a1f9e5b94261b8f9c5959e3276aa8cd793ea01e8ae3139db0",
        "19950b19caa8bc013997ad8ef37dd51ee797858e8b3ba743a956b817afc06e61",
    ),
    (
        "IXMtest_O16_s2_w1F6F6A3A1-99E4-4029-B734-022806CF6D42",
        "321ed5a5e44cd614849f0c1d3e2fd517008cb457e629db5e97eaf90dafb78b40",
        "857d21e13cda75adeb767125813cc6c811d3b47af61715a64e42455b75d6181f",
    ),
    (
        "IXMtest_P05_s5_w18FC141F8-8BCA-4851-9000-31D080922BDD",
        "3a7ca22b14f76d3db0cb7b32b9eaea188c1595f790d5bc8545e19d202db6c8d5",
        "40e9b8290d1b54c1f72a95a64b4c83f1807f701f8c024045b4707d46cc14585b",
    ),
    (
        "IXMtest_P15_s3_w10F5E9699-743C-4177-93CE-27CFD65A925E",
        "bce6322539875bad32697c6a69cad6728f410fbbe904378bf51ad4e289655f6c",
        "33223f5d92796499deb53047bca1270d51b8ac7657dbdb1ac7ea2997de2438f3",
    ),
    (
        "IXMtest_P24_s9_w13AC6C03C-E8D7-4A23-B649-514BB4052F52",
        "cc06216bade34d55db98dc5729ea3d5c503cd1bedff0ba1c34f177717377f375",
        "04cc16212fc90b595df5bea8db706980364a0ae1360b3120c0807e6b4efd3a8c",
    ),
)

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
    **{
        f"bbbc039/{folder}/{name}{ext}": RemoteFile(
            name=f"bbbc039/{folder}/{name}{ext}",
            url=f"{_BBBC039_BASE}{folder}/{name}{ext}",
            known_hash=f"sha256:{sha}",
            description=f"BBBC039v1 {kind} (Caicedo et al. 2019), CC0",
        )
        for name, image_sha, mask_sha in BBBC039_FIELDS
        for folder, ext, sha, kind in (("images", ".tif", image_sha, "image"), ("masks", ".png", mask_sha, "mask"))
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


# -------------------------------------------------------------------------------- BBBC039

BBBC039_SHAPE = (520, 696)


def bbbc039_split(index: int) -> str:
    """The split of the ``index``-th field of :data:`BBBC039_FIELDS` (in sorted order).

    In every group of six fields the fifth goes to validation and the sixth to test, the
    rest to training: 20 training, 5 validation and 5 test images, spread over the plate.
    This split is the course's, not the official BBBC039 one.
    """
    return {4: "val", 5: "test"}.get(index % 6, "train")


@dataclass(frozen=True)
class BBBC039:
    """The course's 30 BBBC039 fields of view with their hand-annotated nuclei.

    ``images``: (30, 520, 696) uint16, 12-bit values (0-4095) of the Hoechst (DNA) channel.
    ``labels``: (30, 520, 696) int32 instance label images: 0 background, 1, 2, ... one
    number per nucleus. ``names``: short names such as ``"A02_s1"`` (well and site).
    ``split``: ``"train"``, ``"val"`` or ``"test"`` for each field.
    """

    images: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    split: tuple[str, ...]

    def select(self, split: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """``(images, labels, names)`` of one split: ``"train"``, ``"val"`` or ``"test"``."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', not {split!r}")
        index = [i for i, s in enumerate(self.split) if s == split]
        return self.images[index], self.labels[index], tuple(self.names[i] for i in index)


def _short_name(name: str) -> str:
    # "IXMtest_A02_s1_w1051DAA7C-..." -> "A02_s1"
    return "_".join(name.split("_")[1:3])


def decode_bbbc039_mask(red: np.ndarray) -> np.ndarray:
    """Instance labels from a BBBC039 mask's red channel (0 background, 1-3 nucleus "colours").

    The values 1, 2 and 3 are not classes: nuclei that touch get different values. Each
    value's connected regions (4-connectivity) are the nuclei; they are numbered 1, 2, ...
    """
    from scipy import ndimage as ndi

    labels = np.zeros(red.shape, dtype=np.int32)
    count = 0
    for value in range(1, int(red.max(initial=0)) + 1):
        regions, n = ndi.label(red == value)
        labels[regions > 0] = regions[regions > 0] + count
        count += n
    return labels


def _read_bbbc039_pair(name: str, image_path: Path, mask_path: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    def fail(path, why):
        kind, folder = ("image", "images") if path == image_path else ("mask", "masks")
        url = REGISTRY[f"bbbc039/{folder}/{name}{path.suffix}"].url
        return CorruptFileError(
            f"{path} cannot be read as a BBBC039 {kind} ({why}). Delete it, or replace it with a fresh copy from {url}."
        )

    try:
        with Image.open(image_path) as img:
            mode = img.mode
            image = np.array(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise fail(image_path, f"{type(exc).__name__}: {exc}") from exc
    if mode != "I;16" or image.shape != BBBC039_SHAPE or image.max() > 4095:
        raise fail(
            image_path, f"expected a 16-bit grey {BBBC039_SHAPE} image with 12-bit values, got {mode} {image.shape}"
        )
    try:
        with Image.open(mask_path) as img:
            mode = img.mode
            mask = np.array(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise fail(mask_path, f"{type(exc).__name__}: {exc}") from exc
    if mode != "RGBA" or mask.shape[:2] != BBBC039_SHAPE:
        raise fail(mask_path, f"expected an RGBA {BBBC039_SHAPE} PNG, got {mode} {mask.shape}")
    return image.astype(np.uint16), decode_bbbc039_mask(mask[..., 0])


def load_bbbc039() -> BBBC039:
    """Load the course's 30 BBBC039v1 fields of view: images, nucleus label images, split.

    Each of the 60 files (30 images, 30 masks) is read from the mirror
    (``$HEICADLEARN_DATA/bbbc039/images/...`` and ``.../masks/...``), else the cache, else
    downloaded from a public copy at a fixed commit, and always checked against its
    SHA-256 in :data:`REGISTRY`. BBBC039 is CC0; cite Caicedo et al. 2019 and Ljosa et al.
    2012. Introduced in the chapter *Finding and counting cell nuclei with a U-Net*.
    """
    images, labels, names, split = [], [], [], []
    for index, (name, _, _) in enumerate(BBBC039_FIELDS):
        image_path = fetch(f"bbbc039/images/{name}.tif")
        mask_path = fetch(f"bbbc039/masks/{name}.png")
        image, label = _read_bbbc039_pair(name, image_path, mask_path)
        images.append(image)
        labels.append(label)
        names.append(_short_name(name))
        split.append(bbbc039_split(index))
    return BBBC039(images=np.stack(images), labels=np.stack(labels), names=tuple(names), split=tuple(split))
