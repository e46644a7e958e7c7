// The connected wallet's NFTs, listings, offers, withdrawable refunds and voting power.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { isAddress, type Address } from "viem";
import { endpoints, keys } from "../api/endpoints";
import { Addr, Amount, ErrorNote, Loading, NftArt, NftTitle, StatusBadge } from "../components/common";
import { NeedsWallet, useWallet } from "../components/Wallet";
import { useAction, useLabels } from "../components/useLabels";
import * as actions from "../chain/actions";
import { config, ETH } from "../lib/config";
import { formatAmount } from "../lib/format";
import { Link } from "../lib/router";
import { useLive } from "../lib/live";

export default function Portfolio() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t("portfolio.title")}</h1>
      <NeedsWallet>
        <Owned />
      </NeedsWallet>
    </section>
  );
}

function Owned() {
  const { t, i18n } = useTranslation();
  const labels = useLabels();
  const { address } = useWallet();
  const me = address as Address;
  const nfts = useQuery({ queryKey: keys.nfts(me), queryFn: () => endpoints.nfts(me) });
  const listings = useQuery({ queryKey: ["my-listings", me], queryFn: () => endpoints.listings({ seller: me, status: "active", limit: 100 }) });
  const offers = useQuery({ queryKey: keys.offers(me), queryFn: () => endpoints.offersByBuyer(me) });
  // Bids, offers received and proposals awaiting a vote: the api's portfolio of this wallet.
  const portfolio = useQuery({ queryKey: keys.portfolio(me), queryFn: () => endpoints.portfolio(me) });
  useLive("listings,auctions,offers,sales,proposals", [keys.portfolio(me), keys.offers(me), ["my-listings", me], keys.nfts(me)]);
  const received = portfolio.data?.offers.received;
  const refunds = useQuery({
    queryKey: ["refunds", me],
    queryFn: async () => ({ eth: await actions.pendingRefund(ETH), nest: await actions.pendingRefund(config.contracts.token) }),
  });
  const power = useQuery({ queryKey: ["power", me], queryFn: actions.votingPower });
  const [delegatee, setDelegatee] = useState("");
  const { busy, run } = useAction();
  return (
    <div className="stack">
      <section aria-labelledby="owned-h">
        <h2 id="owned-h">{t("portfolio.owned")}</h2>
        {nfts.isPending && <Loading />}
        {nfts.error && <ErrorNote error={nfts.error} />}
        {nfts.data?.items.length === 0 && <p className="muted">{t("portfolio.noNfts")}</p>}
        <ul className="grid plain" data-testid="owned">
          {nfts.data?.items.map((n) => (
            <li key={n.contract + n.tokenId} className="card">
              <Link href={`/nft/${n.contract}/${n.tokenId}`} className="card-link">
                <NftArt contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                <div className="card-body">
                  <span className="title">
                    <NftTitle contract={n.contract} tokenId={n.tokenId} metadata={n.metadata} />
                  </span>
                </div>
              </Link>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="listed-h">
        <h2 id="listed-h">{t("portfolio.listed")}</h2>
        {listings.data?.items.length === 0 && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows">
          {listings.data?.items.map((l) => (
            <li key={l.id}>
              <Link href={`/nft/${l.nft}/${l.tokenId}`}>{t("nft.name", { id: l.tokenId })}</Link> · <Amount value={l.price} token={l.paymentToken} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="bids-h" data-testid="bids">
        <h2 id="bids-h">{t("portfolio.bids")}</h2>
        {portfolio.error && <ErrorNote error={portfolio.error} />}
        {portfolio.data &&
          (["leading", "outbid", "selling"] as const).every((k) => portfolio.data.auctions[k].length === 0) && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows">
          {portfolio.data &&
            (["leading", "outbid", "selling"] as const).flatMap((kind) =>
              portfolio.data.auctions[kind].map((a) => (
                <li key={`${kind}-${a.id}`} className="row wrap spread" data-testid={`bid-${kind}`}>
                  <span>
                    <Link href={`/auction/${a.id}`}>{t("auction.title", { id: a.tokenId })}</Link> · <Amount value={a.highestBid} token={a.paymentToken} />
                  </span>
                  <span className={`badge s-${kind}`}>{t(`portfolio.position.${kind}`)}</span>
                </li>
              )),
            )}
        </ul>
      </section>
      <section aria-labelledby="offers-made-h">
        <h2 id="offers-made-h">{t("portfolio.offers")}</h2>
        {offers.data?.length === 0 && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows">
          {offers.data?.map((o) => (
            <li key={o.id}>
              <Link href={`/nft/${o.nft}/${o.tokenId}`}>{t("nft.name", { id: o.tokenId })}</Link> · <Amount value={o.amount} token={o.paymentToken} />{" "}
              <StatusBadge status={o.status} />{" "}
              {o.status === "open" && (
                <button type="button" className="btn" disabled={busy} data-testid="cancel-offer" onClick={() => run(() => actions.cancelOffer(o, labels("tx.cancelOffer")))}>
                  {t("nft.cancel")}
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="offers-received-h">
        <h2 id="offers-received-h">{t("portfolio.offersReceived")}</h2>
        {received?.length === 0 && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows" data-testid="offers-received">
          {received?.map((o) => (
            <li key={o.id} className="row wrap spread">
              <span>
                <Link href={`/nft/${o.nft}/${o.tokenId}`}>{t("nft.name", { id: o.tokenId })}</Link> · <Amount value={o.amount} token={o.paymentToken} /> ·{" "}
                <Addr value={o.buyer} />
              </span>
              <button type="button" className="btn primary" disabled={busy} data-testid="accept-offer" onClick={() => run(() => actions.acceptOfferGasless(o, labels("tx.acceptOffer")))}>
                {t("nft.acceptGasless")}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="refunds-h" className="panel">
        <h2 id="refunds-h">{t("portfolio.refunds")}</h2>
        {refunds.data && (
          <ul className="plain rows">
            {(
              [
                [ETH, refunds.data.eth],
                [config.contracts.token, refunds.data.nest],
              ] as const
            ).map(([token, value]) => (
              <li key={token} className="row spread">
                <Amount value={value} token={token} />
                <button type="button" className="btn" disabled={busy || value === 0n} onClick={() => run(() => actions.withdraw(token, labels("tx.withdraw")))}>
                  {t("auction.withdraw")}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="power-h" className="panel">
        <h2 id="power-h">{t("portfolio.votingPower")}</h2>
        {power.data && (
          <p data-testid="voting-power">
            {formatAmount(power.data.votes, config.contracts.token, i18n.language, 2)} ·{" "}
            {/^0x0{40}$/i.test(power.data.delegate) ? (
              t("portfolio.notDelegated")
            ) : (
              <>
                {t("portfolio.delegatedTo")} <Addr value={power.data.delegate} />
              </>
            )}
          </p>
        )}
        {portfolio.data && portfolio.data.governance.openProposalsNotVoted.length > 0 && (
          <>
            <h3>{t("portfolio.awaitingVote")}</h3>
            <ul className="plain rows" data-testid="awaiting-vote">
              {portfolio.data.governance.openProposalsNotVoted.map((p) => (
                <li key={p.id}>
                  <Link href={`/dao/${p.id}`}>{p.description.split("\n")[0]}</Link>
                </li>
              ))}
            </ul>
          </>
        )}
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            if (isAddress(delegatee)) void run(() => actions.delegateGasless(delegatee, labels("tx.delegate")));
          }}
        >
          <label>
            {t("portfolio.delegatee")}
            <input value={delegatee} onChange={(e) => setDelegatee(e.target.value)} placeholder="0x…" spellCheck={false} />
          </label>
          <button type="button" className="btn" onClick={() => setDelegatee(me)}>
            {t("portfolio.self")}
          </button>
          <button type="submit" className="btn primary" disabled={busy || !isAddress(delegatee)}>
            {t("portfolio.delegate")}
          </button>
        </form>
      </section>
    </div>
  );
}
