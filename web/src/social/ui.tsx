// The social pieces the pages share: a post card (text rendered as text, mentions and embeds as
// links; its author may edit or delete it), an on-chain activity row, the composer, and the like,
// follow and report buttons. The like state is the api's (`likedByViewer`): every feed and thread
// is asked with the connected account as `viewer` (useViewer), which is part of its query key.
import { useEffect, useId, useState, useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Address, Hex } from "viem";
import { endpoints, keys } from "../api/endpoints";
import type { FeedItem, Page, SocialAccount, SocialActivity, SocialPost } from "../api/types";
import { Amount, ErrorNote, Loading, MorePages } from "../components/common";
import { useWallet } from "../components/Wallet";
import { reasonOf } from "../chain/reason";
import { config } from "../lib/config";
import { formatDate, formatNumber, formatRelative, shortAddress } from "../lib/format";
import { Link } from "../lib/router";
import { deleteMessage, editMessage, followMessage, likeMessage, postMessage, reportMessage } from "./messages";
import { delegateAppKey, revokeAppKey, sendMessage, storedAppKey } from "./send";
import { carryMentions, embedHref, segments } from "./text";
import { intentSettled, patchPost, shownLike, withLike, type LikeIntent } from "./likes";
import { byteSize, canEdit, checkPostText, MAX_TEXT } from "./validate";

/** The account feeds and threads are asked for (`viewer`), lowercase: the connected wallet. */
export function useViewer(): string | undefined {
  const { address } = useWallet();
  return address?.toLowerCase();
}

/** Whether the connected wallet wrote `post`. */
function useIsAuthor(post: SocialPost): boolean {
  const viewer = useViewer();
  return !!viewer && viewer === post.author.address.toLowerCase();
}

export function accountName(a: SocialAccount): string {
  return a.displayName || (a.handle ? `@${a.handle}` : shortAddress(a.address));
}

export function AccountLink({ account }: { account: SocialAccount }) {
  return (
    <Link href={`/social/u/${account.address}`} className="who" title={account.address}>
      {accountName(account)}
    </Link>
  );
}

/** A post's text with its mentions as profile links; everything as text. */
export function PostText({ post }: { post: SocialPost }) {
  return (
    <p className="post-text">
      {segments(post.text, post.mentions).map((s, i) =>
        s.account ? (
          <Link key={i} href={`/social/u/${s.account}`}>
            {s.text}
          </Link>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}

function Embed({ embed }: { embed: string }) {
  const { t } = useTranslation();
  const target = embedHref(embed);
  if (!target) return <span className="mono small">{embed}</span>;
  if (target.external)
    return (
      <a href={target.href} rel="noopener noreferrer nofollow ugc" target="_blank" className="small">
        {embed}
      </a>
    );
  const [kind, a, b] = embed.split(":");
  const label =
    kind === "nft" ? t("nft.name", { id: b }) : kind === "auction" ? t("social.embed.auction", { id: a }) : t("social.embed.proposal", { id: a });
  return (
    <Link href={target.href} className="small">
      {label}
    </Link>
  );
}

export function PostCard({ post, link = true }: { post: SocialPost; link?: boolean }) {
  const { t, i18n } = useTranslation();
  const gone = post.deleted || post.takenDown;
  const mine = useIsAuthor(post);
  const [editing, setEditing] = useState(false);
  return (
    <article className="panel post" data-testid="post" data-id={post.id}>
      <header className="row wrap spread">
        <AccountLink account={post.author} />
        <time className="small muted" dateTime={new Date(post.createdAt * 1000).toISOString()} title={formatDate(post.createdAt, i18n.language)}>
          {formatRelative(post.createdAt, i18n.language)}
        </time>
      </header>
      {gone ? (
        <p className="muted" data-testid={post.deleted ? "post-deleted" : "post-taken-down"}>
          {post.takenDown ? t("social.takenDown") : t("social.deleted")}
        </p>
      ) : editing ? (
        <EditPost post={post} onDone={() => setEditing(false)} />
      ) : (
        <PostText post={post} />
      )}
      {post.embeds.length > 0 && (
        <ul className="plain row wrap">
          {post.embeds.map((e) => (
            <li key={e}>
              <Embed embed={e} />
            </li>
          ))}
        </ul>
      )}
      {post.editedAt && !gone ? (
        <p className="small muted" data-testid="edited">
          <time dateTime={new Date(post.editedAt * 1000).toISOString()} title={formatDate(post.editedAt, i18n.language)}>
            {t("social.editedAt", { when: formatRelative(post.editedAt, i18n.language) })}
          </time>
        </p>
      ) : null}
      {!gone && !editing && (
        <footer className="row wrap post-actions">
          <LikeButton post={post} />
          {link ? (
            <Link href={`/social/post/${post.id}`} className="btn" data-testid="open-post">
              {t("social.replies", { n: formatNumber(post.replies, i18n.language, true) })}
            </Link>
          ) : (
            <span className="small muted">{t("social.replies", { n: formatNumber(post.replies, i18n.language, true) })}</span>
          )}
          {mine ? (
            <>
              {canEdit(post.createdAt) && (
                <button type="button" className="btn" onClick={() => setEditing(true)} data-testid="edit">
                  {t("social.edit")}
                </button>
              )}
              <DeleteButton post={post} />
            </>
          ) : (
            <ReportButton post={post} />
          )}
        </footer>
      )}
    </article>
  );
}

export function ActivityRow({ activity }: { activity: SocialActivity }) {
  const { t } = useTranslation();
  const a = activity;
  const item = a.tokenId ? t("nft.name", { id: a.tokenId }) : a.proposal ? t("social.embed.proposal", { id: a.proposal }) : "";
  const href = a.nft && a.tokenId ? `/nft/${a.nft}/${a.tokenId}` : a.proposal ? `/dao/${a.proposal}` : null;
  const vote = a.support === 1 ? "for" : a.support === 0 ? "against" : "abstain";
  return (
    <div className="panel activity row wrap" data-testid="activity">
      <span aria-hidden="true">◆</span>
      <AccountLink account={a.actor} />
      <span>{t(`social.activity.${a.kind}`, { defaultValue: t("social.activity.other"), vote: t(`social.vote.${vote}`) })}</span>
      {href && <Link href={href}>{item}</Link>}
      {a.amount && a.paymentToken && <Amount value={a.amount} token={a.paymentToken} />}
    </div>
  );
}

/** A page of feed items with infinite scroll on the api's cursors. */
export function Feed({ queryKey, load, empty }: { queryKey: readonly unknown[]; load: (cursor?: string) => Promise<Page<FeedItem>>; empty: string }) {
  const q = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => load(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {q.isSuccess && items.length === 0 && <p className="muted">{empty}</p>}
      <ul className="plain stack" data-testid="feed">
        {items.map((i) => (
          <li key={i.type === "post" ? i.post.key : i.activity.key}>{i.type === "post" ? <PostCard post={i.post} /> : <ActivityRow activity={i.activity} />}</li>
        ))}
      </ul>
      <MorePages q={q} />
    </>
  );
}

/** Runs one social write at a time, shows its refusal, refreshes the social queries after. */
export function useSocialWrite() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (write: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await write();
      await client.invalidateQueries({ queryKey: ["social"] });
      // Again shortly after: the api accepts a message before every cached read shows it, and a
      // refetch that comes too early would leave the page without what the user just did.
      for (const ms of [1000, 3000]) setTimeout(() => void client.invalidateQueries({ queryKey: ["social"] }), ms);
      return true;
    } catch (e) {
      setError(reasonOf(e, t("tx.rejected")));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function ErrorText({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="error small">
      {text}
    </p>
  ) : null;
}

/** The composer: a post, or a reply to `parent`. */
export function Composer({ parent, channel, onPosted }: { parent?: Hex; channel?: string; onPosted?: () => void }) {
  const { t } = useTranslation();
  const { address, connected, wrongNetwork } = useWallet();
  const [text, setText] = useState("");
  const { busy, error, run } = useSocialWrite();
  if (!connected || !address) return <p className="muted">{t("social.connectToPost")}</p>;
  if (wrongNetwork) return <p className="muted">{t("wallet.switchFirst")}</p>;
  const size = byteSize(text);
  const invalid = checkPostText(text) !== null;
  const id = parent ? "reply-text" : "post-text";
  return (
    <form
      className="panel stack composer"
      onSubmit={(e) => {
        e.preventDefault();
        if (invalid) return;
        void run(() => sendMessage("Post", postMessage(address, text, { parent, channel }))).then((ok) => {
          if (ok) {
            setText("");
            onPosted?.();
          }
        });
      }}
    >
      <label htmlFor={id} className="block">
        {parent ? t("social.replyLabel") : t("social.postLabel")}
      </label>
      <textarea id={id} value={text} onChange={(e) => setText(e.target.value)} rows={3} maxLength={2000} data-testid={parent ? "reply-text" : "compose-text"} />
      <div className="row wrap spread">
        <BytesLeft size={size} />
        <button type="submit" className="btn primary" disabled={busy || invalid} data-testid={parent ? "reply-send" : "post-send"}>
          {busy ? t("wallet.signing") : parent ? t("social.reply") : t("social.post")}
        </button>
      </div>
      <ErrorText text={error} />
    </form>
  );
}

/** The app key this browser holds for the connected account (re-read when one is granted). */
export function useAppKey(account: string | undefined) {
  const raw = useSyncExternalStore(
    (l) => {
      window.addEventListener("nest-app-key", l);
      window.addEventListener("storage", l);
      return () => {
        window.removeEventListener("nest-app-key", l);
        window.removeEventListener("storage", l);
      };
    },
    () => (account ? JSON.stringify(storedAppKey(config.chainId, account)) : "null"),
  );
  return JSON.parse(raw) as ReturnType<typeof storedAppKey>;
}

export function LikeButton({ post }: { post: SocialPost }) {
  const { t, i18n } = useTranslation();
  const { address, connected } = useWallet();
  const client = useQueryClient();
  const [intent, setIntent] = useState<LikeIntent | null>(null);
  const { busy, error, run } = useSocialWrite();
  const { liked, likes } = shownLike(post, intent);
  // Once a refetched page agrees (or the intent is too old to trust), the api's state is shown.
  useEffect(() => {
    if (!busy && intentSettled(post, intent)) setIntent(null);
  }, [busy, post, intent]);
  return (
    <>
      <button
        type="button"
        className="btn"
        aria-pressed={liked}
        disabled={!connected || busy}
        data-testid="like"
        onClick={() => {
          if (!address) return;
          const next = !liked;
          setIntent({ active: next, at: Date.now() });
          // Every cached page showing this post shows the change at once.
          client.setQueriesData({ queryKey: ["social"] }, (data: unknown) => patchPost(data, post.id, (p) => withLike(p, next)));
          void run(() => sendMessage("Like", likeMessage(address, post.id as Hex, next), true)).then((ok) => {
            if (!ok) {
              setIntent(null);
              void client.invalidateQueries({ queryKey: ["social"] });
            }
          });
        }}
      >
        <span aria-hidden="true">{liked ? "♥" : "♡"}</span> {t("social.likes", { n: formatNumber(likes, i18n.language, true) })}
      </button>
      <ErrorText text={error} />
    </>
  );
}

/** The bytes left of a text limited to `limit` (red past it), read out politely. */
function BytesLeft({ size, limit = MAX_TEXT }: { size: number; limit?: number }) {
  const { t, i18n } = useTranslation();
  return (
    <span className={size > limit ? "small error" : "small muted"} aria-live="polite">
      {t("social.bytesLeft", { n: formatNumber(limit - size, i18n.language) })}
    </span>
  );
}

/** The author's inline editor: the post's text, the composer's limits, one signed `edit`. */
function EditPost({ post, onDone }: { post: SocialPost; onDone: () => void }) {
  const { t } = useTranslation();
  const { address } = useWallet();
  const client = useQueryClient();
  const [text, setText] = useState(post.text);
  const { busy, error, run } = useSocialWrite();
  const id = useId();
  const size = byteSize(text);
  const unchanged = text.normalize("NFC") === post.text;
  const invalid = checkPostText(text) !== null || unchanged;
  return (
    <form
      className="stack composer"
      data-testid="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!address || invalid) return;
        const next = text.normalize("NFC");
        const mentions = carryMentions(post.text, post.mentions, next).map((m) => ({ ...m, account: m.account as Address }));
        void run(async () => {
          await sendMessage("Edit", editMessage(address, post.id as Hex, next, mentions));
          const now = Math.floor(Date.now() / 1000);
          client.setQueriesData({ queryKey: ["social"] }, (data: unknown) =>
            patchPost(data, post.id, (p) => ({ ...p, text: next, mentions, editedAt: now })),
          );
        }).then((ok) => ok && onDone());
      }}
    >
      <label htmlFor={id} className="block">
        {t("social.editLabel")}
      </label>
      <textarea
        id={id}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={3}
        maxLength={2000}
        data-testid="edit-text"
        autoFocus
        onKeyDown={(e) => e.key === "Escape" && onDone()}
      />
      <div className="row wrap spread">
        <BytesLeft size={size} />
        <div className="row wrap">
          <button type="button" className="btn" onClick={onDone} disabled={busy}>
            {t("nft.cancel")}
          </button>
          <button type="submit" className="btn primary" disabled={busy || invalid} data-testid="edit-save">
            {busy ? t("wallet.signing") : t("social.save")}
          </button>
        </div>
      </div>
      <ErrorText text={error} />
    </form>
  );
}

/** The author's delete, after a confirmation: one signed `delete` (a tombstone stays). */
function DeleteButton({ post }: { post: SocialPost }) {
  const { t } = useTranslation();
  const { address } = useWallet();
  const client = useQueryClient();
  const [asking, setAsking] = useState(false);
  const { busy, error, run } = useSocialWrite();
  if (!address) return null;
  if (!asking)
    return (
      <button type="button" className="btn danger" onClick={() => setAsking(true)} data-testid="delete">
        {t("social.delete")}
      </button>
    );
  return (
    <div className="row wrap" role="group" aria-label={t("social.deleteConfirm")}>
      <span className="small">{t("social.deleteConfirm")}</span>
      <button
        type="button"
        className="btn danger"
        disabled={busy}
        data-testid="delete-confirm"
        autoFocus
        onClick={() =>
          void run(async () => {
            await sendMessage("Delete", deleteMessage(address, post.id as Hex));
            // Shown as the api will show it (a tombstone) until the pages are refetched.
            client.setQueriesData({ queryKey: ["social"] }, (data: unknown) =>
              patchPost(data, post.id, (p) => ({ ...p, deleted: true, text: "", mentions: [], embeds: [] })),
            );
          }).then((ok) => ok && setAsking(false))
        }
      >
        {busy ? t("wallet.signing") : t("social.deleteYes")}
      </button>
      <button type="button" className="btn" onClick={() => setAsking(false)} disabled={busy}>
        {t("nft.cancel")}
      </button>
      <ErrorText text={error} />
    </div>
  );
}

/** How long a follow the api accepted shows as done while its reads may not reflect it yet. */
const FOLLOW_INTENT_MS = 30_000;

export function FollowButton({ target }: { target: string }) {
  const { t } = useTranslation();
  const { address } = useWallet();
  const me = address ?? "";
  const following = useQuery({ queryKey: keys.following(me), queryFn: () => endpoints.following(me), enabled: !!address });
  const { busy, error, run } = useSocialWrite();
  // What the user just did, shown at once (the api accepts a follow before every read shows it).
  const [intent, setIntent] = useState<{ active: boolean; at: number } | null>(null);
  if (!address || address.toLowerCase() === target.toLowerCase()) return null;
  const server = !!following.data?.items.some((a) => a.address.toLowerCase() === target.toLowerCase());
  const is = intent && intent.active !== server && Date.now() - intent.at < FOLLOW_INTENT_MS ? intent.active : server;
  return (
    <>
      <button
        type="button"
        className={is ? "btn" : "btn primary"}
        aria-pressed={is}
        disabled={busy || following.isPending}
        data-testid="follow"
        onClick={() =>
          void run(() => sendMessage("Link", followMessage(address, target as Address, !is), true)).then((ok) => {
            if (ok) setIntent({ active: !is, at: Date.now() });
          })
        }
      >
        {is ? t("social.unfollow") : t("social.follow")}
      </button>
      <ErrorText text={error} />
    </>
  );
}

const REASONS = ["spam", "abuse", "scam", "other"] as const;

export function ReportButton({ post }: { post: SocialPost }) {
  const { t } = useTranslation();
  const { address } = useWallet();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState<(typeof REASONS)[number]>("spam");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useSocialWrite();
  if (!address) return null;
  if (done) return <span className="small muted" role="status">{t("social.reported")}</span>;
  if (!open)
    return (
      <button type="button" className="btn" onClick={() => setOpen(true)} data-testid="report">
        {t("social.report")}
      </button>
    );
  const selectId = `report-${post.id.slice(2, 10)}`;
  return (
    <form
      className="row wrap"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => sendMessage("Report", reportMessage(address, post.id, reason), true)).then((ok) => ok && setDone(true));
      }}
    >
      <label htmlFor={selectId}>{t("social.reportReason")}</label>
      <select id={selectId} value={reason} onChange={(e) => setReason(e.target.value as (typeof REASONS)[number])}>
        {REASONS.map((r) => (
          <option key={r} value={r}>
            {t(`social.reasons.${r}`)}
          </option>
        ))}
      </select>
      <button type="submit" className="btn danger" disabled={busy} data-testid="report-send">
        {t("social.sendReport")}
      </button>
      <button type="button" className="btn" onClick={() => setOpen(false)}>
        {t("nft.cancel")}
      </button>
      <ErrorText text={error} />
    </form>
  );
}

/** Quick actions: delegate an app key once so likes and follows need no wallet prompt. */
export function AppKeyPanel() {
  const { t, i18n } = useTranslation();
  const { address, connected, wrongNetwork } = useWallet();
  const key = useAppKey(address);
  const { busy, error, run } = useSocialWrite();
  if (!connected || wrongNetwork || !address) return null;
  return (
    <div className="panel stack quick" data-testid="app-key">
      <h2>{t("social.quick.title")}</h2>
      {key ? (
        <>
          <p className="small" data-testid="app-key-on">
            {t("social.quick.on", { when: formatDate(key.expiry, i18n.language) })}
          </p>
          <button type="button" className="btn" disabled={busy} onClick={() => void run(() => revokeAppKey(address))}>
            {t("social.quick.turnOff")}
          </button>
        </>
      ) : (
        <>
          <p className="small muted">{t("social.quick.explain")}</p>
          <button type="button" className="btn primary" disabled={busy} onClick={() => void run(() => delegateAppKey(address))} data-testid="app-key-enable">
            {busy ? t("wallet.signing") : t("social.quick.turnOn")}
          </button>
        </>
      )}
      <ErrorText text={error} />
    </div>
  );
}
