// Content limits of nest-social (social/src/content.rs), checked before anything is signed so
// the dApp never sends a message the api would refuse for its shape. Each check answers the
// i18n key of the problem (under `social.invalid.`), or null. Sizes are UTF-8 bytes of the NFC
// form, which is what is signed and what the api measures.
import type { ProfileFields } from "./messages";

/** Largest post (or edited) text, bytes (content.rs MAX_TEXT). */
export const MAX_TEXT = 1024;
/** Largest display name, bytes (content.rs MAX_DISPLAY_NAME). */
export const MAX_DISPLAY_NAME = 64;
/** Largest bio, bytes (content.rs MAX_BIO). */
export const MAX_BIO = 256;
/** Handle length, characters of `[a-z0-9_]` (content.rs check_handle). */
export const HANDLE_MIN = 3;
export const HANDLE_MAX = 20;
/** Handles nobody may take (content.rs RESERVED_HANDLES). */
export const RESERVED_HANDLES: readonly string[] = [
  "admin",
  "administrator",
  "api",
  "dao",
  "help",
  "mod",
  "moderator",
  "moderators",
  "nest",
  "null",
  "official",
  "root",
  "security",
  "support",
  "system",
  "undefined",
];
/** How long after posting the author may edit (the api's default edit window, config.rs). */
export const EDIT_WINDOW_SECONDS = 15 * 60;

const encoder = new TextEncoder();

/** UTF-8 size of the NFC form of `text`. */
export function byteSize(text: string): number {
  return encoder.encode(text.normalize("NFC")).length;
}

export type Problem = "empty" | "tooLong" | "handleShape" | "handleReserved" | "avatar";

/** A post's or an edit's text: not blank, at most MAX_TEXT bytes. */
export function checkPostText(text: string): Problem | null {
  if (!text.trim()) return "empty";
  return byteSize(text) > MAX_TEXT ? "tooLong" : null;
}

/** A handle: empty (none), or 3-20 of `[a-z0-9_]` (any case) and not reserved. */
export function checkHandle(handle: string): Problem | null {
  const lower = handle.trim().toLowerCase();
  if (!lower) return null;
  if (lower.length < HANDLE_MIN || lower.length > HANDLE_MAX || !/^[a-z0-9_]+$/.test(lower)) return "handleShape";
  return RESERVED_HANDLES.includes(lower) ? "handleReserved" : null;
}

export type ProfileProblems = Partial<Record<"handle" | "displayName" | "bio" | "avatar", Problem>>;

/** Every field's problem; an empty object when the profile may be signed. */
export function checkProfile(p: ProfileFields): ProfileProblems {
  const out: ProfileProblems = {};
  const handle = checkHandle(p.handle);
  if (handle) out.handle = handle;
  if (byteSize(p.displayName) > MAX_DISPLAY_NAME) out.displayName = "tooLong";
  if (byteSize(p.bio) > MAX_BIO) out.bio = "tooLong";
  if (p.avatar && !(/^0x[0-9a-fA-F]{40}$/.test(p.avatar.contract) && /^\d{1,78}$/.test(p.avatar.tokenId) && !/^0x0{40}$/.test(p.avatar.contract)))
    out.avatar = "avatar";
  return out;
}

/** Whether the author may still edit a post created at `createdAt` (unix seconds). */
export function canEdit(createdAt: number, now = Date.now() / 1000): boolean {
  return now - createdAt < EDIT_WINDOW_SECONDS - 5;
}
