"""heicadlearn_book.notebooks (the book extension in book/_ext): MyST chapters become plain, launchable notebooks."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
from heicadlearn_book import launch_urls
from heicadlearn_book.notebooks import LinkContext, chapter_to_notebook, myst_to_markdown

from .conftest import MYST_SYNTAX

# What MyST-only syntax looks like: directive fences, roles, targets.

CTX = LinkContext(
    site_url="https://example.org/book/",
    docname="book/backpropagation",
    labels={"fig-loss": ("book/regression_to_nn", "fig-loss", "Loss curve")},
    docs={"book/welcome": "Welcome"},
    citations={"rajpurkar2017chexnet": "Rajpurkar et al. (2017)"},
)

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
heicadlearn:
  accelerator: GPU
---

(sec-intro)=
# Title

% a comment for authors
Read {doc}`welcome` and {cite}`rajpurkar2017chexnet`, see {numref}`fig-loss`, and {math}`x^2`.

```{admonition} At a glance
:class: tip
- one
```

```{code-cell} ipython3
x = 1
```

```{exercise} Try it
:label: ex-1
Do {ref}`this <fig-loss>`.
```

```{solution} ex-1
:class: dropdown
Answer with code:

    print(1)
```

```{math}
:label: eq-1
y = w x + b
```

```{code-cell} ipython3
:tags: [remove-cell]
assert x == 1
```

```python
# a plain code block {cite}`not_a_role_inside_code`
```
"""


def test_roles_become_links():
    md = myst_to_markdown("See {doc}`welcome`, {cite}`rajpurkar2017chexnet` and {numref}`fig-loss`.", CTX)
    assert md == (
        "See [Welcome](https://example.org/book/book/welcome.html), "
        "[Rajpurkar et al. (2017)](https://example.org/book/book/references.html) and "
        "[Loss curve](https://example.org/book/book/regression_to_nn.html#fig-loss)."
    )


def test_explicit_link_text_and_relative_doc():
    ctx = LinkContext(site_url="https://s/", docname="book/sub/page")
    assert myst_to_markdown("{doc}`Back <../welcome>`", ctx) == "[Back](https://s/book/welcome.html)"


def test_downloads_and_images_point_at_the_repository_files():
    ctx = LinkContext(site_url="https://s/", docname="book/group_work", source_url="https://github.com/o/r/raw/abc/")
    md = myst_to_markdown("Get {download}`the sheet <worksheets/sheet.csv>`.", ctx)
    assert md == "Get [the sheet](https://github.com/o/r/raw/abc/book/worksheets/sheet.csv)."


def test_directives_become_markdown():
    md = myst_to_markdown(
        "```{note}\nCareful {math}`a`.\n```\n\n```{solution} ex-1\n:class: dropdown\nIt is 2.\n```", CTX
    )
    assert md.startswith("> **Note**")
    assert "> Careful $a$." in md
    assert "<details>\n<summary>Solution</summary>\n\nIt is 2.\n\n</details>" in md
    assert not MYST_SYNTAX.search(md)


def test_nested_directives_and_plain_code_blocks():
    text = "````{admonition} Outer\n```{tip}\ninner\n```\n````\n\n```python\n{cite}`x`\n```"
    md = myst_to_markdown(text, CTX)
    assert "> **Outer**" in md and "> > **Tip**" in md
    assert "```python\n{cite}`x`\n```" in md, "code blocks are left as they are"


def test_chapter_to_notebook():
    nb = chapter_to_notebook(CHAPTER, CTX, "git+https://github.com/o/r@abc123#subdirectory=code")
    nbformat.validate(nb)
    assert nb.metadata["accelerator"] == "GPU" and nb.metadata["colab"]["gpuType"] == "T4"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "heicadlearn @ git+https://github.com/o/r@abc123#subdirectory=code" in code[0].source
    assert 'find_spec("heicadlearn") is None' in code[0].source
    assert code[1].source == "x = 1"
    check = code[2]
    assert check.source.endswith("assert x == 1") and check.source.startswith("# Check of the numbers")
    assert check.metadata["tags"] == ["remove-cell", "raises-exception"]
    assert check.metadata["heicadlearn"] == {"check": True}
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    prose = re.sub(r"```python.*?```", "", markdown, flags=re.S)
    assert not MYST_SYNTAX.search(prose), MYST_SYNTAX.search(prose)
    assert "a comment for authors" not in markdown
    assert "$$\ny = w x + b\n$$" in markdown
    assert "Runtime → Change runtime type" in markdown


def test_cpu_chapter_has_no_gpu_metadata():
    nb = chapter_to_notebook(CHAPTER.replace("heicadlearn:\n  accelerator: GPU\n", ""), CTX, "pkg")
    assert "accelerator" not in nb.metadata and "colab" not in nb.metadata


class _Config:
    heicadlearn_repository_url = "https://github.com/JoanaGrah/HeiCADLearn"
    heicadlearn_notebook_branch = "notebooks"
    heicadlearn_jupyterhub_url = "https://jupyter.hpc.rz.uni-duesseldorf.de"


def test_launch_urls_point_at_the_notebook():
    urls = launch_urls(_Config, "_notebooks/book/chexnet.ipynb")
    assert urls["colab"] == (
        "https://colab.research.google.com/github/JoanaGrah/HeiCADLearn/blob/notebooks/_notebooks/book/chexnet.ipynb"
    )
    hub = urlparse(urls["jupyterhub"])
    assert (hub.scheme, hub.netloc, hub.path) == (
        "https",
        "jupyter.hpc.rz.uni-duesseldorf.de",
        "/hub/user-redirect/git-pull",
    )
    query = parse_qs(hub.query)
    assert query == {
        "repo": ["https://github.com/JoanaGrah/HeiCADLearn"],
        "branch": ["notebooks"],
        "urlpath": ["lab/tree/HeiCADLearn/_notebooks/book/chexnet.ipynb"],
    }
    assert "/" not in hub.query.split("urlpath=")[1], "the query is fully URL-encoded"


def test_non_github_repository_is_rejected():
    from sphinx.errors import ExtensionError

    class Bad(_Config):
        heicadlearn_repository_url = "https://gitlab.com/x"

    with pytest.raises(ExtensionError, match="GitHub"):
        launch_urls(Bad, "_notebooks/a.ipynb")
