import { describe, expect, it } from "vitest";
import { mediaUrl, parseTokenUri } from "../src/lib/metadata";

const sha = "a".repeat(64);

describe("media URLs", () => {
  it("load only the api's content-addressed media, resized as WebP", () => {
    expect(mediaUrl(`/v1/media/${sha}`, 384)).toBe(`/v1/media/${sha}?w=384&format=webp`);
    expect(mediaUrl(`/v1/media/${sha}`, 1024)).toBe(`/v1/media/${sha}?w=1024&format=webp`);
  });

  it("refuse anything else a token's metadata may carry", () => {
    for (const image of [
      undefined,
      "",
      "https://evil.example/x.png",
      "//evil.example/x.png",
      "javascript:alert(1)",
      `data:image/svg+xml,<svg onload="alert(1)"/>`,
      `/v1/media/${sha}/../../v1/auth/logout`,
      `/v1/media/${sha.toUpperCase()}`,
      `/v1/media/${sha}?w=96`,
    ]) {
      expect(mediaUrl(image, 384)).toBeUndefined();
    }
  });
});

describe("token URIs", () => {
  it("read name, description and traits from a data: JSON URI as text", () => {
    const json = JSON.stringify({
      name: "<b>Nest</b> #1",
      description: "d",
      attributes: [{ trait_type: "Background", value: "Sky" }],
    });
    const meta = parseTokenUri(`data:application/json;base64,${btoa(json)}`);
    expect(meta).toEqual({
      name: "<b>Nest</b> #1",
      description: "d",
      attributes: [{ trait: "Background", value: "Sky" }],
    });
    expect(parseTokenUri("ipfs://Qm")).toBeNull();
    expect(parseTokenUri("data:application/json,{not json")).toBeNull();
  });
});
