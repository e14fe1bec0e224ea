"""heicadlearn.demo: precomputed demos for the site, live ipywidgets in Jupyter."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from heicadlearn import demo as demo_module  # noqa: E402
from heicadlearn.demo import DemoTooLargeError, StaticDemo, demo, dropdown, play, slider, toggle  # noqa: E402


@pytest.fixture
def static(monkeypatch):
    monkeypatch.setenv("HEICADLEARN_STATIC_DEMOS", "1")


@pytest.fixture
def live(monkeypatch):
    monkeypatch.delenv("HEICADLEARN_STATIC_DEMOS", raising=False)


def payload(html: str) -> dict:
    m = re.search(r'<script type="application/json" class="hcl-demo-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def draw_line(slope, color):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope], color=color)


def test_static_demo_precomputes_every_combination(static):
    calls = []

    def f(slope, color):
        calls.append((slope, color))
        draw_line(slope, color)

    d = demo(
        f,
        slope=slider("Slope", [1, 2, 3]),
        color=dropdown("Colour", ["red", "blue"]),
        alt="line of slope {slope} in {color}",
    )
    assert isinstance(d, StaticDemo)
    assert len(calls) == 6 and len(set(calls)) == 6
    data = payload(d._repr_html_())
    assert data["sizes"] == [3, 2]
    images = [f["img"] for f in data["frames"]]
    assert len(set(images)) == 6, "every setting must give a different figure"
    # Frame order is mixed radix, first control most significant.
    assert data["frames"][1]["alt"] == "line of slope 1 in blue"
    assert data["frames"][4]["alt"] == "line of slope 3 in red"
    assert plt.get_fignums() == [], "demo figures must be closed, not shown twice"


def test_static_html_has_labelled_controls_and_note(static):
    d = demo(
        draw_line,
        slope=slider("Slope", [1, 2, 3], default=2),
        color=dropdown("Colour", ["red", "blue"]),
        alt="slope {slope}",
    )
    html = d._repr_html_()
    assert html.count("<label") == 2
    assert 'type="range"' in html and 'max="2"' in html and 'value="1"' in html
    assert "<select" in html and "<option" in html
    assert "Precomputed when the book was built for 6 settings" in html
    assert "JupyterHub or Colab" in html
    # The first image shown is the default setting (slope 2, red).
    first_alt = re.search(r'<img class="hcl-demo-img"[^>]*alt="([^"]*)"', html).group(1)
    assert first_alt == "slope 2"
    assert "http" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html), "no external loads"


def test_static_demo_with_text_and_table(static):
    def f(n, show):
        print(f"n = {n}")
        return pd.DataFrame({"n": [n], "show": [show]})

    html = demo(f, n=slider("n", [1, 2]), show=toggle("Show"), alt="unused")._repr_html_()
    frames = payload(html)["frames"]
    assert [fr["text"] for fr in frames] == ["n = 1\n", "n = 1\n", "n = 2\n", "n = 2\n"]
    assert all("<table" in fr["html"] for fr in frames)
    assert 'type="checkbox"' in html


def test_static_demo_is_deterministic(static):
    a = demo(draw_line, slope=slider("Slope", [1, 2]), color=dropdown("Colour", ["red"]), alt="x", title="same")
    b = demo(draw_line, slope=slider("Slope", [1, 2]), color=dropdown("Colour", ["red"]), alt="x", title="same")
    assert payload(a._repr_html_()) == payload(b._repr_html_())
    assert a.id != b.id, "two demos on one page need distinct ids"


def test_too_many_settings_are_refused_before_computing(static):
    calls = []
    with pytest.raises(DemoTooLargeError, match=r"61 settings.*more than the 60"):
        demo(lambda n: calls.append(n), n=slider("n", range(61)), alt="n")
    assert calls == []


def test_too_many_bytes_are_refused(static, monkeypatch):
    monkeypatch.setattr(demo_module, "MAX_BYTES", 50_000)
    rng = np.random.default_rng(0)

    def noisy(seed):
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(rng.random((200, 200)))

    with pytest.raises(DemoTooLargeError, match="MB of output"):
        demo(noisy, seed=slider("seed", [0, 1, 2]), alt="noise")


def test_function_drawing_two_figures_is_an_error(static):
    def two(n):
        plt.figure()
        plt.figure()

    with pytest.raises(ValueError, match="at most one figure"):
        demo(two, n=slider("n", [1]), alt="x")
    assert plt.get_fignums() == []


def test_controls_need_values_and_valid_defaults():
    with pytest.raises(ValueError):
        slider("empty", [])
    with pytest.raises(ValueError, match="not one of the values"):
        slider("s", [1, 2], default=5)
    with pytest.raises(TypeError):
        demo(draw_line, slope=[1, 2], alt="x")
    with pytest.raises(ValueError, match="at least one control"):
        demo(draw_line, alt="x")


def test_live_demo_is_ipywidgets_and_reacts(live):
    import ipywidgets as widgets

    calls = []

    def f(slope, flag):
        calls.append((slope, flag))

    box = demo(f, slope=slider("Slope", [1, 2, 3]), flag=toggle("Flag"), alt="x")
    assert isinstance(box, widgets.VBox)
    controls = box.children[0].children
    assert isinstance(controls[0], widgets.SelectionSlider) and isinstance(controls[1], widgets.Checkbox)
    assert calls[-1] == (2, False)
    controls[0].value = 3
    controls[1].value = True
    assert calls[-1] == (3, True)


def test_play_control_is_a_slider_with_a_play_button(static):
    def f(step):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, step], [0, 1])

    html = demo(f, step=play("Step", [0, 1, 2, 3], interval=300), alt="path after {step} steps")._repr_html_()
    assert 'type="range"' in html and 'max="3"' in html and 'value="0"' in html, "starts at the first frame"
    assert 'class="hcl-demo-play"' in html and 'data-interval="300"' in html and ">Play</button>" in html
    assert "setInterval" in html and "autoplay" not in html
    assert [f["alt"] for f in payload(html)["frames"]] == [f"path after {i} steps" for i in range(4)]
    with pytest.raises(ValueError, match="milliseconds"):
        play("Step", [0, 1], interval=5)


def test_live_play_control_drives_the_slider(live):
    import ipywidgets as widgets

    calls = []
    box = demo(lambda step: calls.append(step), step=play("Step", [10, 20, 30]), alt="x")
    player, slider_widget = box.children[0].children
    assert isinstance(player, widgets.Play) and isinstance(slider_widget, widgets.SelectionSlider)
    assert (player.min, player.max, player.value) == (0, 2, 0)
    slider_widget.index = 2
    assert calls[-1] == 30


def test_the_book_can_move_frames_into_files(static):
    """The book's extension reads a demo's spec back from its HTML and renders it with image files."""
    d = demo(
        draw_line,
        slope=slider("Slope", [1, 2, 3], default=2),
        color=dropdown("Colour", ["red", "blue"]),
        alt="slope {slope} in {color}",
        title="frames as files",
    )
    spec, demo_id = demo_module.read_html(d._repr_html_())
    assert demo_id == d.id and spec == d.spec()
    for i, frame in enumerate(spec["frames"]):
        assert frame["img"].startswith("data:image/png;base64,")
        frame.update(img=f"../_images/frame{i}.webp", width=100 + i, height=50)
    html = demo_module.render_html(spec, demo_id)
    assert "base64," not in html, "no frame is embedded any more"
    first = re.search(r'<img class="hcl-demo-img"[^>]*>', html).group(0)
    # Default setting: slope 2 (index 1 of 3), red (index 0 of 2) -> frame 1 * 2 + 0.
    assert 'src="../_images/frame2.webp"' in first and 'width="102" height="50"' in first
    assert 'alt="slope 2 in red"' in first
    assert payload(html)["frames"][5]["img"] == "../_images/frame5.webp"
    assert html.count("<label") == 2 and "Precomputed when the book was built for 6 settings" in html


def test_read_html_ignores_other_html():
    assert demo_module.read_html("<div class='output'><table></table></div>") is None
    assert demo_module.read_html('<div class="hcl-demo" id="x">no data</div>') is None
