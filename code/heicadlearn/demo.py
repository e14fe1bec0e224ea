"""Widget demos written once, live in Jupyter and still interactive on the published site.

Introduced in the chapter *Welcome and AI in practice* (``book/welcome.md``).

A demo is a Python function that draws a matplotlib figure (and/or prints or
returns a short result) for some keyword arguments, plus one control per argument::

    from heicadlearn.demo import demo, slider, dropdown

    def show(threshold, cmap):
        fig, ax = plt.subplots()
        ax.imshow(image > threshold, cmap=cmap)

    demo(show, threshold=slider("Threshold", range(0, 256, 32)),
         cmap=dropdown("Colour map", ["gray", "magma"]),
         alt="Chest X-ray with pixels above {threshold} in colour map {cmap}")

* In Jupyter (hub, Colab, laptop) this shows ``ipywidgets`` controls and redraws live.
* When the book is built (the book's Sphinx extension sets ``HEICADLEARN_STATIC_DEMOS=1``)
  the function is run once for every combination of control values, and the page gets
  a small self-contained HTML control that swaps between those precomputed outputs:
  interactive with no kernel and no network. Grids are limited to :data:`MAX_FRAMES`
  settings and :data:`MAX_BYTES` of embedded output; larger demos raise
  :class:`DemoTooLargeError` so the build stops with a clear message.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MAX_FRAMES",
    "STATIC_ENV",
    "Control",
    "DemoTooLargeError",
    "StaticDemo",
    "demo",
    "dropdown",
    "play",
    "read_html",
    "render_html",
    "slider",
    "static_mode",
    "toggle",
]

STATIC_ENV = "HEICADLEARN_STATIC_DEMOS"
PNG_URL = "data:image/png;base64,"  # how a frame's image starts until the book moves it into a file
MAX_FRAMES = 60
MAX_BYTES = 2_000_000


class DemoTooLargeError(ValueError):
    """A demo's grid of settings, or its precomputed output, is too large for a web page."""


@dataclass(frozen=True)
class Control:
    """One control of a demo: a label, the (shown text, value) options, a kind and a default."""

    label: str
    options: tuple[tuple[str, Any], ...]
    kind: str  # "slider", "play" (a slider that can play itself), "dropdown" or "toggle"
    default: int = 0
    interval: int = 500  # milliseconds per step when a "play" control plays

    def __post_init__(self):
        if not self.options:
            raise ValueError(f"control {self.label!r} needs at least one option")
        if not 0 <= self.default < len(self.options):
            raise ValueError(f"control {self.label!r}: default index out of range")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _default_index(values: list, default: Any) -> int:
    if default is None:
        return (len(values) - 1) // 2
    if default not in values:
        raise ValueError(f"default {default!r} is not one of the values {values!r}")
    return values.index(default)


def slider(label: str, values: Iterable[Any], default: Any = None) -> Control:
    """A slider over an explicit, finite list of values (the grid the site precomputes)."""
    values = list(values)
    return Control(label, tuple((_fmt(v), v) for v in values), "slider", _default_index(values, default))


def play(label: str, values: Iterable[Any], default: Any = None, interval: int = 500) -> Control:
    """A slider with a Play/Pause button that steps through ``values``: an animation with controls.

    Nothing moves until the reader presses Play; each frame keeps its own alt text, so the
    animation reads as a sequence of described pictures. Starts at the first value unless
    ``default`` says otherwise.
    """
    values = list(values)
    index = 0 if default is None else _default_index(values, default)
    if interval < 50:
        raise ValueError(f"play control {label!r}: interval is in milliseconds, at least 50, not {interval}")
    return Control(label, tuple((_fmt(v), v) for v in values), "play", index, interval)


def dropdown(label: str, options: Iterable[Any] | Mapping[str, Any], default: Any = None) -> Control:
    """A drop-down menu; ``options`` is a list of values or a mapping shown text -> value."""
    pairs = list(options.items()) if isinstance(options, Mapping) else [(_fmt(v), v) for v in options]
    values = [v for _, v in pairs]
    index = 0 if default is None else _default_index(values, default)
    return Control(label, tuple(pairs), "dropdown", index)


def toggle(label: str, default: bool = False) -> Control:
    """An on/off checkbox."""
    return Control(label, (("off", False), ("on", True)), "toggle", int(bool(default)))


def static_mode() -> bool:
    """True while the book is being built (precompute), False in an interactive session."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0", "false", "False")


# ----------------------------------------------------------------------------- rendering


def _run_once(func: Callable, kwargs: dict, dpi: int) -> dict:
    """Call ``func`` and capture its figure (PNG), printed text and returned value."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = func(**kwargs)
    new = [n for n in plt.get_fignums() if n not in before]
    frame: dict[str, str] = {}
    if len(new) > 1:
        for n in new:
            plt.close(n)
        raise ValueError("a demo function must draw at most one figure (use subplots for panels)")
    if new:
        fig = plt.figure(new[0])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        frame["img"] = PNG_URL + base64.b64encode(buf.getvalue()).decode("ascii")
    text = out.getvalue()
    if result is not None:
        if hasattr(result, "_repr_html_"):
            frame["html"] = result._repr_html_()
        else:
            text += str(result)
    if text:
        frame["text"] = text
    return frame


def _alt_for(alt: str | Callable, kwargs: dict) -> str:
    if callable(alt):
        return str(alt(**kwargs))
    shown = {k: _fmt(v) for k, v in kwargs.items()}
    return alt.format(**shown)


class StaticDemo:
    """A demo precomputed for every combination of its controls, shown as HTML."""

    _ids: dict[str, int] = {}

    def __init__(self, func: Callable, controls: dict[str, Control], alt, title: str, dpi: int):
        sizes = [len(c.options) for c in controls.values()]
        n = math.prod(sizes)
        if n > MAX_FRAMES:
            raise DemoTooLargeError(
                f"Demo {title!r} has {n} settings ({' x '.join(map(str, sizes))}), more than "
                f"the {MAX_FRAMES} a published page may embed. Use fewer values per control, "
                "or split it into two demos."
            )
        self.title = title
        self.controls = controls
        self.frames = []
        for combo in itertools.product(*(range(s) for s in sizes)):
            kwargs = {name: c.options[i][1] for (name, c), i in zip(controls.items(), combo, strict=True)}
            frame = _run_once(func, kwargs, dpi)
            if "img" in frame:
                frame["alt"] = _alt_for(alt, kwargs)
            self.frames.append(frame)
        self.nbytes = sum(len(v) for f in self.frames for v in f.values())
        if self.nbytes > MAX_BYTES:
            raise DemoTooLargeError(
                f"Demo {title!r} embeds {self.nbytes / 1e6:.1f} MB of output for {n} settings, "
                f"more than the {MAX_BYTES / 1e6:.0f} MB allowed per demo. Lower its dpi, make "
                "the figure smaller, or use fewer values per control."
            )
        digest = hashlib.sha1(title.encode()).hexdigest()[:8]
        count = StaticDemo._ids.get(digest, 0)
        StaticDemo._ids[digest] = count + 1
        self.id = f"hcl-demo-{digest}" + (f"-{count}" if count else "")

    def __repr__(self) -> str:
        return f"<interactive demo {self.title!r}: {len(self.frames)} precomputed settings>"

    def spec(self) -> dict:
        """Everything the page shows, as JSON-ready data (see :func:`render_html`)."""
        return {
            "title": self.title,
            "controls": [
                {
                    "label": c.label,
                    "kind": c.kind,
                    "options": [o[0] for o in c.options],
                    "default": c.default,
                    **({"interval": c.interval} if c.kind == "play" else {}),
                }
                for c in self.controls.values()
            ],
            "sizes": [len(c.options) for c in self.controls.values()],
            "frames": self.frames,
        }

    def _repr_html_(self) -> str:
        return render_html(self.spec(), self.id)


def _control_html(cid: str, control: dict) -> str:
    label = html.escape(control["label"])
    options, default = control["options"], control["default"]
    if control["kind"] in ("slider", "play"):
        return (
            f'<label for="{cid}">{label}</label>'
            f'<input type="range" id="{cid}" min="0" max="{len(options) - 1}" step="1" '
            f'value="{default}" data-labels="{html.escape(json.dumps(options))}">'
            f'<output for="{cid}" aria-live="polite">{html.escape(options[default])}</output>'
            + (
                f'<button type="button" class="hcl-demo-play" aria-controls="{cid}" '
                f'data-interval="{control["interval"]}">Play</button>'
                if control["kind"] == "play"
                else ""
            )
        )
    if control["kind"] == "toggle":
        checked = " checked" if default else ""
        return f'<input type="checkbox" id="{cid}"{checked}><label for="{cid}">{label}</label>'
    items = "".join(
        f'<option value="{i}"{" selected" if i == default else ""}>{html.escape(text)}</option>'
        for i, text in enumerate(options)
    )
    return f'<label for="{cid}">{label}</label><select id="{cid}">{items}</select>'


def render_html(spec: dict, demo_id: str) -> str:
    """The HTML of a precomputed demo: controls, the default setting's output, all settings' data.

    A frame's ``img`` is the URL of its image: a ``data:`` URL of the PNG, as the kernel
    makes it, or a file (then with ``width`` and ``height`` in pixels), which the page only
    loads when a reader first picks that setting. The book's extension moves the images
    into files (:func:`read_html` gives it the spec back).
    """
    start = 0
    for c in spec["controls"]:
        start = start * len(c["options"]) + c["default"]
    frames = spec["frames"]
    first = frames[start]
    controls = "".join(
        f'<div class="hcl-demo-control">{_control_html(f"{demo_id}-c{i}", c)}</div>'
        for i, c in enumerate(spec["controls"])
    )
    img = ""
    if "img" in first:
        size = f' width="{first["width"]}" height="{first["height"]}"' if "width" in first else ""
        src, alt = html.escape(first["img"]), html.escape(first["alt"])
        img = f'<img class="hcl-demo-img" src="{src}"{size} alt="{alt}">'
    text = (
        f'<pre class="hcl-demo-text">{html.escape(first.get("text", ""))}</pre>'
        if any("text" in f for f in frames)
        else ""
    )
    table = f'<div class="hcl-demo-html">{first.get("html", "")}</div>' if any("html" in f for f in frames) else ""
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div class="hcl-demo" id="{demo_id}" role="group" '
        f'aria-label="Interactive demo: {html.escape(spec["title"])}">'
        f'<div class="hcl-demo-controls">{controls}</div>'
        f'<div class="hcl-demo-output" aria-live="polite">{img}{text}{table}</div>'
        f'<p class="hcl-demo-note">Precomputed when the book was built for {len(frames)} settings; '
        "open this chapter on JupyterHub or Colab (buttons at the top) to run it live.</p>"
        f'<script type="application/json" class="hcl-demo-data">{payload}</script>'
        f"<script>{_DEMO_JS}</script>"
        + (f"<script>{_PLAY_JS}</script>" if any(c["kind"] == "play" for c in spec["controls"]) else "")
        + "</div>"
    )


_ROOT = re.compile(r'\s*<div class="hcl-demo" id="([\w-]+)"')
_PAYLOAD = re.compile(r'<script type="application/json" class="hcl-demo-data">(.*?)</script>', re.S)


def read_html(text: str) -> tuple[dict, str] | None:
    """``(spec, id)`` of the demo whose HTML :func:`render_html` made, or None for any other HTML."""
    root, payload = _ROOT.match(text), _PAYLOAD.search(text)
    if not root or not payload:
        return None
    spec = json.loads(payload.group(1).replace("<\\/", "</"))
    return (spec, root.group(1)) if isinstance(spec, dict) and "controls" in spec else None


# Small, dependency-free control: on every change, compute the frame index from the
# controls (mixed radix, first control most significant) and swap image/text/table.
# An image file is only fetched when its setting is first shown.
_DEMO_JS = """(function(){var s=document.currentScript,r=s.parentNode;
var d=JSON.parse(r.querySelector('.hcl-demo-data').textContent);
var cs=r.querySelectorAll('.hcl-demo-controls input,.hcl-demo-controls select');
function v(c){return c.type==='checkbox'?(c.checked?1:0):parseInt(c.value,10);}
function upd(){var k=0;cs.forEach(function(c,i){k=k*d.sizes[i]+v(c);
if(c.type==='range'){var o=r.querySelector('output[for="'+c.id+'"]');
o.textContent=JSON.parse(c.dataset.labels)[v(c)];}});
var f=d.frames[k],im=r.querySelector('.hcl-demo-img'),t=r.querySelector('.hcl-demo-text'),
h=r.querySelector('.hcl-demo-html');
if(im&&f.img){if(f.width){im.width=f.width;im.height=f.height;}im.src=f.img;im.alt=f.alt;}
if(t){t.textContent=f.text||'';}if(h){h.innerHTML=f.html||'';}}
cs.forEach(function(c){c.addEventListener('input',upd);c.addEventListener('change',upd);});})();"""


# Play/Pause for "play" controls: step the slider on a timer (only after a click), stop at the end.
_PLAY_JS = """(function(){var r=document.currentScript.parentNode;
r.querySelectorAll('.hcl-demo-play').forEach(function(b){
var c=document.getElementById(b.getAttribute('aria-controls')),t=null;
function stop(){clearInterval(t);t=null;b.textContent='Play';}
b.addEventListener('click',function(){if(t){stop();return;}
if(+c.value>=+c.max){c.value=0;c.dispatchEvent(new Event('input'));}b.textContent='Pause';
t=setInterval(function(){if(+c.value>=+c.max){stop();return;}c.value=+c.value+1;
c.dispatchEvent(new Event('input'));},+b.dataset.interval);});});})();"""


def _live(func: Callable, controls: dict[str, Control]):
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    made = {}
    players = []
    for name, c in controls.items():
        if c.kind in ("slider", "play"):
            made[name] = widgets.SelectionSlider(
                options=list(c.options),
                value=c.options[c.default][1],
                description=c.label,
                style={"description_width": "initial"},
                continuous_update=c.kind == "play",
            )
            if c.kind == "play":
                player = widgets.Play(min=0, max=len(c.options) - 1, value=c.default, interval=c.interval)
                widgets.jslink((player, "value"), (made[name], "index"))
                players.append(player)
        elif c.kind == "toggle":
            made[name] = widgets.Checkbox(value=bool(c.default), description=c.label)
        else:
            made[name] = widgets.Dropdown(
                options=list(c.options),
                value=c.options[c.default][1],
                description=c.label,
                style={"description_width": "initial"},
            )

    def draw(**kwargs):
        result = func(**kwargs)
        plt.show()
        if result is not None:
            display(result)

    out = widgets.interactive_output(draw, made)
    return widgets.VBox([widgets.HBox(players + list(made.values())), out])


def demo(
    func: Callable, *, alt: str | Callable[..., str], title: str | None = None, dpi: int = 72, **controls: Control
):
    """Show an interactive demo of ``func`` with one control per keyword argument.

    ``alt`` describes the figure for screen readers; it is formatted with the current
    control values (``"... threshold {threshold}"``) or is a function of them.
    Returns the live widget in Jupyter, or a :class:`StaticDemo` while the book builds.
    """
    if not controls:
        raise ValueError("a demo needs at least one control, e.g. threshold=slider('Threshold', [0, 128, 255])")
    for name, c in controls.items():
        if not isinstance(c, Control):
            raise TypeError(f"control {name!r} must be made with slider(), dropdown() or toggle()")
    title = title or getattr(func, "__name__", "demo").replace("_", " ")
    if static_mode():
        return StaticDemo(func, controls, alt, title, dpi)
    return _live(func, controls)
