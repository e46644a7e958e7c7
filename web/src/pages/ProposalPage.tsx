// A proposal: its actions in words, vote and quorum bars, a timeline that moves as the keeper
// queues and executes it, gasless voting and votes cast.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { Addr, ErrorNote, Loading, StatusBadge } from "../components/common";
import { VoteBars } from "../components/VoteBars";
import { NeedsWallet, useWallet } from "../components/Wallet";
import { useAction, useLabels } from "../components/useLabels";
import * as actions from "../chain/actions";
import { MAX_VOTE_REASON_BYTES } from "../chain/relay";
import { describeAction } from "../lib/actions-text";
import { formatDate, formatNumber } from "../lib/format";
import { useLive } from "../lib/live";
import type { ProposalState } from "../api/types";

const TIMELINE: ProposalState[] = ["pending", "active", "succeeded", "queued", "executed"];
const SUPPORT = [
  [1, "for"],
  [0, "against"],
  [2, "abstain"],
] as const;

export default function ProposalPage({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const labels = useLabels();
  const client = useQueryClient();
  const { address } = useWallet();
  const q = useQuery({ queryKey: keys.proposal(id), queryFn: () => endpoints.proposal(id), refetchInterval: 5_000 });
  useLive(`proposals:${id},votes`, [keys.proposal(id)]);
  const [reason, setReason] = useState("");
  const { busy, run } = useAction(() => void client.invalidateQueries({ queryKey: keys.proposal(id) }));
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorNote error={q.error} />;
  const p = q.data;
  const voted = p.votes.some((v) => address && v.voter.toLowerCase() === address.toLowerCase());
  const reached = TIMELINE.indexOf(p.state);
  const reasonTooLong = new TextEncoder().encode(reason.trim()).length > MAX_VOTE_REASON_BYTES;
  const vote = async (support: 0 | 1 | 2) => {
    if (!address) return;
    const label = labels("tx.vote", { choice: t(`dao.support.${["against", "for", "abstain"][support]}`) });
    await run(() =>
      actions.voteGasless(id, support, address, label, reason.trim() || undefined),
    );
  };
  return (
    <article className="stack">
      <div className="row spread wrap">
        <h1>{p.description.split("\n")[0]}</h1>
        <span data-testid="proposal-state">
          <StatusBadge status={p.state} />
        </span>
      </div>
      <p className="small muted">
        {t("dao.proposedBy")} <Addr value={p.proposer} />
      </p>
      <ol className="timeline" aria-label={t("dao.timeline")}>
        {TIMELINE.map((s, i) => (
          <li key={s} className={reached >= i ? "done" : ""} aria-current={p.state === s ? "step" : undefined}>
            {t(`status.${s}`)}
            {s === "active" && <span className="small muted"> {formatDate(p.voteStart, i18n.language)}</span>}
            {s === "succeeded" && <span className="small muted"> {formatDate(p.voteEnd, i18n.language)}</span>}
            {s === "queued" && p.eta && <span className="small muted"> {t("dao.eta", { when: formatDate(p.eta, i18n.language) })}</span>}
          </li>
        ))}
        {!TIMELINE.includes(p.state) && (
          <li className="done failed" aria-current="step">
            {t(`status.${p.state}`)}
          </li>
        )}
      </ol>
      <section aria-labelledby="actions-h">
        <h2 id="actions-h">{t("dao.actions")}</h2>
        <ul className="rows">
          {p.actions.map((a, i) => {
            const d = describeAction(a.target, a.function, a.args);
            return (
              <li key={i} data-testid="action">
                {t(d.key, d.params as Record<string, string>)}
              </li>
            );
          })}
        </ul>
      </section>
      <VoteBars p={p} />
      {p.state === "active" && (
        <section className="panel" aria-labelledby="vote-h">
          <h2 id="vote-h">{t("dao.vote")}</h2>
          <NeedsWallet>
            {voted ? (
              <p className="ok" data-testid="voted">{t("dao.voted")}</p>
            ) : (
              <>
                <label className="block">
                  {t("dao.reason")}
                  <textarea
                    value={reason}
                    onChange={(e) => setReason(e.target.value)}
                    rows={2}
                    aria-describedby="reason-note"
                    aria-invalid={reasonTooLong}
                    data-testid="vote-reason"
                  />
                </label>
                <p id="reason-note" className={`small ${reasonTooLong ? "error" : "muted"}`} role={reasonTooLong ? "alert" : undefined}>
                  {reasonTooLong ? t("dao.reasonTooLong", { max: MAX_VOTE_REASON_BYTES }) : t("dao.reasonNote")}
                </p>
                <div className="row wrap">
                  {SUPPORT.map(([value, name]) => (
                    <button key={name} type="button" className={`btn ${name === "for" ? "primary" : ""}`} disabled={busy || reasonTooLong} onClick={() => vote(value)} data-testid={`vote-${name}`}>
                      {t(`dao.support.${name}`)}
                    </button>
                  ))}
                </div>
              </>
            )}
          </NeedsWallet>
        </section>
      )}
      <section aria-labelledby="votes-h">
        <h2 id="votes-h">{t("dao.votes", { count: p.votes.length })}</h2>
        <ul className="plain rows">
          {p.votes.map((v) => (
            <li key={v.voter}>
              <Addr value={v.voter} /> · {t(`dao.support.${v.support}`)} · {formatNumber(Number(BigInt(v.weight) / 10n ** 18n), i18n.language, true)}
              {v.reason && <q className="reason">{v.reason}</q>}
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
