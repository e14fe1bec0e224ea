"""heicadlearn_book.notebooks (the book extension in book/_ext): MyST chapters become plain, launchable notebooks."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
from heicadlearn_book import launch_urls
from heicadlearn_book.notebooks import LinkContext, UnsupportedSyntax, chapter_to_notebook, myst_to_markdown, scaffold

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
    assert len(code) == 2, "the book's hidden checks (remove-cell) are not in a learner's notebook"
    assert not any("assert x == 1" in c.source for c in code)
    with_checks = chapter_to_notebook(CHAPTER, CTX, "pkg", checks=True)
    check = [c for c in with_checks.cells if c.cell_type == "code" and "assert x == 1" in c.source]
    assert len(check) == 1 and check[0].metadata["tags"] == ["remove-cell"]
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


EXERCISES = """---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Exercises

```{exercise} Scale the image
:label: ex-scale
Divide the pixel values by 255 and report the mean of {glue:text}`n-pixels:,.0f` pixels.
```

```{solution-start} ex-scale
:class: dropdown
```

We divide, then average.

```{code-cell} ipython3
import numpy as np

image = image / 255
mean = float(np.mean(image))
print(f"mean {mean:.3f}")
```

```{code-cell} ipython3
:tags: [answer-check]
from heicadlearn.check import check_close
check_close(mean, 0.5, name="mean")
```

```{solution-end}
```

```{exercise} Explain
:label: ex-text
Why does the loss go down?
```

```{solution} ex-text
:class: dropdown
Because of gradient descent.
```
"""


def test_exercises_are_try_first_with_hidden_solutions():
    ctx = LinkContext(site_url="https://s/", docname="book/x", glue={"n-pixels": "784.0"})
    nb = chapter_to_notebook(EXERCISES, ctx, "pkg")
    nbformat.validate(nb)
    kinds = [(c.cell_type, c.metadata.get("tags", [])) for c in nb.cells[2:]]
    question = next(i for i, c in enumerate(nb.cells) if "Exercise: Scale the image" in c.source)
    attempt, check, explanation, solution = nb.cells[question + 1 : question + 5]
    assert attempt.metadata["tags"] == ["exercise"]
    assert "\nimage = ..." not in attempt.source, "image is read by the solution before it is written"
    assert "# image = ...  (update image)" in attempt.source and "mean = ..." in attempt.source
    assert "import numpy as np" in attempt.source
    assert "/ 255" not in attempt.source and "np.mean" not in attempt.source, "the scaffold gives nothing away"
    assert check.metadata["tags"] == ["answer-check"] and "check_close" in check.source
    assert explanation.cell_type == "markdown" and explanation.source.startswith("<details>")
    assert solution.metadata["tags"] == ["solution"]
    assert solution.metadata["jupyter"] == {"source_hidden": True} and solution.metadata["cellView"] == "form"
    assert solution.source.startswith("#@title Solution (double-click to show)\n") and "/ 255" in solution.source
    assert "784 pixels" in nb.cells[question].source, "glued numbers show the book's value"
    text = next(i for i, c in enumerate(nb.cells) if "Exercise: Explain" in c.source)
    assert nb.cells[text + 1].source.startswith("**Your answer:**")
    assert nb.cells[text + 2].source.startswith("<details>") and "gradient descent" in nb.cells[text + 2].source
    assert ("code", ["solution"]) in kinds and not MYST_SYNTAX.search("\n".join(c.source for c in nb.cells))


def test_scaffold_keeps_names_and_signatures_only():
    out = scaffold(
        [
            'def f(x, k=2):\n    """Scale x."""\n    return k * x\n',
            "w, b = fit(x)\n(lo, hi), *_ = g(w)\nmask = fit(x)\nmask[0] = 1\nprint(w)",
        ]
    )
    assert 'def f(x, k=2):\n    """Scale x."""\n    ...' in out and "\nw, b = ..., ...\n" in out
    assert "# (lo, hi), *_ = ..." in out and "# mask[0] = ..." in out and "\nmask = ...\n" in out
    assert "return k * x" not in out and "fit(" not in out and "print" not in out
    exec(compile(out, "attempt", "exec"), {"fit": None})  # the unfilled attempt cell runs


def test_scaffold_leaves_room_for_a_loop():
    out = scaffold(["by_dose = {}\nfor n in (5, 20):\n    by_dose[n] = n * 2\n    print(n)\n"])
    assert out.splitlines()[-2:] == ["by_dose = ...", "...  # your code here"]
    assert "for n" not in out and "print" not in out
    exec(compile(out, "attempt", "exec"), {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Intro.\n\n```{sidebar} Extra\nside\n```\n", r"chapter\.md:7: the directive \{sidebar\}"),
        ("One.\n\nTwo {eval}`1+1`.\n", r"chapter\.md:7: the role \{eval\}"),
        ("Value {glue:text}`missing:.2f`.\n", r"chapter\.md:5: glue key 'missing'"),
    ],
)
def test_unsupported_syntax_names_the_file_and_line(text, message):
    ctx = LinkContext(site_url="https://s/", docname="book/x", source_path="book/chapter.md")
    chapter = "---\nkernelspec:\n  name: python3\n---\n" + text
    with pytest.raises(UnsupportedSyntax, match=message):
        chapter_to_notebook(chapter, ctx, "pkg")
