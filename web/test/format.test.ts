import { describe, expect, it } from "vitest";
import { amountProblem, formatAmount, formatCountdown, formatRelative, parseAmount, shortAddress, formatNumber } from "../src/lib/format";
import { parseConfig } from "../src/lib/config";
import { pickLanguage } from "../src/i18n";
import { argValue, describeAction } from "../src/lib/actions-text";
import { match } from "../src/lib/router";

const ETH = "0x0000000000000000000000000000000000000000";

describe("formatting per language", () => {
  it("formats token amounts with the language's separators", () => {
    expect(formatAmount("1500000000000000000", ETH, "en")).toBe("1.5 ETH");
    expect(formatAmount("1234567500000000000000000", ETH, "en")).toBe("1,234,567.5 ETH");
    expect(formatAmount("1234567500000000000000000", ETH, "de")).toBe("1.234.567,5 ETH");
    expect(formatAmount("600000000000000000", ETH, "ko")).toBe("0.6 ETH");
    expect(formatAmount(1n, ETH, "en")).toBe("0 ETH");
  });
  it("formats relative times and compact numbers in each language", () => {
    const now = 1_700_000_000_000;
    expect(formatRelative(now / 1000 + 3 * 3600, "en", now)).toBe("in 3 hours");
    expect(formatRelative(now / 1000 - 120, "ja", now)).toBe("2 分前");
    expect(formatRelative(now / 1000 + 86400 * 2, "ko", now)).toBe("모레");
    expect(formatNumber(1_500_000, "en", true)).toBe("1.5M");
    expect(formatNumber(15_000, "zh", true)).toBe("1.5万");
  });
  it("counts down and shortens addresses", () => {
    expect(formatCountdown(3661)).toBe("01:01:01");
    expect(formatCountdown(90061)).toBe("1d 01:01:01");
    expect(formatCountdown(-5)).toBe("00:00:00");
    expect(shortAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).toBe("0x7099…79C8");
  });
  it("parses typed amounts exactly, refusing garbage", () => {
    expect(parseAmount("1.5")).toBe(1_500_000_000_000_000_000n);
    expect(parseAmount("0,25")).toBe(250_000_000_000_000_000n);
    expect(parseAmount("1e3")).toBeNull();
    expect(parseAmount("-1")).toBeNull();
    expect(parseAmount("0.0000000000000000001")).toBeNull();
  });
  it("names what is wrong with a typed amount, and nothing for an empty or good one", () => {
    expect(amountProblem("")).toBeNull();
    expect(amountProblem(" 2,5 ")).toBeNull();
    expect(amountProblem("1e3")).toBe("invalid");
    expect(amountProblem("-1")).toBe("invalid");
    expect(amountProblem("1.")).toBe("invalid");
    expect(amountProblem("0.0000000000000000001")).toBe("precision");
    expect(amountProblem("0")).toBe("zero");
    expect(amountProblem("0.000")).toBe("zero");
  });
});

describe("state helpers", () => {
  it("reads the page config, falling back when the api did not fill it", () => {
    expect(parseConfig("__NEST_CONFIG__").chainId).toBe(31337);
    expect(parseConfig("{bad").chainId).toBe(31337);
    const c = parseConfig(JSON.stringify({ chainId: 5, contracts: { nft: "0x1" } }));
    expect(c.chainId).toBe(5);
  });
  it("picks the remembered language, else the browser's first supported one", () => {
    expect(pickLanguage("ja", ["ko-KR"])).toBe("ja");
    expect(pickLanguage(null, ["fr-FR", "ko-KR", "en"])).toBe("ko");
    expect(pickLanguage("xx", ["zh-Hans-CN"])).toBe("zh");
    expect(pickLanguage(null, ["fr"])).toBe("en");
  });
  it("routes paths to pages", () => {
    expect(match("/").name).toBe("market");
    expect(match("/nft/0x5FbDB2315678afecb367f032d93F642f64180aa3/12")).toEqual({
      name: "nft",
      params: { contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3", tokenId: "12" },
    });
    expect(match("/dao/123").params.id).toBe("123");
    expect(match("/nft/0x12/1").name).toBe("notFound");
  });
  it("describes proposal actions in words", () => {
    expect(argValue("Uint(300, 16)")).toBe("300");
    expect(argValue("Bool(true)")).toBe("true");
    expect(describeAction("0x1", "setFeeBps(uint16)", ["Uint(300, 16)"])).toEqual({ key: "dao.action.setFee", params: { percent: 3 } });
    expect(describeAction("0x1", "setPaymentToken(address,bool)", ["Address(0xab)", "Bool(false)"]).key).toBe("dao.action.disallowToken");
    expect(describeAction("0x1", "mystery(uint256)", ["Uint(1, 256)"]).key).toBe("dao.action.call");
  });
});

import { artBucket, parseTokenUri } from "../src/lib/metadata";

describe("token metadata in data: URIs", () => {
  it("reads name, description and traits from utf8 and base64 JSON, and nothing else", () => {
    const utf8 = 'data:application/json;utf8,{"name":"Nest Demo #1","description":"A demo","attributes":[{"trait_type":"hue","value":57}]}';
    expect(parseTokenUri(utf8)).toEqual({ name: "Nest Demo #1", description: "A demo", attributes: [{ trait: "hue", value: "57" }] });
    const b64 = `data:application/json;base64,${btoa('{"name":"<b>x</b>"}')}`;
    expect(parseTokenUri(b64)?.name).toBe("<b>x</b>"); // kept as text, rendered as text
    expect(parseTokenUri("ipfs://Qm")).toBeNull();
    expect(parseTokenUri("data:application/json;utf8,{broken")).toBeNull();
  });
  it("spreads placeholder colours", () => {
    const buckets = new Set(["1", "2", "3", "4", "5", "6"].map((id) => artBucket("0xDC64", id)));
    expect(buckets.size).toBeGreaterThan(3);
  });
});
