"""Light pages (issue #14): what a reader's browser has to fetch, and nothing more.

* **Figures**: the PNGs that executed code cells draw are re-encoded as WebP before
  Sphinx copies them (lossless for plots; lossy, quality :data:`LOSSY_QUALITY`, for
  photograph-like images where that is under :data:`LOSSY_IF_BELOW` of the lossless size).
  They stay ordinary ``<img>`` elements, so readers without JavaScript see every figure;
  ``loading="lazy"`` lets the browser fetch those far below the screen when they come near
  (browsers without JavaScript fetch them all at once).
* **Widget demos**: :mod:`heicadlearn.demo` embeds every precomputed frame as a PNG
  ``data:`` URL. Here each frame becomes an image file (encoded like a figure) that the page only
  fetches when a reader first picks that setting; the default setting's frame is an
  ``<img>`` in the page, so it shows without JavaScript.
* **Icons**: the theme's 1.5 MB FontAwesome script is not loaded (template override
  ``_templates/static/webpack-macros.html``); the theme's own CSS draws the icons with
  FontAwesome's webfonts, and :func:`write_icon_fonts` replaces those fonts by subsets
  holding only the icons the templates use (:data:`ICONS`) and those the theme's CSS draws.
* **Scripts**: every script file the extensions add is deferred (runs after the page
  is parsed, in the same order), so that none holds up the first paint; the template override
  ``_templates/layout.html`` does the same for the theme's search scripts. Only
  ``documentation_options.js`` stays as it was: the theme's inline scripts use it at once;
  and the search page keeps its scripts as the theme orders them.
  The thebe style sheet goes too (thebe is not used; its script is already dropped).
* **Formulas** are typeset while the book is built (:mod:`.mathsvg`): no page loads MathJax.
* **MathJax for the slide decks** (reveal.js's math plugin): ``_static/mathjax/tex-chtml.js`` is
  MathJax's own ``tex-chtml`` component without the context menu (a third lighter): MathJax's
  component files :data:`MATHJAX_COMPONENTS`, concatenated in their load order. Anything else
  a deck needs (a TeX extension, a font) MathJax still loads from the site on demand;
  formulas are typeset a few at a time (:data:`MATHJAX_TYPESET_IN_BATCHES`).

Encoded images are cached in ``_build/.doctrees/heicadlearn-images`` by the digest of
the PNG, so a rebuild does not encode them again.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.osutil import relative_uri

# ----------------------------------------------------------------------------- images

LOSSY_QUALITY = 85
LOSSY_IF_BELOW = 0.5  # use lossy WebP only where it is under half the lossless size
# Encoder effort: for lossless WebP, "quality" is effort. Method 6 / quality 100 would make files
# about 4 % smaller at thirty times the encoding time (seconds per figure).
WEBP_METHOD = 4
LOSSLESS_EFFORT = 50
ENCODING = f"webp-q{LOSSY_QUALITY}-r{LOSSY_IF_BELOW}-m{WEBP_METHOD}-e{LOSSLESS_EFFORT}-v1"  # cache key of the policy
IMAGES_DIR = "_images"


def _webp(image, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="WEBP", method=WEBP_METHOD, **options)
    return buf.getvalue()


def encode_png(data: bytes) -> tuple[bytes, int, int, bool]:
    """``(webp, width, height, lossy)`` for a PNG: lossless, or lossy where that is much smaller."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")  # matplotlib's opaque figures carry an unused alpha channel
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    lossless = _webp(image, lossless=True, quality=LOSSLESS_EFFORT, exact=True)
    lossy = _webp(image, quality=LOSSY_QUALITY)
    if len(lossy) < LOSSY_IF_BELOW * len(lossless):
        return lossy, image.width, image.height, True
    return lossless, image.width, image.height, False


class ImageCache:
    """Encoded images on disk, keyed by the PNG's digest and the encoding policy."""

    def __init__(self, folder: Path):
        self.folder = folder

    def webp(self, data: bytes) -> tuple[bytes, int, int]:
        key = hashlib.sha256(data + ENCODING.encode()).hexdigest()
        path = self.folder / f"{key}.webp"
        meta = self.folder / f"{key}.size"
        if path.is_file() and meta.is_file():
            width, height = (int(v) for v in meta.read_text().split())
            return path.read_bytes(), width, height
        out, width, height, _ = encode_png(data)
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(out)
        meta.write_text(f"{width} {height}")
        return out, width, height


def _cache(app) -> ImageCache:
    return ImageCache(Path(app.doctreedir) / "heicadlearn-images")


def _write_named(folder: Path, data: bytes, suffix: str) -> str:
    """Write ``data`` under its own digest (identical images share one file); returns the name."""
    name = hashlib.sha256(data).hexdigest() + suffix
    path = folder / name
    if not path.is_file() or path.stat().st_size != len(data):
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return name


def compact_figures(app, doctree):
    """``doctree-read``: code-cell PNGs (written by myst-nb into the build folder) become WebP.

    Runs before Sphinx's image collector, which then copies the WebP files to ``_images``.
    Images that are part of the sources (logos, hand-made figures) are left as they are.
    """
    if app.builder.format != "html":
        return
    build = Path(app.outdir).parent.resolve()
    cache = _cache(app)
    docname = app.env.docname
    for node in doctree.findall(nodes.image):
        uri = node["uri"]
        if "://" in uri or uri.startswith("data:") or not uri.lower().endswith(".png"):
            continue
        _, abs_path = app.env.relfn2path(uri, docname)
        path = Path(abs_path).resolve()
        if not path.is_file() or not path.is_relative_to(build):
            continue
        data, _, _ = cache.webp(path.read_bytes())
        name = _write_named(path.parent, data, ".webp")
        node["uri"] = uri[: -len(path.name)] + name
        node["loading"] = "lazy"


def demo_frames_as_files(app, doctree, docname):
    """``doctree-resolved``: every demo frame becomes a file in ``_images``; the page links it."""
    if app.builder.format != "html":
        return
    cache = _cache(app)
    folder = Path(app.outdir) / IMAGES_DIR
    page = app.builder.get_target_uri(docname)
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split() or 'class="hcl-demo"' not in node.astext()[:200]:
            continue
        from heicadlearn import demo  # only where a page has a demo

        found = demo.read_html(node.astext())
        if found is None:
            continue
        spec, demo_id = found
        for frame in spec["frames"]:
            if not frame.get("img", "").startswith(demo.PNG_URL):
                continue
            data, width, height = cache.webp(base64.b64decode(frame["img"][len(demo.PNG_URL) :]))
            name = _write_named(folder, data, ".webp")
            frame.update(img=relative_uri(page, f"{IMAGES_DIR}/{name}"), width=width, height=height)
        html = demo.render_html(spec, demo_id)
        node.replace_self(nodes.raw("", html, format="html", classes=node.get("classes", [])))


# ----------------------------------------------------------------------------- icons

# Icons the templates draw as <i class="fa-..."> (theme header, sidebar, footer buttons;
# the extension's launch menu). tests/test_book.py fails when a page uses one not listed.
ICONS = (
    "angle-left",
    "angle-right",
    "arrow-up",
    "bars",
    "circle-half-stroke",
    "download",
    "expand",
    "file",
    "file-pdf",
    "github",
    "list",
    "magnifying-glass",
    "moon",
    "outdent",
    "person-chalkboard",  # the "Slides" button (slides.py)
    "rocket",
    "sun",
)
ICON_FONTS = (  # (theme font file, CSS family, weight)
    ("fa-solid-900", "Font Awesome 6 Free", 900),
    ("fa-regular-400", "Font Awesome 6 Free", 400),
    ("fa-brands-400", "Font Awesome 6 Brands", 400),
)
ICON_CSS = "hcl-icons.css"
ICON_DIR = "fonts"
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?")


def _theme_static(package: str = "pydata_sphinx_theme") -> Path:
    module = __import__(package)
    return Path(module.__file__).parent / "theme" / package / "static"


def _css_chars(value: str) -> set[int]:
    text = _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return {ord(c) for c in text if 0xE000 <= ord(c) <= 0xF8FF or ord(c) >= 0xF0000}


def theme_icons(css_files: list[Path]) -> tuple[dict[str, int], set[int]]:
    """From the theme's style sheets: icon name -> code point (``.fa-<name>:before`` rules), and
    the code points the style sheets draw themselves (admonition titles, external links...)."""
    rules = re.compile(r"([^{}]+)\{([^{}]*)\}")
    content = re.compile(r'content:\s*"([^"]*)"')
    variable = re.compile(r'--pst-icon-[\w-]+:\s*"([^"]*)"')
    names: dict[str, int] = {}
    drawn: set[int] = set()
    for css in css_files:
        for selectors, body in rules.findall(css.read_text(encoding="utf-8")):
            for value in variable.findall(body):
                drawn |= _css_chars(value)
            m = content.search(body)
            chars = _css_chars(m.group(1)) if m else set()
            if not chars:
                continue
            named = [
                s.strip()[4:].split(":")[0]
                for s in selectors.split(",")
                if re.fullmatch(r"\.fa-[\w-]+:(:?before|after)", s.strip())
            ]
            for name in named:
                names.setdefault(name, min(chars))
            if not named:
                drawn |= chars
    return names, drawn


def theme_css_files() -> list[Path]:
    return [
        _theme_static() / "styles" / "pydata-sphinx-theme.css",
        _theme_static("sphinx_book_theme") / "styles" / "sphinx-book-theme.css",
    ]


def icon_codepoints(css_files: list[Path], icons=ICONS) -> set[int]:
    """Code points the subsets keep: the listed icons' and every icon the theme's CSS draws itself."""
    names, drawn = theme_icons(css_files)
    missing = [i for i in icons if i not in names]
    if missing:
        raise ValueError(f"the theme's CSS has no FontAwesome icon named {missing}")
    return {names[i] for i in icons} | drawn


def subset_font(source: Path, codepoints: set[int]) -> bytes:
    """A WOFF font with only the glyphs of ``codepoints`` (those ``source`` has)."""
    import logging as std_logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    std_logging.getLogger("fontTools").setLevel(std_logging.WARNING)  # it logs every table it prunes
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(str(source))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf, reorderTables=True)
    return buf.getvalue()


def write_icon_fonts(outdir: Path) -> set[int]:
    """Write the subset fonts and the stylesheet that points the theme's font faces at them."""
    static = _theme_static()
    wanted = icon_codepoints(theme_css_files())
    faces = []
    for stem, family, weight in ICON_FONTS:
        data = subset_font(static / "vendor" / "fontawesome" / "webfonts" / f"{stem}.ttf", wanted)
        name = f"{stem}-subset.woff"
        (Path(outdir) / "_static" / ICON_DIR).mkdir(parents=True, exist_ok=True)
        (Path(outdir) / "_static" / ICON_DIR / name).write_bytes(data)
        faces.append(
            f'@font-face{{font-family:"{family}";font-style:normal;font-weight:{weight};font-display:block;'
            f'src:url({ICON_DIR}/{name}) format("woff")}}'
        )
    header = (
        "/* FontAwesome subsets (book/_ext/heicadlearn_book/weight.py): the theme's own font faces,\n"
        "   declared again after the theme's stylesheet so that these small files replace the full fonts. */\n"
    )
    (Path(outdir) / "_static" / ICON_CSS).write_text(header + "\n".join(faces) + "\n", encoding="utf-8")
    return wanted


# ----------------------------------------------------------------------------- scripts

RUN_AT_ONCE = ("documentation_options.js",)  # inline scripts of the theme read it while parsing
UNUSED_CSS = ("sphinx-thebe.css",)


def defer_scripts(app, pagename, templatename, context, doctree):
    """``html-page-context``: script files run deferred, in their order; unused style sheets go.

    Not on the search page, where the theme loads Sphinx's search scripts at once and they
    need ``doctools.js`` before them.
    """
    if app.builder.format != "html":
        return
    from sphinx.builders.html._assets import _JavaScript

    context["css_files"] = [
        c for c in context.get("css_files", []) if not str(getattr(c, "filename", c)).endswith(UNUSED_CSS)
    ]
    if pagename == "search":
        return
    scripts = []
    for js in context.get("script_files", []):
        filename = str(getattr(js, "filename", js) or "")
        attributes = dict(getattr(js, "attributes", {}))
        if (
            not isinstance(js, _JavaScript)
            or not filename
            or {"async", "defer"} & set(attributes)
            or attributes.get("type") not in (None, "text/javascript")
            or filename.endswith(RUN_AT_ONCE)
        ):
            scripts.append(js)
            continue
        scripts.append(_JavaScript(filename, priority=js.priority, defer="defer", **attributes))
    context["script_files"] = scripts


# ----------------------------------------------------------------------------- MathJax

# MathJax's tex-chtml component, less ui/menu: these component files (relative to
# node_modules/mathjax/es5) in load order, then marked as loaded for MathJax's loader.
MATHJAX_COMPONENTS = (
    ("startup", "startup.js"),
    ("core", "core.js"),
    ("input/tex", "input/tex.js"),
    ("output/chtml", "output/chtml.js"),
    ("output/chtml/fonts/tex", "output/chtml/fonts/tex.js"),
    ("a11y/assistive-mml", "a11y/assistive-mml.js"),
)
MATHJAX_FILE = "tex-chtml.js"
# MathJax alone typesets a whole page in one go: on a page with a hundred formulas that is a
# second or more of a phone's main thread in one task, during which the page ignores taps.
# Here the formulas are typeset a few at a time, yielding between batches; a last pass over
# the whole page typesets anything else, as MathJax alone would. (A page that sets its own
# startup.pageReady keeps it.)
MATHJAX_BATCH = 8
MATHJAX_TYPESET_IN_BATCHES = """(function () {
  var config = window.MathJax = window.MathJax || {};
  config.startup = config.startup || {};
  if (config.startup.pageReady) { return; }
  config.startup.pageReady = function () {
    var selector = '.math, .output_area, .tex2jax_process, .mathjax_process';
    var roots = Array.prototype.filter.call(document.querySelectorAll(selector), function (e) {
      return !(e.parentElement && e.parentElement.closest(selector));
    });
    var i = 0;
    function next() {
      if (i >= roots.length) { return MathJax.typesetPromise(); }
      var batch = roots.slice(i, i += BATCH);
      return MathJax.typesetPromise(batch).then(function () {
        return new Promise(function (resolve) { setTimeout(resolve, 0); });
      }).then(next);
    }
    return next();
  };
})();""".replace("BATCH", str(MATHJAX_BATCH))
# The menu used to make every formula focusable; a displayed formula wider than the page
# scrolls sideways (see _static/heicadlearn.css) and must stay reachable by keyboard.
MATHJAX_FOCUSABLE_DISPLAY = """MathJax.startup.promise.then(function () {
  document.querySelectorAll('mjx-container[display="true"]').forEach(function (m) {
    if (!m.hasAttribute('tabindex')) { m.setAttribute('tabindex', '0'); }
  });
});"""


def mathjax_bundle(es5: Path) -> str:
    """MathJax's ``tex-chtml`` without the menu, as one script."""
    startup, *rest = MATHJAX_COMPONENTS
    parts = [
        "/* MathJax 3 tex-chtml without ui/menu, concatenated from its component files by the\n"
        "   HeiCADLearn book's build (book/_ext/heicadlearn_book/weight.py). Licence: Apache-2.0. */",
        MATHJAX_TYPESET_IN_BATCHES,
        (es5 / startup[1]).read_text(encoding="utf-8"),
        # startup.js has queued its (empty) load list; the components below register before
        # that queue runs, and the loader is told they are here so that it never fetches them.
        "MathJax.loader.preLoad(" + ",".join(f"'{name}'" for name, _ in rest) + ");",
    ]
    parts += [(es5 / path).read_text(encoding="utf-8") for _, path in rest]
    parts.append(MATHJAX_FOCUSABLE_DISPLAY)
    return "\n".join(parts) + "\n"


def _build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    es5 = Path(app.srcdir) / app.config.heicadlearn_mathjax_dir
    target = outdir / "_static" / "mathjax" / MATHJAX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(mathjax_bundle(es5), encoding="utf-8")
    write_icon_fonts(outdir)


def setup(app):
    # Figures are re-encoded while a page is read: a new encoding (or loading) policy must re-read every page
    # (a changed "env" setting does that), not reuse doctrees that point at the old files.
    app.add_config_value("heicadlearn_image_encoding", f"{ENCODING}-lazy", "env")
    app.add_css_file(ICON_CSS, priority=900)  # after the theme's and the site's stylesheets
    # Before Sphinx's image collector (priority 500) so that it copies the WebP files.
    app.connect("doctree-read", compact_figures, priority=400)
    app.connect("doctree-resolved", demo_frames_as_files)
    # After the extension's own page-context handler (priority 600), which drops foreign scripts.
    app.connect("html-page-context", defer_scripts, priority=700)
    # After the MathJax copy of the extension's __init__ (priority 500).
    app.connect("build-finished", _build_finished, priority=600)
