"""Turn a MyST Markdown chapter into the plain Jupyter notebook a learner works in.

Colab and JupyterHub open ``.ipynb`` files; the book's chapters are MyST Markdown.
:func:`chapter_to_notebook` reads a chapter with myst-nb's own reader, parses each
Markdown cell with myst-parser's markdown-it parser (the tokens the book itself is built
from), and rewrites the MyST-only parts (directives, roles, targets) into plain Markdown
with absolute links to the published site. Only the directives and roles the book uses
have a plain form; any other stops the build with the file and line
(:class:`UnsupportedSyntax`), instead of leaking MyST into a learner's notebook.

A learner's notebook differs from the page in three ways:

* the book's hidden cells (tagged ``remove-cell``: glue and checks of the prose's claims)
  are left out; the tests that run the notebooks put them back (``checks=True``);
* every exercise is *try first*: after the question comes an attempt cell (tagged
  ``exercise``) with the names to fill in and ``...`` where the learner writes (a Markdown
  answer cell for text exercises); cells tagged ``answer-check`` in the solution move
  next to the attempt, so the learner gets feedback without the answer;
* worked solutions are hidden until asked for: code cells tagged ``solution`` with
  ``metadata.jupyter.source_hidden`` (JupyterLab, the hub) and Colab's form view
  (``cellView: form`` and a ``#@title`` first line); text solutions stay in ``<details>``.

A setup cell comes first, and Colab's GPU metadata is set when the chapter's front
matter asks for it (``heicadlearn: {accelerator: GPU}``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import nbformat

__all__ = [
    "LinkContext",
    "UnsupportedSyntax",
    "chapter_to_notebook",
    "myst_to_markdown",
    "scaffold",
    "setup_cell_source",
    "wants_gpu",
]

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
DIRECTIVES = {
    *ADMONITIONS,
    "admonition",
    "exercise",
    "solution",
    "solution-start",
    "solution-end",
    "math",
    "code-block",
    "code",
    "figure",
    "image",
    "bibliography",
    "epigraph",
}
ROLES = {
    "cite",
    "cite:p",
    "cite:t",
    "doc",
    "ref",
    "numref",
    "eq",
    "download",
    "math",
    "glue",
    "glue:",
    "glue:text",
    "term",
    "abbr",
    "sub",
    "sup",
    "kbd",
    "file",
    "command",
    "code",
    "guilabel",
}
SOLUTION_TITLE = "#@title Solution (double-click to show)"
ANSWER_CELL = "**Your answer:** *(double-click this cell, write your answer here, then run it)*"


class UnsupportedSyntax(ValueError):
    """MyST syntax that has no plain-Markdown form in a launch notebook."""


@dataclass
class LinkContext:
    """What the converter needs to turn cross-references into absolute links."""

    site_url: str  # e.g. "https://joanagrah.github.io/HeiCADLearn/"
    docname: str  # e.g. "book/backprop"
    labels: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)  # label -> (docname, anchor, title)
    docs: Mapping[str, str] = field(default_factory=dict)  # docname -> title
    citations: Mapping[str, str] = field(default_factory=dict)  # bib key -> "Author et al. (2017)"
    source_url: str = ""  # raw files of the repository at the book's commit, e.g. ".../raw/<sha>/"
    glue: Mapping[str, str] = field(default_factory=dict)  # glue key -> its text/plain value in the book's run
    source_path: str = ""  # the chapter's file, for error messages

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

    def where(self, line: int) -> str:
        return f"{self.source_path or self.docname + '.md'}:{line}"


# --- Markdown: tokens of myst-parser -------------------------------------------------------


def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath", "substitution"})
    return create_md_parser(config, RendererHTML)


_PARSER = None
_TEXT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")


def _tokens(text: str):
    global _PARSER
    if _PARSER is None:
        _PARSER = _parser()
    return _PARSER.parse(text)


@dataclass
class Segment:
    """A piece of a converted Markdown cell: plain Markdown, or an exercise/solution boundary."""

    kind: str  # "markdown", "exercise", "solution", "solution-start", "solution-end"
    text: str = ""


def _directive_parts(info: str, content: str) -> tuple[str, str, dict[str, str], str, int]:
    """(name, argument, options, body, number of lines before the body) of a directive fence."""
    name, _, arg = info.strip()[1:].partition("}")
    lines = content.splitlines()
    options: dict[str, str] = {}
    skip = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
        for raw in lines[1:end]:
            key, _, value = raw.partition(":")
            options[key.strip()] = value.strip()
        skip = end + 1
    else:
        while skip < len(lines) and _OPTION.match(lines[skip].strip()):
            match = _OPTION.match(lines[skip].strip())
            options[match.group("key")] = match.group("value")
            skip += 1
    return name.strip(), arg.strip(), options, "\n".join(lines[skip:]), skip


def _quote(text: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in text.splitlines())


def _format_glue(value: str, spec: str) -> str:
    from myst_nb.core.variables import format_plain_text

    return format_plain_text(value, spec or "s")


def _convert_role(name: str, content: str, ctx: LinkContext, line: int) -> str:
    if name not in ROLES:
        raise UnsupportedSyntax(
            f"{ctx.where(line)}: the role {{{name}}} has no plain-Markdown form for the launch notebooks "
            f"(supported: {', '.join(sorted(ROLES))})"
        )
    explicit = _TEXT_TARGET.match(content)
    text, target = (explicit.group("text"), explicit.group("target")) if explicit else (None, content)
    if name.startswith("cite"):
        keys = [k.strip() for k in target.split(",")]
        shown = "; ".join(ctx.citations.get(k, k) for k in keys)
        return f"[{shown}]({ctx.page('book/references')})"
    if name in ("ref", "numref", "eq"):
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
    if name.startswith("glue"):
        key, _, spec = content.partition(":")
        if key not in ctx.glue:
            raise UnsupportedSyntax(f"{ctx.where(line)}: glue key {key!r} has no value in the book's run")
        return _format_glue(ctx.glue[key], spec)
    if name in ("file", "command", "code", "kbd"):
        return f"`{text or target}`"
    return text or target


def _replace_roles(block: str, roles: list, ctx: LinkContext, line: int) -> str:
    out, pos = [], 0
    for role in roles:
        name, content = role.meta.get("name", ""), role.content
        for ticks in ("`", "``"):
            raw = f"{{{name}}}{ticks}{content}{ticks}"
            found = block.find(raw, pos)
            if found != -1:
                break
        if found == -1:
            raise UnsupportedSyntax(f"{ctx.where(line)}: could not find the role {{{name}}} in its paragraph")
        out.append(block[pos:found] + _convert_role(name, content, ctx, line))
        pos = found + len(raw)
    return "".join(out) + block[pos:]


def _roles_in(tokens) -> list:
    found = []
    for tok in tokens:
        for child in tok.children or []:
            if child.type == "myst_role":
                found.append(child)
    return found


def convert_markdown(text: str, ctx: LinkContext, first_line: int = 1) -> list[Segment]:
    """Convert one Markdown cell into segments of plain Markdown and exercise boundaries."""
    tokens = _tokens(text)
    lines = text.splitlines()
    segments: list[Segment] = []

    def add(kind: str, body: str) -> None:
        if kind == "markdown" and segments and segments[-1].kind == "markdown":
            segments[-1].text += "\n\n" + body
        elif body.strip() or kind != "markdown":
            segments.append(Segment(kind, body))

    blocks = [i for i, tok in enumerate(tokens) if tok.level == 0 and tok.map is not None]
    for n, index in enumerate(blocks):
        tok = tokens[index]
        start, end = tok.map
        line = first_line + start
        inner = tokens[index : blocks[n + 1] if n + 1 < len(blocks) else len(tokens)]
        if tok.type in ("myst_target", "myst_line_comment", "myst_block_break", "front_matter"):
            continue
        if tok.type in ("fence", "colon_fence") and tok.info.strip().startswith("{"):
            name, arg, options, body, skip = _directive_parts(tok.info, tok.content)
            if name == "slide":  # lecture slides only (slides.py): not part of the learner's notebook
                continue
            body_line = line + 1 + skip
            kind, converted = _convert_directive(name, arg, options, body, ctx, line, body_line)
            add(kind, converted)
            continue
        if tok.type in ("fence", "code_block"):
            add("markdown", "\n".join(lines[start:end]))
            continue
        if tok.type in ("math_block", "math_block_label", "amsmath"):
            add("markdown", f"$$\n{tok.content.strip()}\n$$")
            continue
        add("markdown", _replace_roles("\n".join(lines[start:end]), _roles_in(inner), ctx, line))
    return segments


def _join(segments: list[Segment]) -> str:
    return "\n\n".join(s.text for s in segments if s.text.strip())


def _convert_directive(name, arg, options, body, ctx, line, body_line) -> tuple[str, str]:
    if name not in DIRECTIVES:
        raise UnsupportedSyntax(
            f"{ctx.where(line)}: the directive {{{name}}} has no plain-Markdown form for the launch notebooks "
            f"(supported: {', '.join(sorted(DIRECTIVES))})"
        )

    def inner() -> str:
        return _join(convert_markdown(body, ctx, body_line))

    def title(text: str) -> str:
        return _join(convert_markdown(text, ctx, line)) if text else ""

    if name in ADMONITIONS:
        return "markdown", _quote(f"**{ADMONITIONS[name]}**\n\n{inner()}")
    if name in ("admonition", "epigraph"):
        return "markdown", _quote((f"**{title(arg)}**\n\n" if arg else "") + inner())
    if name == "exercise":
        heading = f"Exercise: {title(arg)}" if arg else "Exercise"
        return "exercise", _quote(f"**{heading}**\n\n{inner()}")
    if name == "solution":
        return "solution", f"<details>\n<summary>Solution</summary>\n\n{inner()}\n\n</details>"
    if name in ("solution-start", "solution-end"):
        return name, ""
    if name == "math":
        return "markdown", f"$$\n{body.strip()}\n$$"
    if name in ("code-block", "code"):
        return "markdown", f"```{arg}\n{body}\n```"
    if name in ("figure", "image"):
        caption = f"\n\n*{inner()}*" if body.strip() else ""
        return "markdown", f"![{options.get('alt', 'figure')}]({ctx.file_url(arg)}){caption}"
    # bibliography
    return "markdown", f"See the [references]({ctx.page('book/references')}) on the published site."


def myst_to_markdown(text: str, ctx: LinkContext, first_line: int = 1) -> str:
    """Rewrite MyST-only syntax in a Markdown cell into plain (Jupyter) Markdown."""
    return re.sub(r"\n{3,}", "\n\n", _join(convert_markdown(text, ctx, first_line))).strip("\n")


# --- exercises: scaffolds and hidden solutions ----------------------------------------------


def _names(target: ast.expr, source: str) -> str:
    return ast.get_source_segment(source, target) or ""


def _plain_target(target: ast.expr) -> bool:
    """A name, or a flat tuple of names (no ``x[i]``, no ``obj.attr``, no ``*rest``, no nesting)."""
    if isinstance(target, ast.Tuple | ast.List):
        return all(isinstance(e, ast.Name) for e in target.elts)
    return isinstance(target, ast.Name)


def scaffold(sources: list[str]) -> str:
    """An attempt cell for the solution code ``sources``: the names to fill in, ``...`` for the rest.

    Imports are kept; each assignment becomes ``name = ...``, unless the solution also
    reads that name before it writes it (``x = x / 255``), where a ``...`` for it would break
    the cells that follow; functions keep their signature and docstring; a loop or other
    block becomes a ``...`` line of its own. Nothing of the solution's right-hand sides appears.
    """
    out = [
        "# Your turn: replace each ... with your code, then run the cell.",
        "# (The worked solution is hidden below.)",
    ]
    written: set[str] = set()
    inputs: set[str] = set()
    for source in sources:
        clean = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(clean)
        except SyntaxError:
            continue
        for node in tree.body:
            loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            inputs |= loaded - written
            if isinstance(node, ast.Import | ast.ImportFrom):
                out.append(ast.get_source_segment(clean, node) or "")
            elif isinstance(node, ast.FunctionDef):
                args = ast.unparse(node.args)
                out.append(f"def {node.name}({args}):")
                doc = ast.get_docstring(node)
                if doc:
                    out.append(f'    """{doc}"""')
                out.append("    ...")
                written.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                stored = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                text = " = ".join(_names(t, clean) for t in targets)
                if stored & inputs or isinstance(node, ast.AugAssign):
                    line = f"# {text} = ...  (update {text})"
                elif not all(_plain_target(t) for t in targets):
                    line = f"# {text} = ...  (fill in, then remove the #)"
                else:
                    # One ... per name, so that the cell runs before it is filled in.
                    width = max(len(t.elts) if isinstance(t, ast.Tuple | ast.List) else 1 for t in targets)
                    line = f"{text} = " + ", ".join(["..."] * width)
                if line not in out:
                    out.append(line)
                written |= stored
            elif isinstance(node, ast.For | ast.While | ast.If | ast.With | ast.Try):
                # The work happens in a block (a loop over doses, say): leave room for it.
                line = "...  # your code here"
                if out[-1] != line:
                    out.append(line)
    if not any(line.strip().endswith("...") and not line.lstrip().startswith("#") for line in out):
        out.append("...  # your code here")
    return "\n".join(out)


def _solution_cell(source: str, tags: list[str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(f"{SOLUTION_TITLE}\n{source}")
    cell.metadata["tags"] = [*tags, "solution"]
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["cellView"] = "form"
    return cell


# --- the notebook --------------------------------------------------------------------------


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


def _first_line(chapter: list[str], start: int, cell_source: str) -> int:
    """1-based line of the chapter where a cell's text begins (the reader drops leading blank lines)."""
    first = next((line for line in cell_source.splitlines() if line.strip()), None)
    for number in range(start, len(chapter)):
        if first is None or chapter[number] == first:
            return number + 1
    return start + 1


def _code_cell(source: str, tags: list[str], index: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    cell.metadata["heicadlearn"] = {"source_cell": index}
    return cell


def chapter_to_notebook(
    text: str,
    ctx: LinkContext,
    package_url: str,
    read: Callable[..., nbformat.NotebookNode] | None = None,
    checks: bool = False,
) -> nbformat.NotebookNode:
    """Convert a MyST Markdown chapter's text into a learner's notebook without outputs.

    ``checks=True`` keeps the book's hidden cells, where they stand in the chapter (for
    the tests that run the notebooks and compare them with the book).
    """
    if read is None:
        from myst_nb.core.read import read_myst_markdown_notebook as read
    try:
        source = read(text, add_source_map=True)
    except TypeError:  # a reader without source maps
        source = read(text)
    lines = source.metadata.pop("source_map", None) or [0] * len(source.cells)
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
        f"is at {ctx.page(ctx.docname)}. Exercises come with a cell for your attempt; their worked "
        "solutions are hidden below it (double-click a solution cell to show it).*"
    )
    if gpu:
        intro += (
            "\n\n*This chapter trains neural networks: on Colab, choose **Runtime → Change runtime "
            "type → T4 GPU** before running it (it also runs on a CPU, only slower).*"
        )
    cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_code_cell(setup_cell_source(package_url))]

    solution: list | None = None  # cells of an open solution-start ... solution-end block

    def close_solution() -> None:
        code = [c for kind, c in solution if kind == "code" and "answer-check" not in c.metadata.get("tags", [])]
        answer_checks = [c for kind, c in solution if kind == "code" and "answer-check" in c.metadata.get("tags", [])]
        attempt = nbformat.v4.new_code_cell(scaffold([c.source for c in code]))
        attempt.metadata["tags"] = ["exercise"]
        cells.append(attempt)
        cells.extend(answer_checks)
        for kind, cell in solution:
            if kind == "markdown":
                cells.append(
                    nbformat.v4.new_markdown_cell(f"<details>\n<summary>Solution</summary>\n\n{cell}\n\n</details>")
                )
            elif cell not in answer_checks:
                hidden = _solution_cell(cell.source, cell.metadata.get("tags", []))
                hidden.metadata["heicadlearn"] = cell.metadata["heicadlearn"]
                cells.append(hidden)

    chapter_lines = text.splitlines()
    for index, cell in enumerate(source.cells):
        first_line = _first_line(chapter_lines, lines[index] if index < len(lines) else 0, cell.source)
        if cell.cell_type == "markdown":
            for segment in convert_markdown(cell.source, ctx, first_line):
                if segment.kind == "solution-start":
                    solution = []
                elif segment.kind == "solution-end":
                    if solution is not None:
                        close_solution()
                    solution = None
                elif solution is not None:
                    solution.append(("markdown", segment.text))
                elif segment.kind == "solution":
                    cells.append(nbformat.v4.new_markdown_cell(ANSWER_CELL))
                    cells.append(nbformat.v4.new_markdown_cell(segment.text))
                elif segment.text.strip():
                    # (no trailing blank line where a target such as "(tab-x)=" closed the cell)
                    cells.append(nbformat.v4.new_markdown_cell(segment.text.rstrip("\n")))
        elif cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            if "remove-cell" in tags and not checks:
                continue  # the book's glue and checks: not for learners
            new = _code_cell(cell.source, tags, index)
            if solution is not None:
                solution.append(("code", new))
            else:
                cells.append(new)
    if solution is not None:
        raise UnsupportedSyntax(f"{ctx.where(0)}: a solution-start has no solution-end")
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb.cells = cells
    return nb
