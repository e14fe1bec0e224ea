"""Lecture slides from the chapters: every chapter with ``{slide}`` blocks is also a reveal.js deck.

The deck is made from the same executed source as the page, when the build has finished:

* A chapter writes its slide text in ``{slide}`` blocks (:class:`SlideDirective`), MyST
  Markdown like the rest of the chapter. The page never shows it: the :class:`slide` nodes
  are taken out of the page's resolved doctree (``doctree-resolved``), before the page and
  its search index are written.
* Each ``{slide}`` block is one slide, titled with the heading of the section it stands in
  (or with the block's own argument). Its ``:show:`` option names what the book computed:
  a figure (the ``name`` of a ``{figure}`` or of a code cell's ``mystnb.figure``), a table,
  or a code cell whose outputs (a data frame, a precomputed demo) follow a ``(name)=``
  target. The deck shows exactly that node of the executed page.
* The section's own prose (its paragraphs and lists, as text) becomes the speaker notes.
* At ``build-finished`` every deck is written from its chapter's resolved doctree with the
  HTML translator to ``<outdir>/slides/<chapter>.html``: figure images are the page's own
  files in ``_images``, demos keep their HTML and inline script. reveal.js, its notes and
  math plugins come from ``node_modules/reveal.js`` (``npm ci``) and MathJax from the site's
  ``_static/mathjax`` (:mod:`.assets`): a deck makes no request to another host.
* Every chapter page with a deck gets a "Slides" button next to the launch buttons, and
  every deck links back to its chapter.

Names are checked when the chapter is read (``doctree-read``): a ``:show:`` name that is
not a figure, table or named cell of the same chapter is a warning, so the strict build
stops with the file and line. ``make slides-pdf`` (:mod:`.handouts`) prints the decks.
"""

from __future__ import annotations

import copy
import html
import json
import posixpath
import shutil
import time
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

logger = logging.getLogger(__name__)

SLIDES_DIR = "slides"
REVEAL_STATIC = "_static/reveal"
# Files of the reveal.js package (below its dist/) that a deck loads.
REVEAL_FILES = ("reset.css", "reveal.css", "reveal.js", "plugin/notes.js", "plugin/math.js")
DECK_FILES = Path(__file__).parent / "deck"
DECK_CSS = "heicadlearn-deck.css"
# reveal.js settings shared by every deck (MathJax is added per deck, from the site's settings).
REVEAL_CONFIG = {
    "hash": True,
    "slideNumber": "c/t",
    "width": 1280,
    "height": 720,
    "margin": 0.04,
    "center": False,
    "transition": "none",
    "pdfSeparateFragments": False,
    "pdfMaxPagesPerSlide": 1,
}
LAYOUTS = ("stack", "split", "row")  # outputs under the text, right of it, or side by side under it


# --- the directive and its node --------------------------------------------------------------


class slide(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Slide text of one slide; attributes ``title``, ``show`` (names) and ``layout``."""


def _layout(argument: str) -> str:
    return directives.choice(argument, LAYOUTS)


class SlideDirective(SphinxDirective):
    """```{slide} [title]`` with ``:show: name ...`` and ``:layout: stack|split|row``; MyST content."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"show": directives.unchanged, "layout": _layout}

    def run(self):
        node = slide(
            title=self.arguments[0].strip() if self.arguments else "",
            show=self.options.get("show", "").replace(",", " ").split(),
            layout=self.options.get("layout", "stack"),
        )
        self.set_source_info(node)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def skip_node(self, node):
    raise nodes.SkipNode


# --- what a slide names ----------------------------------------------------------------------


def is_code_cell(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def named_node(doctree: nodes.document, name: str):
    """The figure, table or code cell that ``name`` names in ``doctree`` (None if none)."""
    node_id = doctree.nameids.get(nodes.fully_normalize_name(name))
    node = doctree.ids.get(node_id) if node_id else None
    if isinstance(node, (nodes.figure, nodes.table)) or is_code_cell(node):
        return node
    return None


def deck_path(docname: str) -> str:
    """The deck of a chapter, relative to the site root."""
    return f"{SLIDES_DIR}/{posixpath.basename(docname)}.html"


def decks(env) -> dict[str, dict]:
    """docname -> what the deck holds (title, number of slides), for every chapter with slides."""
    return getattr(env, "heicadlearn_slides", {})


def _doctree_read(app, doctree):
    env = app.env
    env.heicadlearn_slides = decks(env)
    found = list(doctree.findall(slide))
    env.heicadlearn_slides.pop(env.docname, None)
    if not found:
        return
    shown: dict[str, int] = {}
    for node in found:
        if not isinstance(node.parent, nodes.section):
            logger.warning(
                "a {slide} block must stand directly in a section (not inside another block)",
                location=node,
                type="heicadlearn",
                subtype="slides",
            )
        for name in node["show"]:
            if named_node(doctree, name) is None:
                logger.warning(
                    f"the slide shows {name!r}, but this chapter has no figure, table or named code cell "
                    f"called {name!r} (give a figure `name:`, or put a `({name})=` target before the cell)",
                    location=node,
                    type="heicadlearn",
                    subtype="slides",
                )
            elif name in shown:
                logger.warning(
                    f"{name!r} is shown on two slides (line {shown[name]} too); a deck shows each output once",
                    location=node,
                    type="heicadlearn",
                    subtype="slides",
                )
            shown.setdefault(name, node.line or 0)
    env.heicadlearn_slides[env.docname] = {"title": env.titles[env.docname].astext(), "slides": len(found) + 1}


def _env_purge_doc(app, env, docname):
    decks(env).pop(docname, None)


def _env_merge_info(app, env, docnames, other):
    env.heicadlearn_slides = decks(env)
    for docname in docnames:
        if docname in decks(other):
            env.heicadlearn_slides[docname] = other.heicadlearn_slides[docname]


def _remove_from_page(app, doctree, docname):
    """The page (and its search index) never holds the slide text."""
    if getattr(app.builder, "heicadlearn_writing_decks", False):
        return
    for node in list(doctree.findall(slide)):
        node.parent.remove(node)


# --- the button on the chapter page ----------------------------------------------------------


def _slides_button(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or pagename not in decks(app.env):
        return
    buttons = context.setdefault("header_buttons", [])
    button = {
        "type": "link",
        "text": "Slides",
        "tooltip": "Lecture slides of this chapter",
        "icon": "fas fa-person-chalkboard",
        "label": "hcl-slides",
        "url": context["pathto"](deck_path(pagename), 1),
    }
    after = next((i + 1 for i, b in enumerate(buttons) if b.get("label") == "hcl-launch-buttons"), len(buttons))
    buttons.insert(after, button)


# --- writing a deck --------------------------------------------------------------------------


def _retarget(doctree: nodes.document, page: str, deck: str) -> None:
    """Links resolved for the chapter page, rewritten for the deck (another folder)."""
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri")
        if uri is None and ref.get("refid"):
            ref["refuri"] = f"{relative_uri(deck, page)}#{ref['refid']}"
            del ref["refid"]
        elif uri and "://" not in uri and not uri.startswith(("#", "mailto:", "/", "data:")):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), uri))
            ref["refuri"] = relative_uri(deck, target)
        elif uri and uri.startswith("#"):
            ref["refuri"] = relative_uri(deck, page) + uri


def _section_of(node):
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.section):
        parent = parent.parent
    return parent


def notes_of(section) -> list[str]:
    """The section's own prose as text: its paragraphs and list items, not code, figures or boxes."""
    out = []
    for child in section.children:
        if isinstance(child, nodes.paragraph):
            out.append(child.astext())
        elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
            out += [item.astext() for item in child.children if isinstance(item, nodes.list_item)]
    return [" ".join(text.split()) for text in out if text.strip()]


class DeckWriter:
    """Renders nodes of one chapter's resolved doctree as HTML for its deck."""

    def __init__(self, app, docname: str):
        self.app, self.docname = app, docname
        builder = app.builder
        self.page = builder.get_target_uri(docname)
        self.deck = deck_path(docname)
        builder.heicadlearn_writing_decks = True
        try:
            self.doctree = app.env.get_and_resolve_doctree(docname, builder)
        finally:
            builder.heicadlearn_writing_decks = False
        if not hasattr(builder, "docsettings"):  # no page was out of date, so Sphinx wrote none
            builder.prepare_writing(set())
        self.doctree.settings = builder.docsettings
        _retarget(self.doctree, self.page, self.deck)

    def html(self, node) -> str:
        builder = self.app.builder
        state = (
            "imgpath",
            "current_docname",
            "add_permalinks",
            "fignumbers",
            "secnumbers",
            "heicadlearn_writing_decks",
        )
        saved = {name: getattr(builder, name, None) for name in state}
        builder.imgpath = relative_uri(self.deck, builder.imagedir)
        builder.current_docname = self.docname
        builder.add_permalinks = False  # no "#" links to anchors of the page
        builder.heicadlearn_writing_decks = True  # formulas as TeX for the math plugin (mathsvg.py)
        builder.fignumbers = self.app.env.toc_fignumbers.get(self.docname, {})
        builder.secnumbers = self.app.env.toc_secnumbers.get(self.docname, {})
        try:
            # A copy of the node and its children only (copy.deepcopy would follow the parent links and
            # copy the whole document): the translator rewrites image URIs in place.
            node = node.deepcopy()
            holder = nodes.container()
            holder.document = self.doctree
            holder += node
            builder.post_process_images(holder)
            self._copy_images(holder)
            translator = builder.create_translator(self.doctree, builder)
            node.walkabout(translator)
            return "".join(translator.body)
        finally:
            for name, value in saved.items():
                setattr(builder, name, value)

    def _copy_images(self, tree) -> None:
        """Images of an unchanged chapter were copied by an earlier build; copy any that are missing."""
        builder = self.app.builder
        for image in tree.findall(nodes.image):
            name = builder.images.get(image["uri"])
            if name is None:
                continue
            dest = Path(builder.outdir) / builder.imagedir / name
            if not dest.is_file():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(builder.srcdir) / image["uri"], dest)

    def shown(self, name: str) -> str:
        node = named_node(self.doctree, name)
        if node is None:  # reported when the chapter was read
            return ""
        if is_code_cell(node):
            outputs = [c for c in node.children if isinstance(c, nodes.container)]
            outputs = [c for c in outputs if c.get("nb_element") == "cell_code_output"]
            body = "".join(self.html(child) for out in outputs for child in out.children)
            return f'<div class="hcl-slide-output" data-name="{html.escape(name)}">{body}</div>'
        return self.html(node)

    def slides(self) -> list[dict]:
        out = []
        for index, node in enumerate(self.doctree.findall(slide), start=1):
            section = _section_of(node)
            title = node["title"] or (section[0].astext() if section is not None else "")
            out.append(
                {
                    "id": f"slide-{index}",
                    "title": title,
                    "layout": node["layout"],
                    "text": "".join(self.html(child) for child in node.children),
                    "shown": [self.shown(name) for name in node["show"]],
                    "notes": notes_of(section) if section is not None else [],
                }
            )
        return out


def _mathjax(app, deck: str) -> dict:
    settings = app.config.mathjax3_config if isinstance(app.config.mathjax3_config, dict) else {}
    return {"mathjax": relative_uri(deck, f"_static/{app.config.mathjax_path}"), **copy.deepcopy(settings)}


def render_deck(app, docname: str) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    writer = DeckWriter(app, docname)
    deck = writer.deck
    static = relative_uri(deck, REVEAL_STATIC + "/")
    config = {**REVEAL_CONFIG, "mathjax3": _mathjax(app, deck)}
    jinja = Environment(loader=FileSystemLoader(DECK_FILES), autoescape=select_autoescape(["html"]))
    return jinja.get_template("deck.html").render(
        language=app.config.language or "en",
        title=app.env.titles[docname].astext(),
        project=app.config.html_title or app.config.project,
        chapter=relative_uri(deck, writer.page),
        site_css=relative_uri(deck, "_static/heicadlearn.css"),
        static=static,
        deck_css=DECK_CSS,
        slides=writer.slides(),
        config=json.dumps(config).replace("</", "<\\/"),
    )


def reveal_source(app) -> Path:
    src = Path(app.srcdir) / app.config.heicadlearn_reveal_dir
    missing = [f for f in REVEAL_FILES if not (src / f).is_file()]
    if missing:
        raise ExtensionError(
            f"reveal.js is missing ({src / missing[0]} not found). The slide decks serve reveal.js "
            "themselves: run `npm ci` in the repository root (`make book` does)."
        )
    return src


def _builder_inited(app):
    if app.builder.format == "html":
        reveal_source(app)  # fail early, before executing notebooks


def _copy_reveal(app) -> None:
    src = reveal_source(app)
    dest = Path(app.outdir) / REVEAL_STATIC
    if dest.exists():
        shutil.rmtree(dest)
    for name in REVEAL_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / name, dest / name)
    shutil.copy2(DECK_FILES / DECK_CSS, dest / DECK_CSS)


def write_decks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    shutil.rmtree(outdir / SLIDES_DIR, ignore_errors=True)
    chapters = decks(app.env)
    if not chapters:
        return
    start = time.perf_counter()
    _copy_reveal(app)
    for docname in sorted(chapters):
        out = outdir / deck_path(docname)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_deck(app, docname), encoding="utf-8")
    seconds = time.perf_counter() - start
    logger.info(f"[heicadlearn] {len(chapters)} slide decks written to {outdir / SLIDES_DIR} in {seconds:.1f} s")


def _check_names(app, env):
    """Two chapters may not share a deck file (decks are named after the chapter's file)."""
    seen: dict[str, str] = {}
    for docname in sorted(decks(env)):
        path = deck_path(docname)
        if path in seen:
            raise ExtensionError(f"{docname} and {seen[path]} would both write the deck {path}: rename one")
        seen[path] = docname


def setup(app):
    app.add_config_value("heicadlearn_reveal_dir", "node_modules/reveal.js/dist", "html")
    app.add_node(
        slide,
        html=(skip_node, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    app.add_directive("slide", SlideDirective)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("env-check-consistency", _check_names)
    app.connect("doctree-resolved", _remove_from_page, priority=900)
    # After the launch buttons (priority 600), so that "Slides" stands next to them.
    app.connect("html-page-context", _slides_button, priority=601)
    app.connect("build-finished", write_decks)
