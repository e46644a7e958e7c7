// An account's profile: name, handle, bio, counters, the follow button and its posts.
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { Addr, ErrorNote, Loading, NftArt } from "../components/common";
import { useWallet } from "../components/Wallet";
import { formatDate, formatNumber } from "../lib/format";
import { useLive } from "../lib/live";
import { accountName, Feed, FollowButton } from "../social/ui";

export default function SocialProfile({ address }: { address: string }) {
  const { t, i18n } = useTranslation();
  const { address: me } = useWallet();
  const q = useQuery({ queryKey: keys.socialProfile(address), queryFn: () => endpoints.socialProfile(address) });
  useLive("social-posts", [["social"]]);
  const p = q.data;
  const n = (v: number) => formatNumber(v, i18n.language, true);
  return (
    <section className="stack social">
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {p && (
        <div className="panel stack profile" data-testid="profile">
          <div className="row wrap">
            {p.avatar && (
              <div className="avatar">
                <NftArt contract={p.avatar.contract} tokenId={p.avatar.tokenId} />
              </div>
            )}
            <div className="stack">
              <h1>{accountName(p)}</h1>
              {p.handle && <span className="muted">@{p.handle}</span>}
              <Addr value={p.address} />
            </div>
          </div>
          {p.banned && <p className="error">{t("social.banned")}</p>}
          {p.bio && <p className="post-text">{p.bio}</p>}
          <dl className="counts row wrap">
            <div>
              <dt>{t("social.followers")}</dt>
              <dd data-testid="followers">{n(p.followers)}</dd>
            </div>
            <div>
              <dt>{t("social.following")}</dt>
              <dd data-testid="following">{n(p.following)}</dd>
            </div>
            <div>
              <dt>{t("social.posts")}</dt>
              <dd>{n(p.posts)}</dd>
            </div>
          </dl>
          {p.firstSeen > 0 && <p className="small muted">{t("social.since", { when: formatDate(p.firstSeen, i18n.language) })}</p>}
          <div className="row wrap">
            <FollowButton target={p.address} />
          </div>
        </div>
      )}
      <h2>{t("social.posts")}</h2>
      <Feed queryKey={keys.feed("author", `${address}:${me ?? ""}`)} load={(c) => endpoints.accountPosts(address, c, me)} empty={t("social.noPosts")} />
    </section>
  );
}
