// The signed-in account's notifications (session-authenticated), marked read once shown.
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import type { SocialNotification } from "../api/types";
import { ErrorNote, Loading, MorePages } from "../components/common";
import { useWallet } from "../components/Wallet";
import { formatRelative, shortAddress } from "../lib/format";
import { Link } from "../lib/router";

export default function SocialNotifications() {
  const { t } = useTranslation();
  const { address, signedIn } = useWallet();
  return (
    <section className="stack social">
      <h1>{t("social.notifications.title")}</h1>
      {signedIn && address ? <Inbox me={address} /> : <p className="muted">{t("social.notifications.signIn")}</p>}
    </section>
  );
}

function target(n: SocialNotification): string | null {
  if (n.target && /^0x[0-9a-f]{64}$/i.test(n.target)) return `/social/post/${n.target}`;
  if (n.kind === "follow" && n.actor) return `/social/u/${n.actor}`;
  return null;
}

function Inbox({ me }: { me: string }) {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const q = useInfiniteQuery({
    queryKey: [...keys.notifications(me), "list"],
    queryFn: ({ pageParam }) => endpoints.notifications(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
    // Shown as they were when opened: marking them read does not repaint the list.
    staleTime: Infinity,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  const newest = items[0]?.key;
  const marked = useRef<string | null>(null);
  useEffect(() => {
    if (!newest || marked.current === newest || !items.some((n) => !n.read)) return;
    marked.current = newest;
    void endpoints.markRead(newest).then((r) => client.setQueryData([...keys.notifications(me), "count"], { unread: r.unread }));
  }, [newest, items, me, client]);
  return (
    <>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {q.isSuccess && items.length === 0 && <p className="muted">{t("social.notifications.empty")}</p>}
      <ul className="plain stack" data-testid="notifications">
        {items.map((n) => {
          const href = target(n);
          const text = t(`social.notifications.kind.${n.kind}`, { who: n.actor ? shortAddress(n.actor) : "", defaultValue: t("social.notifications.kind.other") });
          return (
            <li key={n.id} className={n.read ? "panel row wrap spread" : "panel row wrap spread unread"} data-testid="notification">
              {href ? <Link href={href}>{text}</Link> : <span>{text}</span>}
              <span className="small muted">
                {!n.read && <strong className="badge">{t("social.notifications.new")}</strong>} {formatRelative(n.at, i18n.language)}
              </span>
            </li>
          );
        })}
      </ul>
      <MorePages q={q} />
    </>
  );
}
