// The header's notifications link with the unread count (signed in only), kept live by the
// api's `notifications:<address>` stream topic. Part of the first load: kept small.
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { Link } from "../lib/router";
import { useLive } from "../lib/live";
import { useWallet } from "./Wallet";

export function NotificationsLink() {
  const { address, signedIn } = useWallet();
  if (!signedIn || !address) return null;
  return <Bell me={address} />;
}

function Bell({ me }: { me: string }) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: [...keys.notifications(me), "count"],
    queryFn: async () => ({ unread: (await endpoints.notifications(undefined, 1)).unread }),
    staleTime: 30_000,
  });
  useLive(`notifications:${me.toLowerCase()}`, [keys.notifications(me)]);
  const unread = q.data?.unread ?? 0;
  return (
    <Link
      href="/social/notifications"
      className="btn icon bell"
      aria-label={t("social.notifications.open", { n: unread })}
      data-testid="notifications-link"
    >
      <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      {unread > 0 && (
        <span className="count" data-testid="unread">
          {unread > 99 ? "99+" : unread}
        </span>
      )}
    </Link>
  );
}
