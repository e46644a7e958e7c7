// The actions in flight and their stage, and the outbid notices (lib/outbid.ts), in one polite
// live region (screen readers hear each step and each notice).
import { useSyncExternalStore, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { dismissTx, subscribeTx, txEntries, type Stage } from "../chain/txStore";
import { dismissOutbid, outbidNotices, subscribeOutbid, type OutbidNotice } from "../lib/outbid";
import { formatAmount, shortAddress } from "../lib/format";
import { Link } from "../lib/router";

const ORDER: Stage[] = ["signing", "submitted", "mined", "indexed"];

export function TxTray() {
  const { t } = useTranslation();
  const entries = useSyncExternalStore(subscribeTx, txEntries, txEntries);
  const outbids = useSyncExternalStore(subscribeOutbid, outbidNotices, outbidNotices);
  return (
    <section className="tray" aria-label={t("tx.activity")}>
      <div aria-live="polite" role="status">
        {outbids.map((n) => (
          <Outbid key={n.key} notice={n} />
        ))}
        {entries.map((e) => (
          <div key={e.id} className={`toast ${e.stage}`} data-testid="tx" data-stage={e.stage}>
            <div className="row spread">
              <strong>{e.label}</strong>
              <button type="button" className="icon" onClick={() => dismissTx(e.id)} aria-label={t("common.dismiss")}>
                ×
              </button>
            </div>
            <ol className="steps" aria-label={t("tx.progress")}>
              {ORDER.map((s) => {
                const reached = e.stage !== "failed" && ORDER.indexOf(e.stage) >= ORDER.indexOf(s);
                return (
                  <li key={s} className={reached ? "done" : ""} aria-current={e.stage === s ? "step" : undefined}>
                    {t(`tx.stage.${s}`)}
                  </li>
                );
              })}
            </ol>
            {e.gasless && <span className="small muted">{t("tx.gasless")}</span>}
            {e.relayJob && (
              <span className="small muted mono" data-testid="relay-job">
                {" "}
                {t("tx.relayJob", { id: e.relayJob.slice(0, 8), status: t(`tx.relay.${e.relayStatus ?? "queued"}`, { defaultValue: e.relayStatus ?? "" }) })}
              </span>
            )}
            {e.stage === "failed" && (
              <p className="error small" role="alert">
                {t("tx.failed", { reason: e.error ?? "" })}
              </p>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}

/** "You were outbid on …": a link to the auction and a dismiss button (Escape dismisses too). */
function Outbid({ notice: n }: { notice: OutbidNotice }) {
  const { t, i18n } = useTranslation();
  const dismiss = () => {
    // Keyboard focus inside the notice moves on to the page rather than being lost.
    if (document.activeElement?.closest(`[data-outbid="${n.key}"]`)) document.getElementById("main")?.focus();
    dismissOutbid(n.key);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") dismiss();
  };
  return (
    <div className="toast outbid" data-testid="outbid-toast" data-outbid={n.key} onKeyDown={onKey}>
      <div className="row spread">
        <p className="outbid-text">
          {t("auction.outbidToast", {
            auction: t("auction.title", { id: n.tokenId }),
            amount: formatAmount(n.amount, n.paymentToken, i18n.language),
            bidder: shortAddress(n.bidder),
          })}
        </p>
        <button type="button" className="icon" onClick={dismiss} aria-label={t("common.dismiss")} data-testid="outbid-dismiss">
          ×
        </button>
      </div>
      <Link href={`/auction/${n.auction}`} className="btn" onClick={() => dismissOutbid(n.key)} data-testid="outbid-link">
        {t("auction.openAuction")}
      </Link>
    </div>
  );
}
