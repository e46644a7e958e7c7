import { lazy, Suspense, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, match, usePath } from "./lib/router";
import { NetworkBanner, WalletButton } from "./components/Wallet";
import { TxTray } from "./components/TxTray";
import { OutbidWatcher } from "./components/OutbidWatcher";
import { NotificationsLink } from "./components/NotificationsLink";
import { currentTheme, setTheme, type Theme } from "./lib/theme";
import { LANGUAGES, setLanguage, type Language } from "./i18n";

// Each route's code, loaded on first visit (and started early for the first page: preloadRoute).
const loaders = {
  market: () => import("./pages/Market"),
  nft: () => import("./pages/NftPage"),
  auction: () => import("./pages/AuctionPage"),
  portfolio: () => import("./pages/Portfolio"),
  dao: () => import("./pages/Dao"),
  proposal: () => import("./pages/ProposalPage"),
  settings: () => import("./pages/Settings"),
  social: () => import("./pages/Social"),
  socialPost: () => import("./pages/SocialPost"),
  socialProfile: () => import("./pages/SocialProfile"),
  notifications: () => import("./pages/SocialNotifications"),
};
const Market = lazy(loaders.market);
const NftPage = lazy(loaders.nft);
const AuctionPage = lazy(loaders.auction);
const Portfolio = lazy(loaders.portfolio);
const Dao = lazy(loaders.dao);
const ProposalPage = lazy(loaders.proposal);
const Settings = lazy(loaders.settings);
const Social = lazy(loaders.social);
const SocialPost = lazy(loaders.socialPost);
const SocialProfile = lazy(loaders.socialProfile);
const SocialNotifications = lazy(loaders.notifications);

/** Starts loading `route`'s code now (the module is shared with its lazy component). */
export function preloadRoute(route: string): void {
  const load = loaders[route as keyof typeof loaders];
  if (load) void load();
}

export function ThemeToggle() {
  const { t } = useTranslation();
  const [theme, set] = useState<Theme>(currentTheme());
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      className="btn icon"
      aria-label={t("settings.switchTheme", { theme: t(`settings.theme.${next}`) })}
      aria-pressed={theme === "dark"}
      data-testid="theme-toggle"
      onClick={() => {
        setTheme(next);
        set(next);
      }}
    >
      {theme === "dark" ? "☾" : "☀"}
    </button>
  );
}

export function LanguageSelect({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  return (
    <>
      <label htmlFor={id} className="sr-only">
        {t("settings.language")}
      </label>
      <select id={id} value={i18n.language} data-testid="language" onChange={(e) => void setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {t(`settings.languages.${l}`)}
          </option>
        ))}
      </select>
    </>
  );
}

const NAV = [
  ["/", "nav.market", "market"],
  ["/dao", "nav.dao", "dao"],
  ["/social", "nav.social", "social"],
  ["/portfolio", "nav.portfolio", "portfolio"],
  ["/settings", "nav.settings", "settings"],
] as const;

function section(route: string): string {
  if (route === "nft" || route === "auction") return "market";
  if (route === "proposal") return "dao";
  if (route === "socialPost" || route === "socialProfile" || route === "notifications") return "social";
  return route;
}

export function App() {
  const { t } = useTranslation();
  const path = usePath();
  const route = match(path);
  const current = section(route.name);
  useEffect(() => {
    document.title = `${t(`nav.${current === "notFound" ? "market" : current}`)} · Nest`;
  }, [current, t]);
  return (
    <>
      <a href="#main" className="skip">
        {t("nav.skip")}
      </a>
      <header className="top">
        <Link href="/" className="brand" aria-label={t("nav.home")}>
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Nest</span>
        </Link>
        <nav aria-label={t("nav.main")} className="top-nav">
          {NAV.slice(0, 4).map(([href, key, name]) => (
            <Link key={href} href={href} aria-current={current === name ? "page" : undefined}>
              {t(key)}
            </Link>
          ))}
        </nav>
        <div className="top-actions">
          <span className="desktop-only">
            <LanguageSelect id="lang-top" />
          </span>
          <ThemeToggle />
          <NotificationsLink />
          <WalletButton />
        </div>
      </header>
      <NetworkBanner />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted" aria-busy="true">{t("common.loading")}</p>}>
          {route.name === "market" && <Market />}
          {route.name === "nft" && <NftPage contract={route.params.contract} tokenId={route.params.tokenId} />}
          {route.name === "auction" && <AuctionPage id={route.params.id} />}
          {route.name === "portfolio" && <Portfolio />}
          {route.name === "dao" && <Dao />}
          {route.name === "proposal" && <ProposalPage id={route.params.id} />}
          {route.name === "settings" && <Settings />}
          {route.name === "social" && <Social />}
          {route.name === "socialPost" && <SocialPost id={route.params.id.toLowerCase()} />}
          {route.name === "socialProfile" && <SocialProfile address={route.params.address.toLowerCase()} />}
          {route.name === "notifications" && <SocialNotifications />}
          {route.name === "notFound" && (
            <section>
              <h1>{t("common.notFound")}</h1>
              <Link href="/">{t("nav.market")}</Link>
            </section>
          )}
        </Suspense>
      </main>
      <TxTray />
      <OutbidWatcher />
      <nav aria-label={t("nav.main")} className="bottom-nav">
        {NAV.map(([href, key, name]) => (
          <Link key={href} href={href} aria-current={current === name ? "page" : undefined}>
            {t(key)}
          </Link>
        ))}
      </nav>
    </>
  );
}
