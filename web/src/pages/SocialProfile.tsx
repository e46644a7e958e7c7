// An account's profile: name, handle, bio, counters, the follow button and its posts; on the
// connected account's own profile, a form to change it (one signed profile message).
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { Addr, ErrorNote, Loading, NftArt } from "../components/common";
import { useWallet } from "../components/Wallet";
import { formatDate, formatNumber } from "../lib/format";
import { useLive } from "../lib/live";
import { accountName, Feed, FollowButton, useViewer } from "../social/ui";
import ProfileEditor from "../social/ProfileEditor";

export default function SocialProfile({ address }: { address: string }) {
  const { t, i18n } = useTranslation();
  const { address: me, wrongNetwork } = useWallet();
  const viewer = useViewer();
  const [editing, setEditing] = useState(false);
  const own = !!me && me.toLowerCase() === address.toLowerCase();
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
            {own && !editing && !wrongNetwork && (
              <button type="button" className="btn" onClick={() => setEditing(true)} data-testid="profile-edit">
                {t("social.profileForm.open")}
              </button>
            )}
          </div>
        </div>
      )}
      {p && own && me && editing && <ProfileEditor profile={p} account={me} onDone={() => setEditing(false)} />}
      <h2>{t("social.posts")}</h2>
      <Feed queryKey={keys.feed("author", address, viewer)} load={(c) => endpoints.accountPosts(address, c, viewer)} empty={t("social.noPosts")} />
    </section>
  );
}
