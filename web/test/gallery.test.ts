import { describe, expect, it } from "vitest";
import { query } from "../src/api/client";
import { toggleTrait, traitKey } from "../src/lib/traits";

describe("gallery trait filters", () => {
  it("toggle one value of one trait at a time", () => {
    let selected = toggleTrait([], "Background", "Sky");
    selected = toggleTrait(selected, "Background", "Mint");
    selected = toggleTrait(selected, "Shape", "Diamond");
    expect(selected).toEqual(["Background:Sky", "Background:Mint", "Shape:Diamond"]);
    expect(toggleTrait(selected, "Background", "Sky")).toEqual(["Background:Mint", "Shape:Diamond"]);
    expect(traitKey("Edition", "10:a")).toBe("Edition:10:a");
  });

  it("travel as repeated, encoded query parameters", () => {
    expect(query({ trait: ["Background:Sky", "Shape:Diamond & co"], cursor: undefined, limit: 24 })).toBe(
      "?trait=Background%3ASky&trait=Shape%3ADiamond+%26+co&limit=24",
    );
    expect(query({ trait: [], cursor: "" })).toBe("");
  });
});
