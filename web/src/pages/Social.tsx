// The social home: the composer, quick actions (app key), and two feeds: everyone's posts and
// the followed accounts' posts woven with their on-chain activity.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { endpoints, keys } from "../api/endpoints";
import { useLive } from "../lib/live";
import { AppKeyPanel, Composer, Feed, useViewer } from "../social/ui";

export default function Social() {
  const { t } = useTranslation();
  // The home feed is the viewer's own: its account is the viewer.
  const address = useViewer();
  const [tab, setTab] = useState<"global" | "home">("global");
  const shown = tab === "home" && address ? "home" : "global";
  useLive("social-posts", [["social"]]);
  return (
    <section className="stack social">
      <h1>{t("social.title")}</h1>
      <Composer onPosted={() => setTab("global")} />
      <AppKeyPanel />
      <div role="tablist" aria-label={t("social.feeds")} className="tabs">
        {(["global", "home"] as const).map((name) => (
          <button
            key={name}
            role="tab"
            id={`tab-${name}`}
            aria-selected={shown === name}
            aria-controls="panel-feed"
            type="button"
            disabled={name === "home" && !address}
            data-testid={`tab-${name}`}
            onClick={() => setTab(name)}
          >
            {t(`social.tab.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="panel-feed" aria-labelledby={`tab-${shown}`}>
        {shown === "home" && address ? (
          <Feed key="home" queryKey={keys.feed("home", address, address)} load={(c) => endpoints.homeFeed(address, c)} empty={t("social.emptyHome")} />
        ) : (
          <Feed key="global" queryKey={keys.feed("global", "", address)} load={(c) => endpoints.globalFeed(c, address)} empty={t("social.empty")} />
        )}
      </div>
    </section>
  );
}
