import { describe, expect, it } from "vitest";
import en from "../src/i18n/locales/en.json";
import ko from "../src/i18n/locales/ko.json";
import { shortOfFunds } from "../src/chain/funds";
import { ETH } from "../src/lib/config";

const catalogue = (c: { funds: Record<string, string> }) => (key: string, params: Record<string, string>) =>
  c.funds[key.split(".")[1]].replace(/\{\{(\w+)\}\}/g, (_, p: string) => params[p]);

describe("shortOfFunds", () => {
  it("allows an action the balance covers, exactly or more", () => {
    expect(shortOfFunds(10n ** 18n, 10n ** 18n, ETH, "en", catalogue(en))).toBeNull();
    expect(shortOfFunds(2n * 10n ** 18n, 10n ** 18n, ETH, "en", catalogue(en))).toBeNull();
  });
  it("refuses a shortfall naming what is needed and what is held, in the reader's language", () => {
    const text = shortOfFunds(5n * 10n ** 17n, 1234n * 10n ** 18n, ETH, "en", catalogue(en));
    expect(text).toContain("1,234 ETH");
    expect(text).toContain("0.5 ETH");
    const korean = shortOfFunds(0n, 10n ** 18n, ETH, "ko", catalogue(ko));
    expect(korean).toContain("1 ETH");
    expect(korean).toContain("0 ETH");
    expect(korean).not.toBe(shortOfFunds(0n, 10n ** 18n, ETH, "en", catalogue(en)));
  });
});
