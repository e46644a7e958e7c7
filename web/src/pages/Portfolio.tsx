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
  // Offers on what this wallet owns (one request per NFT: the api filters offers by token).
  const received = useQuery({
    queryKey: ["offers-received", me, nfts.data?.items.length],
    enabled: !!nfts.data,
    queryFn: async () => {
      const lists = await Promise.all((nfts.data?.items ?? []).slice(0, 50).map((n) => endpoints.offersForToken(n.contract, n.tokenId)));
      return lists.flat().filter((o) => o.status === "open");
    },
  });
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
      <section aria-labelledby="offers-made-h">
        <h2 id="offers-made-h">{t("portfolio.offers")}</h2>
        {offers.data?.length === 0 && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows">
          {offers.data?.map((o) => (
            <li key={o.id}>
              <Link href={`/nft/${o.nft}/${o.tokenId}`}>{t("nft.name", { id: o.tokenId })}</Link> · <Amount value={o.amount} token={o.paymentToken} />{" "}
              <StatusBadge status={o.status} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="offers-received-h">
        <h2 id="offers-received-h">{t("portfolio.offersReceived")}</h2>
        {received.data?.length === 0 && <p className="muted">{t("portfolio.none")}</p>}
        <ul className="plain rows">
          {received.data?.map((o) => (
            <li key={o.id} className="row wrap spread">
              <span>
                <Link href={`/nft/${o.nft}/${o.tokenId}`}>{t("nft.name", { id: o.tokenId })}</Link> · <Amount value={o.amount} token={o.paymentToken} /> ·{" "}
                <Addr value={o.buyer} />
              </span>
              <button type="button" className="btn" disabled={busy} onClick={() => run(() => actions.acceptOfferGasless(o.id, o.nft as Address, labels("tx.acceptOffer")))}>
                {t("nft.accept")}
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
            {t("portfolio.delegatedTo")} <Addr value={power.data.delegate} />
          </p>
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
