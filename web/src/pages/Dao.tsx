// Proposals by state, with vote and quorum bars.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { endpoints, keys } from "../api/endpoints";
import { ErrorNote, Loading, StatusBadge } from "../components/common";
import { VoteBars } from "../components/VoteBars";
import { Link } from "../lib/router";
import { useLive } from "../lib/live";
import { formatDate, formatRelative } from "../lib/format";

const STATES = ["", "active", "pending", "succeeded", "queued", "executed", "defeated", "canceled", "expired"];

export default function Dao() {
  const { t, i18n } = useTranslation();
  const [state, setState] = useState("");
  const q = useQuery({ queryKey: keys.proposals(state || undefined), queryFn: () => endpoints.proposals(state || undefined) });
  useLive("proposals,votes", [["proposals"]]);
  return (
    <section>
      <h1>{t("dao.title")}</h1>
      <label className="inline">
        {t("dao.filter")}
        <select value={state} onChange={(e) => setState(e.target.value)}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s ? t(`status.${s}`) : t("market.any")}
            </option>
          ))}
        </select>
      </label>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {q.data?.items.length === 0 && <p className="muted">{t("dao.empty")}</p>}
      <ul className="plain stack" data-testid="proposals">
        {q.data?.items.map((p) => (
          <li key={p.id} className="panel">
            <div className="row spread wrap">
              <Link href={`/dao/${p.id}`} className="title">
                {p.description.split("\n")[0]}
              </Link>
              <StatusBadge status={p.state} />
            </div>
            <p className="small muted">
              {p.state === "active" ? t("dao.endsAt", { when: formatRelative(p.voteEnd, i18n.language) }) : t("dao.endedAt", { when: formatDate(p.voteEnd, i18n.language) })}
            </p>
            <VoteBars p={p} />
          </li>
        ))}
      </ul>
    </section>
  );
}
