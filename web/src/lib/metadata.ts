// Token metadata: the api resolves it (`Nft.metadata`, images under `/v1/media/`); a
// `data:application/json` token URI is still read in the browser while the api has not resolved
// it yet. Everything is shown as text.
export interface Metadata {
  name?: string;
  description?: string;
  attributes: { trait: string; value: string }[];
}

export function parseTokenUri(uri: string): Metadata | null {
  const m = /^data:application\/json(;[^,]*)?,(.*)$/s.exec(uri);
  if (!m) return null;
  try {
    const params = m[1] ?? "";
    const body = params.includes(";base64") ? atob(m[2]) : params.includes("utf8") ? m[2] : decodeURIComponent(m[2]);
    const json = JSON.parse(body) as Record<string, unknown>;
    const attributes = Array.isArray(json.attributes)
      ? json.attributes
          .filter((a): a is Record<string, unknown> => !!a && typeof a === "object")
          .map((a) => ({ trait: String(a.trait_type ?? ""), value: String(a.value ?? "") }))
      : [];
    return {
      name: typeof json.name === "string" ? json.name : undefined,
      description: typeof json.description === "string" ? json.description : undefined,
      attributes,
    };
  } catch {
    return null;
  }
}

/** A well-mixed 32-bit hash (FNV-1a, then a finaliser), for placeholder art colours. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  return h >>> 0;
}

/** One of 12 placeholder palettes for a token, spread evenly. */
export function artBucket(contract: string, tokenId: string): number {
  return Math.floor((hash32(`${contract.toLowerCase()}:${tokenId}`) / 2 ** 32) * 12);
}

/** The api's media widths. */
export type MediaWidth = 96 | 384 | 1024;

/**
 * `image` at `width` as WebP, when it is a path of the api's media endpoint
 * (`/v1/media/{sha256}`: sanitised, content-addressed). Any other URL is not loaded.
 */
export function mediaUrl(image: string | undefined, width: MediaWidth): string | undefined {
  if (!image || !/^\/v1\/media\/[0-9a-f]{64}$/.test(image)) return undefined;
  return `${image}?w=${width}&format=webp`;
}
