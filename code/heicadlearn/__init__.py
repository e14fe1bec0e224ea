"""Helper package of the HeiCADLearn course book.

Importing this package does nothing but define names: no downloads, no global
warning filters, no TensorFlow import. Chapters import the submodules they need,
for example ``from heicadlearn.data import load_pneumoniamnist``.
"""

__version__ = "1.0.0"
__all__ = ["__version__"]
