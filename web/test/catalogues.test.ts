import { describe, expect, it } from "vitest";
import en from "../src/i18n/locales/en.json";
import ko from "../src/i18n/locales/ko.json";
import ja from "../src/i18n/locales/ja.json";
import zh from "../src/i18n/locales/zh.json";
// @ts-expect-error: a plain ES module script without types
import { lintSource } from "../scripts/lint-strings.mjs";

type Tree = { [key: string]: string | Tree };
function flat(tree: Tree, prefix = ""): Record<string, string> {
  return Object.entries(tree).reduce<Record<string, string>>((out, [k, v]) => {
    if (typeof v === "string") out[prefix + k] = v;
    else Object.assign(out, flat(v, `${prefix}${k}.`));
    return out;
  }, {});
}
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe("catalogues", () => {
  const base = flat(en as Tree);
  for (const [lang, catalogue] of Object.entries({ ko, ja, zh })) {
    it(`${lang} has exactly en's keys, with the same placeholders, none empty`, () => {
      const other = flat(catalogue as Tree);
      expect(Object.keys(other).sort()).toEqual(Object.keys(base).sort());
      for (const [key, text] of Object.entries(base)) {
        expect(placeholders(other[key]), `${lang}:${key}`).toEqual(placeholders(text));
        expect(other[key].trim(), `${lang}:${key}`).not.toBe("");
      }
    });
  }
});

describe("hard-coded string lint", () => {
  it("flags JSX text and user-facing attributes, allows t() and symbols", () => {
    const bad = `export const A = () => <div><p>Buy now</p><button aria-label="Close">×</button><input placeholder="Amount" /></div>;`;
    const problems = lintSource("a.tsx", bad);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('text "Buy now"');
    const good = `export const B = () => <div><p>{t("nft.buy")}</p><button aria-label={t("x")}>×</button><input placeholder="0x…" /> ETH</div>;`;
    expect(lintSource("b.tsx", good)).toEqual([]);
    const html = `export const C = ({ d }: { d: string }) => <p dangerouslySetInnerHTML={{ __html: d }} />;`;
    expect(lintSource("c.tsx", html)[0]).toContain("dangerouslySetInnerHTML");
  });
});
