//! Two wallets bid against each other on the seeded auction while a subscriber watches the
//! api's live stream (`nest indexer` and `nest api` as processes): every bid is announced; a
//! bid inside the last minutes extends the auction (anti-sniping) and the api shows the new end;
//! every outbid bid is a refund the api lists as withdrawable, to the wei; after the extended end
//! the auction settles to the last bidder, and every party's balance (with what it may
//! withdraw) moved by exactly its share.

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::TransactionReceipt,
};
use common::{LiveStream, Processes, eventually, wei};
use nest_abis::{NestMarketplace, NestNFT};
use nest_testkit::{HttpClient, TestChain, TestRedis, TestStore, send};
use std::{collections::BTreeMap, time::Duration};

/// What `who` holds in ETH plus what the marketplace owes it.
async fn worth(chain: &TestChain, who: Address) -> U256 {
    let market = NestMarketplace::new(chain.addresses.marketplace, chain.reader());
    chain.balance(who).await
        + market
            .pendingWithdrawal(who, Address::ZERO)
            .call()
            .await
            .expect("pending")
}

fn gas(receipt: &TransactionReceipt) -> U256 {
    U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price)
}

/// The ETH the api says `who` may withdraw.
async fn withdrawable(client: &HttpClient, who: Address) -> U256 {
    let portfolio = client.get(&format!("/v1/users/{who}/portfolio")).await;
    assert_eq!(portfolio.status, 200, "{}", portfolio.body);
    portfolio.json()["withdrawable"]
        .as_array()
        .expect("withdrawable")
        .iter()
        .find(|a| a["symbol"] == "ETH")
        .map(|a| wei(&a["raw"]))
        .unwrap_or(U256::ZERO)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_war_is_seen_live_extends_the_auction_and_settles_to_the_wei() {
    let chain = TestChain::builder().seeded().start().await;
    let store = TestStore::fresh("e2e_bid_war").await;
    let redis = TestRedis::start();
    let processes = Processes::new(&chain, store.database().name(), &redis);
    let _indexer = processes.indexer();
    let (_api, client) = processes.api();
    let auction_id = chain.seed().auction_id;
    let path = format!("/v1/auctions/{auction_id}");
    let seeded = eventually(&client, &path, Duration::from_secs(60), |a| {
        a["status"] == "live" && a["bidCount"] == 1
    })
    .await;
    let mut stream = LiveStream::open(&client, &format!("auctions:{auction_id}")).await;

    let reader = chain.reader();
    let market = NestMarketplace::new(chain.addresses.marketplace, &reader);
    let config = market.auctionConfig().call().await.expect("config");
    let on_chain = market.auctions(auction_id).call().await.expect("auction");
    let seller = on_chain.seller;
    let first_bidder = on_chain.highestBidder;
    let (a, b) = (chain.keys[7].address(), chain.keys[8].address());
    assert!(![seller, first_bidder].contains(&a) && ![seller, first_bidder].contains(&b));
    let treasury = market.treasury().call().await.expect("treasury");
    let token = on_chain.tokenId;
    let nft_contract = NestNFT::new(chain.addresses.nft, &reader);
    let royalty_receiver = nft_contract
        .royaltyInfo(token, U256::from(10_000))
        .call()
        .await
        .expect("royalty")
        .receiver;
    let mut before = BTreeMap::new();
    for who in [a, b, seller, first_bidder, treasury, royalty_receiver] {
        before.insert(who, worth(&chain, who).await);
    }

    // Three rounds, each bid doubling the last; then B bids inside the extension window.
    let bid = |key: usize, amount: U256| {
        let provider = chain.provider(key);
        async move {
            let market = NestMarketplace::new(chain.addresses.marketplace, &provider);
            send(
                &provider,
                market
                    .bid(auction_id, amount)
                    .value(amount)
                    .into_transaction_request(),
            )
            .await
        }
    };
    let mut highest = wei(&seeded["highestBid"]);
    assert_eq!(highest, on_chain.highestBid, "the api matches the chain");
    let mut spent: BTreeMap<Address, U256> = BTreeMap::new();
    let mut amounts = Vec::new();
    for key in [7, 8, 7] {
        highest *= U256::from(2);
        let receipt = bid(key, highest).await;
        *spent.entry(chain.keys[key].address()).or_default() += gas(&receipt);
        amounts.push(highest);
    }
    let end = market
        .auctions(auction_id)
        .call()
        .await
        .expect("auction")
        .endTime;
    let now = chain.now().await;
    let inside_window = end - u64::from(config.extensionWindow) / 2;
    if inside_window > now {
        reader
            .anvil_increase_time(inside_window - now)
            .await
            .expect("time");
    }
    highest *= U256::from(2);
    let sniping = bid(8, highest).await;
    *spent.entry(b).or_default() += gas(&sniping);
    amounts.push(highest);
    let sniping_time = reader
        .get_block_by_number(sniping.block_number.expect("mined").into())
        .await
        .expect("block")
        .expect("block")
        .header
        .timestamp;
    let extended = sniping_time + u64::from(config.extensionDuration);
    assert!(extended > end, "the late bid extends the auction");

    // The api shows the war and the new end; the stream announced every bid.
    let war = eventually(&client, &path, Duration::from_secs(30), |x| {
        x["bidCount"] == 5 && x["endTime"] == extended
    })
    .await;
    assert_eq!(wei(&war["highestBid"]), highest);
    assert_eq!(war["highestBidder"], b.to_checksum(None));
    let events = stream
        .until(Duration::from_secs(10), |seen| {
            seen.matches("event: auctions").count() >= 4
        })
        .await
        .matches("event: auctions")
        .count();
    assert!(events >= 4, "every bid announced live: {events}");

    // Every outbid bid is withdrawable, on chain and in the api, to the wei.
    let refunds = [
        (first_bidder, wei(&seeded["highestBid"])),
        (a, amounts[0] + amounts[2]),
        (b, amounts[1]),
    ];
    for (who, refund) in refunds {
        let pending = market
            .pendingWithdrawal(who, Address::ZERO)
            .call()
            .await
            .expect("pending");
        assert_eq!(pending, refund, "refunds of {who}");
        assert_eq!(
            withdrawable(&client, who).await,
            refund,
            "api refunds of {who}"
        );
    }

    // Past the extended end, anyone settles; the last bidder owns the token.
    let now = chain.now().await;
    reader
        .anvil_increase_time(extended.saturating_sub(now) + 1)
        .await
        .expect("time");
    let settler = chain.provider(9);
    send(
        &settler,
        NestMarketplace::new(chain.addresses.marketplace, &settler)
            .settleAuction(auction_id)
            .into_transaction_request(),
    )
    .await;
    let settled = eventually(&client, &path, Duration::from_secs(30), |x| {
        x["status"] == "settled"
    })
    .await;
    assert_eq!(settled["winner"], b.to_checksum(None));
    let owner = nft_contract.ownerOf(token).call().await.expect("owner");
    assert_eq!(owner, b);
    let nft = eventually(
        &client,
        &format!("/v1/nfts/{}/{token}", chain.addresses.nft),
        Duration::from_secs(30),
        |n| n["owner"] == b.to_checksum(None),
    )
    .await;
    assert_eq!(nft["owner"], b.to_checksum(None));

    // Balances with what each may withdraw, to the wei: bidders paid only gas, except the
    // winner's bid; the seller, the royalty receiver and the treasury shared the price; the
    // seeded bidder got its escrowed bid back.
    let price = highest;
    let fee = price * U256::from(market.feeBps().call().await.expect("fee")) / U256::from(10_000);
    let royalty_info = nft_contract
        .royaltyInfo(token, price)
        .call()
        .await
        .expect("royalty");
    let mut expected: BTreeMap<Address, (U256, U256)> = BTreeMap::new();
    let mut gain = |who: Address, amount: U256| expected.entry(who).or_default().0 += amount;
    gain(seller, price - fee - royalty_info.amount);
    gain(treasury, fee);
    gain(royalty_info.receiver, royalty_info.amount);
    // The seeded bid was escrowed before the war: it comes back as a refund.
    gain(first_bidder, wei(&seeded["highestBid"]));
    gain(a, U256::ZERO);
    expected.entry(b).or_default().1 += price;
    for (who, paid) in spent {
        expected.entry(who).or_default().1 += paid;
    }
    assert_eq!(royalty_info.receiver, royalty_receiver);
    for (who, (gained, paid)) in expected {
        assert_eq!(
            worth(&chain, who).await + paid,
            before[&who] + gained,
            "worth of {who}"
        );
    }
}
