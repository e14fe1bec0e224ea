// Typesets TeX formulas as SVG at build time, for mathsvg.py (issue #14: pages without MathJax).
//
//   node tex2svg.js <MathJax es5 folder>
//     < {"prefix": "p1", "fontCache": "global", "formulas": [{"tex": "...", "display": false}, ...]}
//     -> {"css": "<MathJax's SVG style sheet>", "cache": "<svg ...><defs>glyphs</defs></svg>",
//         "items": [{"html": "<mjx-container ...>", "error": null}, ...]}
//
// The same MathJax release the site serves (node_modules/mathjax, pinned in package-lock.json),
// with the TeX input the pages used before and MathJax's hidden MathML copy of every formula for
// screen readers (a11y/assistive-mml). With fontCache "global" (MathJax's default in browsers)
// each glyph's path is drawn once, in "cache", which the page must hold once; with "local" each
// formula carries its own glyphs. Element ids carry the run's prefix, so they stay unique on a
// page. A displayed formula is focusable (tabindex 0), as the site's MathJax made it: a wide one
// scrolls sideways on a phone.
"use strict";

const path = require("path");

const es5 = path.resolve(process.argv[2] || "node_modules/mathjax/es5");
const MathJaxLoader = require(path.join(es5, "node-main.js"));

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

async function main() {
  const { prefix, fontCache, formulas } = JSON.parse(await readStdin());
  const MathJax = await MathJaxLoader.init({
    loader: { load: ["input/tex", "output/svg", "a11y/assistive-mml"] },
    // Without "noundefined" an unknown macro is an error (reported with its message), not red text.
    tex: { packages: { "[-]": ["noundefined"] } },
    svg: { fontCache: fontCache || "local" },
    startup: { typeset: false },
  });
  const adaptor = MathJax.startup.adaptor;
  const withPrefix = (html) => html.replace(/(id="|href="#)MJX-/g, `$1MJX-${prefix}-`);
  const items = [];
  for (const { tex, display } of formulas) {
    const node = await MathJax.tex2svgPromise(tex, { display: Boolean(display) });
    if (display) adaptor.setAttribute(node, "tabindex", "0");
    const html = withPrefix(adaptor.outerHTML(node));
    const error = html.match(/data-mjx-error="([^"]*)"/);
    items.push({ html, error: error ? error[1] : null });
  }
  const css = adaptor.textContent(MathJax.svgStylesheet());
  let cache = "";
  if (fontCache === "global" && items.length) {
    const defs = withPrefix(adaptor.outerHTML(MathJax.startup.output.fontCache.getCache()));
    cache = `<svg id="MJX-${prefix}-SVG-global-cache" style="display: none" aria-hidden="true">${defs}</svg>`;
  }
  process.stdout.write(JSON.stringify({ css, cache, items }));
}

main().catch((error) => {
  process.stderr.write(`tex2svg: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
