// Lint: no hard-coded user-facing text in components. Every visible string comes from the
// catalogues through t(). Checked with TypeScript's own parser over src/**/*.tsx:
// - JSX text containing a letter (other than in allowed symbols) is an error;
// - string literals in user-facing attributes (aria-label, title, placeholder, alt, label) are
//   errors unless empty or a symbol/placeholder like "0x…";
// - `dangerouslySetInnerHTML` is an error anywhere: text from the chain, metadata or other users
//   is rendered as text, never as HTML.
import ts from "typescript";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../src/", import.meta.url).pathname;
const ATTRS = new Set(["aria-label", "title", "placeholder", "alt", "label", "aria-description"]);
// Brand and symbols that are the same in every language.
const ALLOWED = new Set(["Nest", "ETH", "NEST", "0x…", "×", "☾", "☀", "→", "·"]);
const letters = /\p{L}/u;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".tsx") ? [path] : [];
  });
}

export function lintSource(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const problems = [];
  const report = (node, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart());
    problems.push(`${fileName}:${line + 1}:${character + 1}: hard-coded ${what}`);
  };
  const visit = (node) => {
    if (ts.isJsxText(node)) {
      const value = node.getText().trim();
      if (value && letters.test(value) && !ALLOWED.has(value)) report(node, `text "${value}"`);
    }
    if (ts.isJsxAttribute(node) && node.name.getText() === "dangerouslySetInnerHTML") {
      report(node, "HTML (dangerouslySetInnerHTML): render text instead");
    }
    if (ts.isJsxAttribute(node) && node.initializer && ts.isStringLiteral(node.initializer)) {
      const name = node.name.getText();
      const value = node.initializer.text.trim();
      if (ATTRS.has(name) && value && letters.test(value) && !ALLOWED.has(value)) report(node, `${name}="${value}"`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = files(root).flatMap((f) => lintSource(relative(process.cwd(), f), readFileSync(f, "utf8")));
  if (problems.length) {
    console.error(problems.join("\n"));
    console.error(`${problems.length} hard-coded string(s): move them to src/i18n/locales/*.json and use t()`);
    process.exit(1);
  }
  console.log("lint-strings: no hard-coded strings");
}
