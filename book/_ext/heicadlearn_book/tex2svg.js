// Typesets TeX formulas as SVG at build time, for mathsvg.py (issue #14: pages without MathJax).
//
//   node tex2svg.js <MathJax es5 folder>  < {"prefix": "p1", "formulas": [{"tex": "...", "display": false}, ...]}
//   -> {"css": "<MathJax's SVG style sheet>", "items": [{"html": "<mjx-container ...>", "error": null}, ...]}
//
// The same MathJax release the site serves (node_modules/mathjax, pinned in package-lock.json),
// with the TeX input the pages used before and MathJax's hidden MathML copy of every formula for
// screen readers (a11y/assistive-mml). Glyph paths are kept inside each formula (fontCache
// "local"); the element ids MathJax gives them count up through one run and carry the run's
// prefix, so they stay unique on a page. A displayed formula is focusable (tabindex 0), as the
// site's MathJax made it: a wide one scrolls sideways on a phone.
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
  const { prefix, formulas } = JSON.parse(await readStdin());
  const MathJax = await MathJaxLoader.init({
    loader: { load: ["input/tex", "output/svg", "a11y/assistive-mml"] },
    // Without "noundefined" an unknown macro is an error (reported with its message), not red text.
    tex: { packages: { "[-]": ["noundefined"] } },
    svg: { fontCache: "local" },
    startup: { typeset: false },
  });
  const adaptor = MathJax.startup.adaptor;
  const items = [];
  for (const { tex, display } of formulas) {
    const node = await MathJax.tex2svgPromise(tex, { display: Boolean(display) });
    if (display) adaptor.setAttribute(node, "tabindex", "0");
    const html = adaptor.outerHTML(node).replace(/(id="|href="#)MJX-/g, `$1MJX-${prefix}-`);
    const error = html.match(/data-mjx-error="([^"]*)"/);
    items.push({ html, error: error ? error[1] : null });
  }
  const css = adaptor.textContent(MathJax.svgStylesheet());
  process.stdout.write(JSON.stringify({ css, items }));
}

main().catch((error) => {
  process.stderr.write(`tex2svg: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
