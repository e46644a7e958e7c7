import { useTranslation } from "react-i18next";
import type { Proposal } from "../api/types";
import { formatNumber, formatPercent } from "../lib/format";

const whole = (wei: string) => Number(BigInt(wei) / 10n ** 18n);

function Bar({ value, className, label }: { value: number; className: string; label: string }) {
  return (
    <div className={`bar ${className}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(value)} aria-label={label}>
      <span style={{ width: `${Math.max(0, Math.min(100, value))}%` }} />
    </div>
  );
}

/** For / against / abstain shares, and the quorum progress. */
export function VoteBars({ p }: { p: Proposal }) {
  const { t, i18n } = useTranslation();
  const parts = [
    ["for", whole(p.forVotes)],
    ["against", whole(p.againstVotes)],
    ["abstain", whole(p.abstainVotes)],
  ] as const;
  const total = parts.reduce((s, [, v]) => s + v, 0);
  const quorum = Math.min(100, p.quorumProgressPercent);
  return (
    <div className="bars">
      {parts.map(([name, value]) => {
        const share = total ? value / total : 0;
        return (
          <div key={name} className="bar-row">
            <span className="bar-label">{t(`dao.support.${name}`)}</span>
            <Bar value={share * 100} className={name} label={t(`dao.support.${name}`)} />
            <span className="bar-value">
              {formatNumber(value, i18n.language, true)} ({formatPercent(share, i18n.language)})
            </span>
          </div>
        );
      })}
      <div className="bar-row">
        <span className="bar-label">{t("dao.quorum")}</span>
        <Bar value={quorum} className="quorum" label={t("dao.quorum")} />
        <span className="bar-value">{formatPercent(p.quorumProgressPercent / 100, i18n.language)}</span>
      </div>
    </div>
  );
}
