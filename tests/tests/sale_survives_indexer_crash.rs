//! A wallet buys the seeded listing while the indexer process is killed with SIGKILL; the two
//! api processes (one Redis between them) keep serving, and once the indexer is restarted both
//! show the sale, exact to the wei, and one's live stream announces it.

mod common;

use alloy::primitives::{Address, U256};
use common::{LiveStream, Processes, eventually, wei};
use nest_abis::{NestMarketplace, NestNFT};
use nest_testkit::{TestChain, TestRedis, TestStore};
use std::{collections::BTreeMap, time::Duration};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_survives_an_indexer_crash_and_reaches_both_api_instances_to_the_wei() {
    let chain = TestChain::builder().seeded().start().await;
    // Created (and migrated) here: on the local server this also shortens how long a killed
    // writer's open transaction holds its documents (5 s instead of 60 s).
    let store = TestStore::fresh("e2e_crash").await;
    let redis = TestRedis::start();
    let processes = Processes::new(&chain, store.database().name(), &redis);
    let indexer = processes.indexer();
    let (_api, client) = processes.api();
    let (_other_api, other) = processes.api();
    let listing_id = chain.seed().listing_id;
    let path = format!("/v1/listings/{listing_id}");
    let listing = eventually(&client, &path, Duration::from_secs(60), |l| {
        l["status"] == "active"
    })
    .await;
    let price = wei(&listing["price"]);
    assert_eq!(price, U256::from(10u64).pow(U256::from(18)));

    // A live subscriber on the other instance.
    let mut stream = LiveStream::open(&other, &format!("listings:{listing_id},sales")).await;

    // The indexer dies as a crash would; the api keeps serving what was indexed.
    indexer.kill();
    let buyer = chain.provider(5);
    let buyer_address = chain.keys[5].address();
    let seller: Address = listing["seller"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("seller");
    let market = NestMarketplace::new(chain.addresses.marketplace, &buyer);
    let treasury = market.treasury().call().await.expect("treasury");
    let (royalty_receiver, royalty) = NestNFT::new(chain.addresses.nft, &buyer)
        .royaltyInfo(chain.seed().minted[0], price)
        .call()
        .await
        .map(|r| (r.receiver, r.amount))
        .expect("royalty info");
    let fee_bps = market.feeBps().call().await.expect("fee");
    let fee = price * U256::from(fee_bps) / U256::from(10_000u64);
    let watched = [buyer_address, seller, treasury, royalty_receiver];
    let mut before = BTreeMap::new();
    for who in watched {
        before.insert(who, chain.balance(who).await);
    }
    let receipt = nest_testkit::send(
        &buyer,
        market
            .buy(listing_id, price)
            .value(price)
            .into_transaction_request(),
    )
    .await;
    let gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    for api in [&client, &other] {
        let served = api.get(&path).await;
        assert_eq!(served.status, 200, "served while the indexer is down");
        assert_eq!(served.json()["status"], "active", "nothing indexed yet");
    }

    // Restarted, the indexer resumes from its checkpoint; both instances show the sale.
    let _indexer = processes.indexer();
    for api in [&client, &other] {
        let sold = eventually(api, &path, Duration::from_secs(60), |l| {
            l["status"] == "sold"
        })
        .await;
        assert_eq!(sold["buyer"], buyer_address.to_checksum(None));
        let sales = eventually(api, "/v1/sales", Duration::from_secs(10), |s| {
            s.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
        let sales = sales.as_array().expect("sales");
        assert_eq!(sales.len(), 1, "one sale, indexed once: {sales:?}");
        let sale = &sales[0];
        assert_eq!(wei(&sale["price"]), price);
        assert_eq!(wei(&sale["fee"]), fee);
        assert_eq!(wei(&sale["royalty"]), royalty);
        assert_eq!(sale["seller"], seller.to_checksum(None));
        assert_eq!(sale["txHash"], receipt.transaction_hash.to_string());
    }

    // Balances, to the wei: every party got exactly its share, the buyer paid price and gas.
    let mut expected: BTreeMap<Address, (U256, U256)> = BTreeMap::new();
    let mut credit = |who: Address, amount: U256| expected.entry(who).or_default().0 += amount;
    credit(seller, price - fee - royalty);
    credit(treasury, fee);
    credit(royalty_receiver, royalty);
    expected.entry(buyer_address).or_default().1 += price + gas;
    for (who, (gained, spent)) in expected {
        let after = chain.balance(who).await;
        assert_eq!(
            after + spent,
            before[&who] + gained,
            "balance of {who}: before {}, after {after}",
            before[&who]
        );
    }

    // The live stream announced it.
    let announced = format!("\"id\":\"{listing_id}\"");
    let seen = stream
        .until(Duration::from_secs(10), |seen| {
            seen.contains("event: listings") && seen.contains(&announced)
        })
        .await;
    assert!(
        seen.contains("event: listings") && seen.contains(&announced),
        "{seen}"
    );
}
