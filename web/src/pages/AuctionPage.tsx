// An auction: live countdown, bids arriving over the api's stream, the anti-sniping extension
// shown when it happens, an outbid notice, bidding and refund withdrawal.
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { Address } from "viem";
import { endpoints, keys } from "../api/endpoints";
import { Addr, Amount, AmountField, Countdown, ErrorNote, Loading, NftArt, StatusBadge } from "../components/common";
import { NeedsWallet, useWallet } from "../components/Wallet";
import { useAction, useLabels } from "../components/useLabels";
import * as actions from "../chain/actions";
import { formatAmount, formatDate, parseAmount } from "../lib/format";
import { useLive } from "../lib/live";
import { Link } from "../lib/router";

const same = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
const INCREMENT_BPS = 500n;

export default function AuctionPage({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const labels = useLabels();
  const client = useQueryClient();
  const { address, connected, wrongNetwork } = useWallet();
  const q = useQuery({ queryKey: keys.auction(id), queryFn: () => endpoints.auction(id) });
  useLive(`auctions:${id}`, [keys.auction(id)]);
  const [notice, setNotice] = useState<string | null>(null);
  const [extended, setExtended] = useState(false);
  const prev = useRef<{ end: number; bidder?: string } | null>(null);
  const [amount, setAmount] = useState("");
  const refund = useQuery({
    queryKey: ["refund", address, q.data?.paymentToken],
    queryFn: () => actions.pendingRefund(q.data!.paymentToken as Address),
    enabled: connected && !wrongNetwork && !!q.data,
  });
  const offset = useQuery({
    queryKey: ["chain-offset"],
    queryFn: actions.chainClockOffset,
    enabled: connected && !wrongNetwork,
    staleTime: 30_000,
  });
  const { busy, run } = useAction(() => {
    void client.invalidateQueries({ queryKey: keys.auction(id) });
    void refund.refetch();
  });

  useEffect(() => {
    const a = q.data;
    if (!a) return;
    const before = prev.current;
    if (before) {
      if (a.endTime > before.end) {
        setExtended(true);
        setNotice(t("auction.extendedTo", { time: formatDate(a.endTime, i18n.language) }));
      }
      if (same(before.bidder, address) && !same(a.highestBidder, address)) {
        setNotice(t("auction.outbid", { amount: formatAmount(a.highestBid, a.paymentToken, i18n.language) }));
        void refund.refetch();
      }
    }
    prev.current = { end: a.endTime, bidder: a.highestBidder };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q.data, address]);

  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorNote error={q.error} />;
  const a = q.data;
  const highest = BigInt(a.highestBid);
  const minimum = highest > 0n ? highest + (highest * INCREMENT_BPS) / 10_000n : BigInt(a.reservePrice);
  const parsed = parseAmount(amount);
  const leading = same(a.highestBidder, address);
  // The api judges "ended" by the wall clock; a dev chain may run ahead of it.
  const status = a.status === "live" && a.endTime <= Date.now() / 1000 + (offset.data ?? 0) ? "ended" : a.status;
  return (
    <article className="detail">
      <NftArt contract={a.nft} tokenId={a.tokenId} size="large" />
      <div className="stack">
        <h1>{t("auction.title", { id: a.tokenId })}</h1>
        <p>
          <Link href={`/nft/${a.nft}/${a.tokenId}`}>{t("auction.viewNft")}</Link>
        </p>
        <div role="alert" aria-live="assertive" className={notice ? "banner info" : "sr-only"} data-testid="auction-notice">
          {notice}
        </div>
        <dl className="facts">
          <dt>{t("auction.status")}</dt>
          <dd>
            <StatusBadge status={status} />
          </dd>
          <dt>{t("auction.endsIn")}</dt>
          <dd>
            <Countdown end={a.endTime} offset={offset.data ?? 0} /> {extended && <span className="badge s-extended" data-testid="extended">{t("auction.extended")}</span>}
          </dd>
          <dt>{t("auction.highest")}</dt>
          <dd data-testid="highest">
            {highest > 0n ? (
              <>
                <Amount value={a.highestBid} token={a.paymentToken} /> · <Addr value={a.highestBidder ?? ""} />
              </>
            ) : (
              t("auction.noBids")
            )}
          </dd>
          <dt>{t("auction.reserve")}</dt>
          <dd>
            <Amount value={a.reservePrice} token={a.paymentToken} />
          </dd>
          <dt>{t("auction.seller")}</dt>
          <dd>
            <Addr value={a.seller} />
          </dd>
        </dl>
        {status === "ended" && (
          <NeedsWallet>
            <button
              type="button"
              className="btn primary"
              disabled={busy}
              data-testid="settle"
              onClick={() => run(() => actions.settle(id, labels("tx.settle", { id: a.tokenId })))}
            >
              {t("auction.settle")}
            </button>
          </NeedsWallet>
        )}
        {status === "live" && (
          <section className="panel" aria-labelledby="bid-h">
            <h2 id="bid-h">{t("auction.placeBid")}</h2>
            <NeedsWallet>
              {leading ? (
                <p className="ok" data-testid="leading">{t("auction.leading")}</p>
              ) : null}
              <form
                className="row wrap"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (parsed && address) void run(() => actions.bid(id, a.paymentToken, parsed, address, labels("tx.bid", { id: a.tokenId })));
                }}
              >
                <AmountField label={t("auction.yourBid")} value={amount} onChange={setAmount} testId="bid-amount" describedBy="bid-min" />
                <button type="submit" className="btn primary" disabled={busy || !parsed || parsed < minimum} data-testid="bid">
                  {t("auction.bid")}
                </button>
                <p id="bid-min" className="small muted">
                  {t("auction.minimum", { amount: formatAmount(minimum, a.paymentToken, i18n.language, 6) })}
                </p>
              </form>
            </NeedsWallet>
          </section>
        )}
        {refund.data !== undefined && refund.data > 0n && (
          <section className="panel" aria-labelledby="refund-h">
            <h2 id="refund-h">{t("auction.refunds")}</h2>
            <p>
              <Amount value={refund.data} token={a.paymentToken} />
            </p>
            <button type="button" className="btn" disabled={busy} data-testid="withdraw" onClick={() => run(() => actions.withdraw(a.paymentToken as Address, labels("tx.withdraw")))}>
              {t("auction.withdraw")}
            </button>
          </section>
        )}
        <section aria-labelledby="bids-h">
          <h2 id="bids-h">{t("auction.bids", { count: a.bids.length })}</h2>
          <ol className="plain rows" reversed data-testid="bids">
            {[...a.bids].reverse().map((b, i) => (
              <li key={`${b.blockNumber}-${i}`}>
                <Amount value={b.amount} token={a.paymentToken} /> · <Addr value={b.bidder} />{" "}
                <span className="muted small">{t("nft.block", { n: b.blockNumber })}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </article>
  );
}
