"""Turn a MyST Markdown chapter into a plain Jupyter notebook for launching.

Colab and JupyterHub open ``.ipynb`` files; the book's chapters are MyST Markdown.
:func:`chapter_to_notebook` reads a chapter with myst-nb's own reader (the same
parser the book uses), rewrites MyST-only syntax (directives, roles, targets)
into plain Markdown with absolute links to the published site, prepends a setup
cell, and sets Colab's GPU metadata when the chapter's front matter asks for it::

    ---
    heicadlearn:
      accelerator: GPU
    ---
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import nbformat

__all__ = ["LinkContext", "chapter_to_notebook", "myst_to_markdown", "setup_cell_source", "wants_gpu"]

ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}


@dataclass
class LinkContext:
    """What the converter needs to turn cross-references into absolute links."""

    site_url: str  # e.g. "https://joanagrah.github.io/HeiCADLearn/"
    docname: str  # e.g. "book/backprop"
    labels: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)  # label -> (docname, anchor, title)
    docs: Mapping[str, str] = field(default_factory=dict)  # docname -> title
    citations: Mapping[str, str] = field(default_factory=dict)  # bib key -> "Author et al. (2017)"
    source_url: str = ""  # raw files of the repository at the book's commit, e.g. ".../raw/<sha>/"

    def page(self, docname: str, anchor: str = "") -> str:
        return f"{self.site_url.rstrip('/')}/{docname}.html" + (f"#{anchor}" if anchor else "")

    def file_url(self, target: str) -> str:
        """URL of a file of the book (an image, a download) in the repository at the book's commit."""
        path = self.resolve_doc(target, strip_md=False)
        return f"{(self.source_url or self.site_url).rstrip('/')}/{path}"

    def resolve_doc(self, target: str, strip_md: bool = True) -> str:
        """Resolve a {doc} target (or a file path) relative to the current document."""
        target = target.removesuffix(".md") if strip_md else target
        if target.startswith("/"):
            return target.lstrip("/")
        base = self.docname.rsplit("/", 1)[0] if "/" in self.docname else ""
        parts = (base.split("/") if base else []) + target.split("/")
        out: list[str] = []
        for p in parts:
            if p == "..":
                if out:
                    out.pop()
            elif p not in ("", "."):
                out.append(p)
        return "/".join(out)


_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]+)`")
_TARGET = re.compile(r"^\s*\((?P<label>[^)\s]+)\)=\s*$")
_TEXT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _parse_directive(lines: list[str], start: int):
    """Return (name, arg, options, body_lines, next_index) for the directive starting at ``start``."""
    m = _FENCE.match(lines[start])
    fence = m.group("fence")
    char, width = fence[0], len(fence)
    close = re.compile(rf"^\s*{re.escape(char)}{{{width},}}\s*$")
    i = start + 1
    options: dict[str, str] = {}
    # Options: YAML block between --- lines, or leading :key: value lines.
    if i < len(lines) and lines[i].strip() == "---":
        j = i + 1
        while j < len(lines) and lines[j].strip() != "---":
            k, _, v = lines[j].partition(":")
            options[k.strip()] = v.strip()
            j += 1
        i = j + 1
    else:
        while i < len(lines) and _OPTION.match(lines[i]):
            o = _OPTION.match(lines[i])
            options[o.group("key")] = o.group("value")
            i += 1
    body = []
    depth = 0
    while i < len(lines):
        line = lines[i]
        inner = _FENCE.match(line)
        if inner and inner.group("fence")[0] == char and len(inner.group("fence")) == width:
            depth += 1
        elif close.match(line):
            if depth == 0:
                return m.group("name"), m.group("arg").strip(), options, body, i + 1
            depth -= 1
        body.append(line)
        i += 1
    return m.group("name"), m.group("arg").strip(), options, body, i


def _quote(text: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in text.splitlines())


def _convert_directive(name, arg, options, body, ctx, convert) -> str:
    inner = convert("\n".join(body)).strip("\n")
    if name in ADMONITIONS:
        title = ADMONITIONS[name]
        return _quote(f"**{title}**\n\n{inner}")
    if name == "admonition":
        return _quote(f"**{convert(arg)}**\n\n{inner}")
    if name in ("exercise",):
        title = f"Exercise: {convert(arg)}" if arg else "Exercise"
        return _quote(f"**{title}**\n\n{inner}")
    if name == "solution":
        return f"<details>\n<summary>Solution</summary>\n\n{inner}\n\n</details>"
    if name in ("exercise-start", "solution-start"):
        kind = "Exercise" if name.startswith("exercise") else "Solution"
        title = f"{kind}: {convert(arg)}" if arg and kind == "Exercise" else kind
        return f"**{title}**"
    if name in ("exercise-end", "solution-end"):
        return "---"
    if name == "math":
        return f"$$\n{chr(10).join(body).strip()}\n$$"
    if name in ("code-block", "code", "sourcecode"):
        return f"```{arg}\n" + "\n".join(body) + "\n```"
    if name in ("figure", "image"):
        alt = options.get("alt", "figure")
        url = ctx.file_url(arg)
        caption = f"\n\n*{inner}*" if inner else ""
        return f"![{alt}]({url}){caption}"
    if name in ("bibliography", "toctree", "tableofcontents", "contents"):
        return f"See the [references]({ctx.page('book/references')}) on the published site."
    if name in ("csv-table", "list-table", "table"):
        return (f"**{convert(arg)}**\n\n" if arg else "") + inner
    # Any other directive: keep its content as a quoted block.
    head = f"**{convert(arg)}**\n\n" if arg else ""
    return _quote(head + inner) if (head or inner) else ""


def _convert_role(m: re.Match, ctx: LinkContext) -> str:
    name, content = m.group("name"), m.group("content")
    explicit = _TEXT_TARGET.match(content)
    text, target = (explicit.group("text"), explicit.group("target")) if explicit else (None, content)
    if name.startswith("cite"):
        keys = [k.strip() for k in target.split(",")]
        shown = "; ".join(ctx.citations.get(k, k) for k in keys)
        return f"[{shown}]({ctx.page('book/references')})"
    if name in ("ref", "numref"):
        label = target.lower() if target.lower() in ctx.labels else target
        if label in ctx.labels:
            doc, anchor, title = ctx.labels[label]
            return f"[{text or title or label}]({ctx.page(doc, anchor)})"
        return text or target
    if name == "doc":
        doc = ctx.resolve_doc(target)
        return f"[{text or ctx.docs.get(doc, doc)}]({ctx.page(doc)})"
    if name == "math":
        return f"${content}$"
    if name == "download":
        return f"[{text or target}]({ctx.file_url(target)})"
    if name in ("term", "abbr", "sub", "sup", "guilabel", "kbd", "file", "command", "samp", "code"):
        return f"`{text or target}`" if name in ("file", "command", "samp", "code", "kbd") else (text or target)
    return text or target


def myst_to_markdown(text: str, ctx: LinkContext) -> str:
    """Rewrite MyST-only syntax in a Markdown cell into plain (Jupyter) Markdown."""

    def convert(chunk: str) -> str:
        lines = chunk.splitlines()
        out: list[str] = []
        i = 0
        in_code = None
        while i < len(lines):
            line = lines[i]
            plain_fence = re.match(r"^\s*(`{3,}|~{3,})(?![`~{])", line)
            if in_code:
                out.append(line)
                if line.strip().startswith(in_code) and set(line.strip()) == {in_code[0]}:
                    in_code = None
                i += 1
                continue
            if plain_fence:
                in_code = plain_fence.group(1)
                out.append(line)
                i += 1
                continue
            if _FENCE.match(line):
                name, arg, options, body, i = _parse_directive(lines, i)
                out.append(_convert_directive(name, arg, options, body, ctx, convert))
                continue
            if _TARGET.match(line) or re.match(r"^\s*%", line):
                i += 1
                continue
            out.append(_ROLE.sub(lambda m: _convert_role(m, ctx), line))
            i += 1
        return "\n".join(out)

    return re.sub(r"\n{3,}", "\n\n", convert(text)).strip("\n")


CHECK_NOTE = (
    "# Check of the numbers quoted in the text (hidden on the website). On other hardware the\n"
    "# results can differ a little; if this check fails for you, carry on with the next cell."
)


def wants_gpu(metadata: Mapping) -> bool:
    """Whether a chapter's front matter declares ``heicadlearn: {accelerator: GPU}``."""
    return str((metadata.get("heicadlearn") or {}).get("accelerator", "")).upper() == "GPU"


def setup_cell_source(package_url: str) -> str:
    """The first cell of every launch notebook: install the course package only where it is missing."""
    return (
        "# Course setup: on Colab, or on a hub without the course package, install it\n"
        "# from the course repository (the version this notebook was made from).\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("heicadlearn") is None:\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "--quiet", "heicadlearn @ {package_url}"],\n'
        "        check=True,\n"
        "    )"
    )


def chapter_to_notebook(
    text: str,
    ctx: LinkContext,
    package_url: str,
    read: Callable[[str], nbformat.NotebookNode] | None = None,
) -> nbformat.NotebookNode:
    """Convert a MyST Markdown chapter's text into a launchable notebook without outputs."""
    if read is None:
        from myst_nb.core.read import read_myst_markdown_notebook as read
    source = read(text)
    gpu = wants_gpu(source.metadata)
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    if gpu:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"] = {"gpuType": "T4", "provenance": []}
    intro = (
        f"*This notebook was generated from the HeiCADLearn course book; the published chapter "
        f"is at {ctx.page(ctx.docname)}.*"
    )
    if gpu:
        intro += (
            "\n\n*This chapter trains neural networks: on Colab, choose **Runtime → Change runtime "
            "type → T4 GPU** before running it (it also runs on a CPU, only slower).*"
        )
    nb.cells.append(nbformat.v4.new_markdown_cell(intro))
    nb.cells.append(nbformat.v4.new_code_cell(setup_cell_source(package_url)))
    for cell in source.cells:
        if cell.cell_type == "markdown":
            md = myst_to_markdown(cell.source, ctx)
            if md.strip():
                nb.cells.append(nbformat.v4.new_markdown_cell(md))
        elif cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            source = cell.source
            check = "remove-cell" in tags
            if check:
                # A check of the book's claims, hidden on the site. A learner's GPU or library
                # versions can give slightly different numbers: the cell may then fail, but
                # "Run all" goes on past it (raises-exception).
                source = f"{CHECK_NOTE}\n{source}"
                tags.append("raises-exception")
            new = nbformat.v4.new_code_cell(source)
            if tags:
                new.metadata["tags"] = tags
            if check:
                new.metadata["heicadlearn"] = {"check": True}
            nb.cells.append(new)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb
