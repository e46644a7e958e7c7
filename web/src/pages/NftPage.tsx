// An NFT: art, owner, royalty, listing (buy, or list / change price / cancel for the owner),
// offers (make, cancel, accept gaslessly), sales, transfer history and its discussion.
import { lazy, Suspense, useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";
import { endpoints, keys } from "../api/endpoints";
import { Addr, Amount, AmountField, ErrorNote, Loading, NftArt, StatusBadge } from "../components/common";
import { NeedsWallet, useWallet } from "../components/Wallet";
import { useAction, useLabels } from "../components/useLabels";
import * as actions from "../chain/actions";
import { config, ETH } from "../lib/config";
import { formatPercent, parseAmount, tokenSymbol } from "../lib/format";
import { useLive } from "../lib/live";
import { useSentinel } from "../lib/sentinel";
import type { Listing, Nft, Offer } from "../api/types";
import { type Metadata, parseTokenUri } from "../lib/metadata";

const NftDiscussion = lazy(() => import("../social/NftDiscussion"));

/** The discussion, fetched only when the reader scrolls near it (not part of the page's load). */
function LaterDiscussion({ contract, tokenId }: { contract: string; tokenId: string }) {
  const [shown, setShown] = useState(false);
  const show = useCallback(() => setShown(true), []);
  const sentinel = useSentinel(show, !shown);
  if (!shown) return <div ref={sentinel} data-testid="discussion-sentinel" />;
  return (
    <Suspense fallback={null}>
      <NftDiscussion contract={contract} tokenId={tokenId} />
    </Suspense>
  );
}

const same = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/** What the page shows: the api's resolved metadata, else what the token URI carries. */
function metadataOf(n: Nft): Metadata | null {
  const m = n.metadata;
  if (m && m.state === "resolved") {
    return {
      name: m.name,
      description: m.description,
      attributes: m.attributes.map((a) => ({ trait: a.traitType, value: a.value })),
    };
  }
  return parseTokenUri(n.tokenUri);
}

export default function NftPage({ contract, tokenId }: { contract: string; tokenId: string }) {
  const { t, i18n } = useTranslation();
  const nft = useQuery({ queryKey: keys.nft(contract, tokenId), queryFn: () => endpoints.nft(contract, tokenId) });
  const listing = useQuery({
    queryKey: ["listing-of", contract.toLowerCase(), tokenId],
    queryFn: async () => {
      const page = await endpoints.listings({ nft: contract, status: "active", limit: 100 });
      return page.items.find((l) => l.tokenId === tokenId) ?? null;
    },
  });
  useLive("listings,offers,sales,nfts", [keys.nft(contract, tokenId), ["listing-of"]]);
  if (nft.isPending) return <Loading />;
  if (nft.error) return <ErrorNote error={nft.error} />;
  const n = nft.data;
  const meta = metadataOf(n);
  return (
    <article className="detail">
      <NftArt contract={n.contract} tokenId={n.tokenId} size="large" metadata={n.metadata} />
      <div className="stack">
        <h1>{meta?.name || t("nft.name", { id: n.tokenId })}</h1>
        {meta?.description && <p className="muted">{meta.description}</p>}
        {meta && meta.attributes.length > 0 && (
          <section aria-labelledby="traits-h">
            <h2 id="traits-h">{t("nft.traits")}</h2>
            <ul className="plain traits">
              {meta.attributes.map((a) => (
                <li key={a.trait + a.value}>
                  <span>{a.trait}</span>
                  {a.value}
                </li>
              ))}
            </ul>
          </section>
        )}
        <dl className="facts">
          <dt>{t("nft.owner")}</dt>
          <dd data-testid="owner">
            <Addr value={n.owner} />
          </dd>
          <dt>{t("nft.collection")}</dt>
          <dd>
            <Addr value={n.contract} />
          </dd>
          <dt>{t("nft.royalty")}</dt>
          <dd>{n.royaltyBps ? formatPercent(n.royaltyBps / 10_000, i18n.language) : t("nft.defaultRoyalty")}</dd>
        </dl>
        <ListingPanel listing={listing.data ?? null} owner={n.owner} contract={n.contract} tokenId={n.tokenId} />
        <OffersPanel offers={n.offers} owner={n.owner} contract={n.contract} tokenId={n.tokenId} />
        <section>
          <h2>{t("nft.sales")}</h2>
          {n.sales.length === 0 ? (
            <p className="muted">{t("nft.noSales")}</p>
          ) : (
            <ul className="plain rows">
              {n.sales.map((s, i) => (
                <li key={i}>
                  <Amount value={s.price} token={s.paymentToken} /> · <Addr value={s.seller} /> → <Addr value={s.buyer} />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section>
          <h2>{t("nft.history")}</h2>
          <ol className="plain rows">
            {n.history.map((h) => (
              <li key={h.txHash + h.to}>
                {/^0x0+$/.test(h.from) ? t("nft.minted") : <Addr value={h.from} />} → <Addr value={h.to} />{" "}
                <span className="muted small">{t("nft.block", { n: h.blockNumber })}</span>
              </li>
            ))}
          </ol>
        </section>
        <LaterDiscussion contract={n.contract} tokenId={n.tokenId} />
      </div>
    </article>
  );
}

function ListingPanel({ listing, owner, contract, tokenId }: { listing: Listing | null; owner: string; contract: string; tokenId: string }) {
  const { t } = useTranslation();
  const labels = useLabels();
  const { address } = useWallet();
  const [price, setPrice] = useState("");
  const [newPrice, setNewPrice] = useState("");
  const [currency, setCurrency] = useState<string>(ETH);
  const { busy, run } = useAction();
  const mine = same(owner, address);
  const parsed = parseAmount(price);
  const parsedNew = parseAmount(newPrice);
  return (
    <section className="panel" aria-labelledby="listing-h">
      <h2 id="listing-h">{t("nft.listing")}</h2>
      {listing ? (
        <>
          <p className="price" data-testid="price">
            <Amount value={listing.price} token={listing.paymentToken} /> <StatusBadge status={listing.status} />
          </p>
          <NeedsWallet>
            {same(listing.seller, address) ? (
              <form
                className="row wrap"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (parsedNew) void run(() => actions.updatePrice(listing, parsedNew, labels("tx.updatePrice"))).then(() => setNewPrice(""));
                }}
              >
                <AmountField label={t("nft.newPriceIn", { symbol: tokenSymbol(listing.paymentToken) })} value={newPrice} onChange={setNewPrice} testId="new-price" />
                <button type="submit" className="btn" disabled={busy || !parsedNew} data-testid="change-price">
                  {t("nft.changePrice")}
                </button>
                <button type="button" className="btn danger" disabled={busy} onClick={() => run(() => actions.cancelListing(listing, labels("tx.cancelListing")))} data-testid="cancel-listing">
                  {t("nft.cancel")}
                </button>
              </form>
            ) : (
              <button
                type="button"
                className="btn primary"
                disabled={busy}
                data-testid="buy"
                onClick={() => address && run(() => actions.buy(listing, address, labels("tx.buy", { id: tokenId })))}
              >
                {t("nft.buy")}
              </button>
            )}
            {!same(listing.paymentToken, ETH) && !same(listing.seller, address) && <p className="small muted">{t("nft.approvalNote")}</p>}
          </NeedsWallet>
        </>
      ) : mine ? (
        <NeedsWallet>
          <form
            className="row wrap"
            onSubmit={(e) => {
              e.preventDefault();
              if (parsed) void run(() => actions.listGasless(contract as Address, tokenId, currency as Address, parsed, labels("tx.list", { id: tokenId })));
            }}
          >
            <AmountField label={t("nft.price")} value={price} onChange={setPrice} testId="list-price" />
            <label>
              {t("market.currency")}
              <select value={currency} onChange={(e) => setCurrency(e.target.value)} data-testid="list-currency">
                <option value={ETH}>ETH</option>
                <option value={config.contracts.token}>NEST</option>
              </select>
            </label>
            <button type="submit" className="btn primary" disabled={busy || !parsed} data-testid="list">
              {t("nft.listGasless")}
            </button>
            <p className="small muted">{t("nft.gaslessNote")}</p>
          </form>
        </NeedsWallet>
      ) : (
        <p className="muted">{t("nft.notListed")}</p>
      )}
    </section>
  );
}

function OffersPanel({ offers, owner, contract, tokenId }: { offers: Offer[]; owner: string; contract: string; tokenId: string }) {
  const { t } = useTranslation();
  const labels = useLabels();
  const { address, connected, wrongNetwork } = useWallet();
  const [amount, setAmount] = useState("");
  const { busy, run } = useAction();
  const parsed = parseAmount(amount);
  const ready = connected && !wrongNetwork;
  const open = offers.filter((o) => o.status === "open");
  return (
    <section className="panel" aria-labelledby="offers-h">
      <h2 id="offers-h">{t("nft.offers")}</h2>
      {open.length === 0 && <p className="muted">{t("nft.noOffers")}</p>}
      <ul className="plain rows" data-testid="offers">
        {open.map((o) => (
          <li key={o.id} className="row wrap spread" data-testid="offer">
            <span>
              <Amount value={o.amount} token={o.paymentToken} /> · <Addr value={o.buyer} />
            </span>
            {ready && same(owner, address) && !same(o.buyer, address) && (
              <button type="button" className="btn primary" disabled={busy} data-testid="accept-offer" onClick={() => run(() => actions.acceptOfferGasless(o, labels("tx.acceptOffer")))}>
                {t("nft.acceptGasless")}
              </button>
            )}
            {ready && same(o.buyer, address) && (
              <button type="button" className="btn" disabled={busy} data-testid="cancel-offer" onClick={() => run(() => actions.cancelOffer(o, labels("tx.cancelOffer")))}>
                {t("nft.cancel")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {!same(owner, address) && (
        <NeedsWallet>
          <form
            className="row wrap"
            onSubmit={(e) => {
              e.preventDefault();
              if (parsed && address) void run(() => actions.makeOffer(contract as Address, tokenId, parsed, address, labels("tx.makeOffer"))).then(() => setAmount(""));
            }}
          >
            <AmountField label={t("nft.offerAmount")} value={amount} onChange={setAmount} testId="offer-amount" />
            <button type="submit" className="btn" disabled={busy || !parsed} data-testid="make-offer">
              {t("nft.makeOffer")}
            </button>
            <p className="small muted">{t("nft.offerNote")}</p>
          </form>
        </NeedsWallet>
      )}
    </section>
  );
}
