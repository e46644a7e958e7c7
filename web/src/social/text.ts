// Pure helpers for showing posts: a text split at its mentions (UTF-8 byte ranges, as
// nest-social stores them), and where an embed points.

export interface Segment {
  text: string;
  /** The mentioned account, for a mention. */
  account?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `text` cut at `mentions` ([start, end) byte ranges); overlapping or out-of-range ones are plain text. */
export function segments(text: string, mentions: { account: string; start: number; end: number }[]): Segment[] {
  const bytes = encoder.encode(text);
  const out: Segment[] = [];
  let at = 0;
  for (const m of [...mentions].sort((a, b) => a.start - b.start)) {
    if (m.start < at || m.end > bytes.length || m.end <= m.start) continue;
    if (m.start > at) out.push({ text: decoder.decode(bytes.slice(at, m.start)) });
    out.push({ text: decoder.decode(bytes.slice(m.start, m.end)), account: m.account });
    at = m.end;
  }
  if (at < bytes.length || out.length === 0) out.push({ text: decoder.decode(bytes.slice(at)) });
  return out;
}

/** Where an embed points inside the dApp, or on the web for an http(s) URL; null if nowhere. */
export function embedHref(embed: string): { href: string; external: boolean } | null {
  const [kind, a, b] = embed.split(":");
  if (kind === "nft" && /^0x[0-9a-fA-F]{40}$/.test(a ?? "") && /^\d+$/.test(b ?? "")) return { href: `/nft/${a}/${b}`, external: false };
  if (kind === "auction" && /^\d+$/.test(a ?? "")) return { href: `/auction/${a}`, external: false };
  if (kind === "proposal" && /^\d+$/.test(a ?? "")) return { href: `/dao/${a}`, external: false };
  if (/^https?:\/\/[^\s]+$/.test(embed)) return { href: embed, external: true };
  return null;
}

/**
 * The mentions of `before` that still stand in `after` (an edited text): each mention's text
 * (`@bob`) found again, in order, gets its new byte range; one no longer there is dropped.
 */
export function carryMentions<M extends { start: number; end: number }>(before: string, mentions: M[], after: string): M[] {
  const old = encoder.encode(before);
  const next = encoder.encode(after);
  const out: M[] = [];
  let from = 0;
  for (const m of [...mentions].sort((a, b) => a.start - b.start)) {
    if (m.end > old.length || m.end <= m.start) continue;
    const needle = decoder.decode(old.slice(m.start, m.end));
    const charAt = after.indexOf(needle, decoder.decode(next.slice(0, from)).length);
    if (charAt < 0 || !needle) continue;
    const start = encoder.encode(after.slice(0, charAt)).length;
    const end = start + encoder.encode(needle).length;
    out.push({ ...m, start, end });
    from = end;
  }
  return out;
}
