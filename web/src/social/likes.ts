// The viewer's like state comes from the api (`likedByViewer` on posts of pages asked with a
// `viewer`). A like or unlike shows at once (an optimistic intent, and the cached pages patched),
// then the pages are refetched; until a refetch agrees, or the intent is too old, the intent
// wins over a stale page. Pure functions (tested in test/social.test.ts).
import type { FeedItem, SocialPost } from "../api/types";

/** A like or unlike sent (or being sent) from this page. */
export interface LikeIntent {
  active: boolean;
  /** When it was made, ms. */
  at: number;
}

/** How long an intent may outweigh the api's answer (the api's caches drop on the write). */
export const INTENT_MS = 20_000;

/** The pressed state and count to show for `post` given the viewer's pending intent. */
export function shownLike(post: Pick<SocialPost, "likes" | "likedByViewer">, intent: LikeIntent | null, now = Date.now()): { liked: boolean; likes: number } {
  const server = post.likedByViewer === true;
  if (!intent || intent.active === server || now - intent.at > INTENT_MS) return { liked: server, likes: post.likes };
  return { liked: intent.active, likes: Math.max(0, post.likes + (intent.active ? 1 : -1)) };
}

/** Whether the intent is no longer needed: the api agrees, or it is too old to trust. */
export function intentSettled(post: Pick<SocialPost, "likedByViewer">, intent: LikeIntent | null, now = Date.now()): boolean {
  return !!intent && ((post.likedByViewer === true) === intent.active || now - intent.at > INTENT_MS);
}

/** `post` as liked (or not) by the viewer, the count moved when the state changes. */
export function withLike<P extends Pick<SocialPost, "likes" | "likedByViewer">>(post: P, active: boolean): P {
  if ((post.likedByViewer === true) === active) return post;
  return { ...post, likedByViewer: active, likes: Math.max(0, post.likes + (active ? 1 : -1)) };
}

type PageLike = { items?: FeedItem[]; root?: SocialPost; replies?: SocialPost[] };

/**
 * `data` (a cached infinite query of feed pages or thread pages) with the post `id` passed
 * through `change`; the same object when it holds no such post (other social queries included).
 */
export function patchPost<T>(data: T, id: string, change: (p: SocialPost) => SocialPost): T {
  const pages = (data as { pages?: PageLike[] } | undefined)?.pages;
  if (!Array.isArray(pages)) return data;
  let changed = false;
  const one = (p: SocialPost) => {
    if (p.id !== id) return p;
    const next = change(p);
    if (next !== p) changed = true;
    return next;
  };
  const next = pages.map((page) => {
    if (!page || typeof page !== "object") return page;
    const out: PageLike = { ...page };
    if (Array.isArray(page.items)) out.items = page.items.map((i) => (i.type === "post" ? { ...i, post: one(i.post) } : i));
    if (page.root) out.root = one(page.root);
    if (Array.isArray(page.replies)) out.replies = page.replies.map(one);
    return out;
  });
  return changed ? ({ ...(data as object), pages: next } as T) : data;
}
