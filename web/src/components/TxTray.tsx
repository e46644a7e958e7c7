// The actions in flight and their stage, in a polite live region (screen readers hear each step).
import { useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { dismissTx, subscribeTx, txEntries, type Stage } from "../chain/txStore";

const ORDER: Stage[] = ["signing", "submitted", "mined", "indexed"];

export function TxTray() {
  const { t } = useTranslation();
  const entries = useSyncExternalStore(subscribeTx, txEntries, txEntries);
  return (
    <section className="tray" aria-label={t("tx.activity")}>
      <div aria-live="polite" role="status">
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
