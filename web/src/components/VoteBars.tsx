import { useTranslation } from "react-i18next";
import type { Proposal } from "../api/types";
import { formatNumber, formatPercent } from "../lib/format";

const whole = (wei: string) => Number(BigInt(wei) / 10n ** 18n);

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
            <meter className={`bar ${name}`} min={0} max={1} value={share} aria-label={t(`dao.support.${name}`)} />
            <span className="bar-value">
              {formatNumber(value, i18n.language, true)} ({formatPercent(share, i18n.language)})
            </span>
          </div>
        );
      })}
      <div className="bar-row">
        <span className="bar-label">{t("dao.quorum")}</span>
        <meter className="bar quorum" min={0} max={100} value={quorum} aria-label={t("dao.quorum")} />
        <span className="bar-value">{formatPercent(p.quorumProgressPercent / 100, i18n.language)}</span>
      </div>
    </div>
  );
}
