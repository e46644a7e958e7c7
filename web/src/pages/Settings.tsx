import { useTranslation } from "react-i18next";
import { LanguageSelect, ThemeToggle } from "../App";
import { useSession } from "../auth/useSession";
import { signOut, signOutEverywhere } from "../auth/session";
import { formatDate } from "../lib/format";
import { Addr } from "../components/common";

export default function Settings() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  return (
    <section className="stack">
      <h1>{t("settings.title")}</h1>
      <div className="panel row wrap spread">
        <span>{t("settings.theme.label")}</span>
        <ThemeToggle />
      </div>
      <div className="panel row wrap spread">
        <span aria-hidden="true">{t("settings.language")}</span>
        <LanguageSelect id="lang-settings" />
      </div>
      <div className="panel stack">
        <h2>{t("settings.session")}</h2>
        {session ? (
          <>
            <p>
              {t("settings.signedInAs")} <Addr value={session.address} />
            </p>
            <p className="small muted">{t("settings.expires", { when: formatDate(session.expiresAt, i18n.language) })}</p>
            <div className="row wrap">
              <button type="button" className="btn" onClick={() => void signOut()}>
                {t("settings.signOutHere")}
              </button>
              <button type="button" className="btn danger" onClick={() => void signOutEverywhere()} data-testid="sign-out-everywhere">
                {t("settings.signOutEverywhere")}
              </button>
            </div>
          </>
        ) : (
          <p className="muted">{t("settings.notSignedIn")}</p>
        )}
      </div>
    </section>
  );
}
