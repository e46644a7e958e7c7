//! Token metadata, media, traits, trait filters, autocomplete and refresh through the api,
//! against the seeded chain: the indexer queues, the resolver resolves, the api serves, and
//! every cached answer is fresh right after a change.

mod common;

use alloy::primitives::U256;
use common::*;
use nest_abis::NestNFT;
use nest_indexer::{MetadataConfig, MetadataResolver};
use nest_store::MetadataState;

/// The indexer's metadata resolver over the stack's store, announcing what it resolves.
fn resolver(stack: &Stack) -> MetadataResolver {
    MetadataResolver::new(stack.store.clone(), MetadataConfig::default())
        .expect("resolver")
        .with_notices(stack.indexer.notice_sender())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_gallery_has_names_images_traits_filters_and_refreshes() {
    let stack = Stack::start("api_nft_data").await;
    let api = stack.api(stack.config(), None).await;
    let resolver = resolver(&stack);
    let nft = stack.addresses.nft.to_checksum(None);
    let first = stack.seed.minted[0];

    // Before resolution the token is pending (and that answer gets cached).
    let path = format!("/v1/nfts/{nft}/{first}");
    let pending = api.client.get(&path).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.json()["metadata"]["state"], "pending");
    assert_eq!(pending.json()["metadata"]["refreshing"], true);

    // Resolved: the cached answer is replaced at once (the resolver's notice).
    assert_eq!(
        resolver.drain().await.expect("drain"),
        stack.seed.minted.len()
    );
    let token = api.client.get(&path).await.json();
    let metadata = &token["metadata"];
    assert_eq!(metadata["state"], "resolved", "{token}");
    assert_eq!(metadata["name"], format!("Nest Demo #{first}"));
    assert_eq!(metadata["attributes"].as_array().map(Vec::len), Some(4));
    let image = metadata["image"]
        .as_str()
        .expect("an image URL")
        .to_string();
    assert!(image.starts_with("/v1/media/"), "{image}");

    // Media: resized, content-addressed, immutable, strong ETag, 304 on a match.
    for (query, magic, content_type) in [
        ("", "PNG", "image/png"),
        ("?w=384", "PNG", "image/png"),
        ("?w=96&format=webp", "RIFF", "image/webp"),
    ] {
        let media = api.client.get(&format!("{image}{query}")).await;
        assert_eq!(media.status, 200, "{query}: {}", media.body);
        assert_eq!(media.header("content-type"), Some(content_type));
        assert!(media.body.contains(magic), "{query}");
        assert_eq!(
            media.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let etag = media.header("etag").expect("etag").to_string();
        assert!(!etag.starts_with("W/"), "a strong validator");
        let again = api
            .client
            .request(
                "GET",
                &format!("{image}{query}"),
                &[("If-None-Match", &etag)],
                None,
            )
            .await;
        assert_eq!(again.status, 304);
    }
    let bad = api.client.get(&format!("{image}?w=500")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "media.bad_width");
    let bad = api
        .client
        .request(
            "GET",
            &format!("{image}?w=500"),
            &[("Accept-Language", "ja")],
            None,
        )
        .await;
    assert!(
        bad.json()["title"]
            .as_str()
            .is_some_and(|t| t.contains('幅'))
    );
    let missing = api
        .client
        .get(&format!("/v1/media/{}", "0".repeat(64)))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(api.client.get("/v1/media/not-a-hash").await.status, 400);

    // Traits: counts per type and value, adding up to the tokens.
    let traits = api
        .client
        .get(&format!("/v1/collections/{nft}/traits"))
        .await
        .json();
    let types = traits["traits"].as_array().expect("types");
    let names: Vec<&str> = types
        .iter()
        .filter_map(|t| t["traitType"].as_str())
        .collect();
    assert_eq!(names, ["Background", "Colour", "Edition", "Shape"]);
    for t in types {
        let total: u64 = t["values"]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(|v| v["count"].as_u64())
            .sum();
        assert_eq!(total, stack.seed.minted.len() as u64, "{t}");
    }

    // Filters: OR within a type, AND across types.
    let ids = |body: serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["tokenId"].as_str().expect("id").to_string())
            .collect()
    };
    let count_of = |t: &str, v: &str| -> usize {
        types
            .iter()
            .find(|x| x["traitType"] == t)
            .and_then(|x| x["values"].as_array())
            .and_then(|vs| vs.iter().find(|x| x["value"] == v))
            .and_then(|x| x["count"].as_u64())
            .unwrap_or(0) as usize
    };
    let sand = ids(api
        .client
        .get(&format!(
            "/v1/collections/{nft}/tokens?trait=Background:Sand"
        ))
        .await
        .json());
    assert_eq!(sand.len(), count_of("Background", "Sand"));
    let sand_or_sky = ids(api
        .client
        .get(&format!(
            "/v1/collections/{nft}/tokens?trait=Background:Sand&trait=Background:Sky"
        ))
        .await
        .json());
    assert_eq!(
        sand_or_sky.len(),
        count_of("Background", "Sand") + count_of("Background", "Sky")
    );
    let sand_circles = ids(api
        .client
        .get(&format!(
            "/v1/collections/{nft}/tokens?trait=Background:Sand&trait=Shape:Circle"
        ))
        .await
        .json());
    assert!(sand_circles.len() < sand.len() && sand_circles.iter().all(|i| sand.contains(i)));
    let all = api
        .client
        .get(&format!("/v1/collections/{nft}/tokens?limit=100"))
        .await;
    assert_eq!(ids(all.json()).len(), stack.seed.minted.len());
    let paged = api
        .client
        .get(&format!("/v1/collections/{nft}/tokens?limit=5"))
        .await
        .json();
    let cursor = paged["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let next = api
        .client
        .get(&format!(
            "/v1/collections/{nft}/tokens?limit=5&cursor={cursor}"
        ))
        .await
        .json();
    assert_eq!(ids(next).len(), 5);
    let bad = api
        .client
        .get(&format!("/v1/collections/{nft}/tokens?trait=NoColon"))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "request.invalid_parameter");
    let bad = api
        .client
        .get(&format!("/v1/collections/{nft}/tokens?colour=red"))
        .await;
    assert_eq!(bad.json()["code"], "request.unknown_parameter");

    // Autocomplete: by name prefix, any case.
    let found = api
        .client
        .get("/v1/search/autocomplete?q=nest%20demo%20%231")
        .await
        .json();
    let names: Vec<&str> = found
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Nest Demo #1") && names.contains(&"Nest Demo #10"),
        "{names:?}"
    );
    assert_eq!(
        api.client.get("/v1/search/autocomplete?q=").await.status,
        400
    );

    // Refresh: signed in only, limited per token, shown as refreshing at once.
    let refresh = format!("/v1/nfts/{nft}/{first}/refresh");
    assert_eq!(
        api.client.request("POST", &refresh, &[], None).await.status,
        401
    );
    let auth = session(&api, &stack, 1).await;
    for _ in 0..2 {
        let queued = api
            .client
            .request("POST", &refresh, &[("Authorization", &auth)], None)
            .await;
        assert_eq!(queued.status, 202, "{}", queued.body);
    }
    assert_eq!(
        api.client.get(&path).await.json()["metadata"]["refreshing"],
        true
    );
    let limited = api
        .client
        .request("POST", &refresh, &[("Authorization", &auth)], None)
        .await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    let unknown = api
        .client
        .request(
            "POST",
            &format!("/v1/nfts/{nft}/999999/refresh"),
            &[("Authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
    resolver.drain().await.expect("drain");
    // The resolver's change notice reaches the api's cache asynchronously (within
    // milliseconds: api/benches/freshness.rs measures it); the page turns fresh then.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let token = loop {
        let token = api.client.get(&path).await.json();
        if token["metadata"]["refreshing"] == false {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still refreshing 5 s after resolving: {token}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(token["metadata"]["state"], "resolved");
    // The owner's list carries the metadata too.
    let owner = stack.seed.actors[0].to_checksum(None);
    let owned = api
        .client
        .get(&format!("/v1/nfts?owner={owner}&limit=100"))
        .await
        .json();
    assert!(
        owned["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["metadata"]["state"] == "resolved")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_uri_pointing_at_the_api_or_cloud_metadata_is_never_fetched() {
    let stack = Stack::start("api_ssrf").await;
    let api = stack.api(stack.config(), None).await;
    let provider = stack.provider(0);
    let nft = NestNFT::new(stack.addresses.nft, &provider);
    let first: U256 = nft.nextTokenId().call().await.expect("next");
    let uris = vec![
        format!("http://{}/v1/ping", api.addr),
        format!("http://localhost:{}/v1/ping", api.addr.port()),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(),
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/".to_string(),
    ];
    let tx = nft
        .mintBatch(stack.keys[1].address(), uris.clone())
        .send()
        .await
        .expect("mint");
    tx.get_receipt().await.expect("receipt");
    stack.index().await;
    let resolver = resolver(&stack);
    resolver.drain().await.expect("drain");
    for (i, uri) in uris.iter().enumerate() {
        let id = nest_store::Nft::id_for(31337, &stack.addresses.nft, &(first + U256::from(i)));
        let doc = stack
            .store
            .metadata()
            .get(&id)
            .await
            .expect("get")
            .expect("an outcome");
        assert_eq!(doc.state, MetadataState::Failed, "{uri}");
        assert_eq!(
            doc.error.expect("why").reason,
            "blocked_address",
            "{}",
            uris[i]
        );
        assert_eq!(doc.attempts, 1, "not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_stream_and_collection_stats_show_the_seed_and_a_sale_right_after_indexing() {
    let stack = Stack::start("api_activity").await;
    let api = stack.api(stack.config(), None).await;
    let nft = stack.addresses.nft.to_checksum(None);
    let seller = stack.seed.actors[0].to_checksum(None);
    let buyer = stack.keys[4].address().to_checksum(None);
    let kinds = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["kind"].as_str().expect("kind").to_string())
            .collect()
    };
    // Per token: newest first, the listing after the mint.
    let listed = stack.seed.minted[0];
    let token_path = format!("/v1/activity?contract={nft}&tokenId={listed}");
    let token = api.client.get(&token_path).await.json();
    assert_eq!(kinds(&token), ["listing", "mint"], "{token}");
    let listing = &token["items"][0];
    assert_eq!(listing["amount"]["decimal"], "1");
    assert_eq!(listing["amount"]["symbol"], "ETH");
    // Per user: the seller listed, auctioned, voted and received mints.
    let mine = api
        .client
        .get(&format!("/v1/activity?user={seller}&limit=100"))
        .await
        .json();
    for kind in ["listing", "auction", "vote", "mint"] {
        assert!(kinds(&mine).iter().any(|k| k == kind), "{kind} in {mine}");
    }
    // The offer is in NEST, read from the token contract once.
    let offers = api.client.get("/v1/activity?kinds=offer").await.json();
    assert_eq!(offers["items"][0]["amount"]["symbol"], "NEST", "{offers}");
    assert_eq!(offers["items"][0]["amount"]["decimal"], "250");
    // Global with cursor pagination: pages do not overlap and reach the end.
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/activity?limit=7&cursor={c}"),
            None => "/v1/activity?limit=7".to_string(),
        };
        let page = api.client.get(&path).await.json();
        for item in page["items"].as_array().expect("items") {
            assert!(
                seen.insert(item["id"].as_str().expect("id").to_string()),
                "no repeats"
            );
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    // 12 mints, a listing, an auction (and its escrow transfer), a bid, an offer, a proposal
    // and a vote.
    assert_eq!(seen.len(), 19);

    // A sale: visible in the token's, the buyer's and the global stream right after indexing,
    // although each was cached a moment before.
    let buyer_path = format!("/v1/activity?user={buyer}");
    assert_eq!(kinds(&api.client.get(&buyer_path).await.json()).len(), 0);
    // Collection stats of the seed, cached now: 12 tokens, one 1 ETH listing, one auction, an
    // offer in NEST that is not a sale, no sales.
    let stats_path = format!("/v1/collections/{nft}/stats");
    let before = api.client.get(&stats_path).await.json();
    assert_eq!(
        (
            &before["supply"],
            &before["listed"],
            &before["onAuction"],
            &before["sales"]
        ),
        (
            &serde_json::json!(12),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(0)
        ),
        "{before}"
    );
    let eth = &before["byPaymentToken"][0];
    assert_eq!(eth["symbol"], "ETH");
    assert_eq!(eth["floorPriceDecimal"], "1");
    assert_eq!(eth["allTime"]["sales"], 0);
    assert!(
        before["byPaymentToken"]
            .as_array()
            .expect("tokens")
            .iter()
            .any(|t| t["symbol"] == "NEST"),
        "the marketplace's NEST is listed: {before}"
    );
    let owners_before = before["owners"].as_i64().expect("owners");
    // Listings, offers and auctions carry their currency and amounts in whole units.
    let listing = api
        .client
        .get(&format!("/v1/listings/{}", stack.seed.listing_id))
        .await
        .json();
    assert_eq!(
        (&listing["priceDecimal"], &listing["currency"]["symbol"]),
        (&serde_json::json!("1"), &serde_json::json!("ETH")),
        "{listing}"
    );
    let offers = api
        .client
        .get(&format!(
            "/v1/offers?nft={nft}&tokenId={}",
            stack.seed.minted[2]
        ))
        .await
        .json();
    assert_eq!(offers[0]["amountDecimal"], "250", "{offers}");
    assert_eq!(offers[0]["currency"]["symbol"], "NEST");
    assert_eq!(offers[0]["currency"]["decimals"], 18);
    let auction = api
        .client
        .get(&format!("/v1/auctions/{}", stack.seed.auction_id))
        .await
        .json();
    assert_eq!(auction["reservePriceDecimal"], "0.5", "{auction}");
    assert_eq!(auction["highestBidDecimal"], "0.6");
    // The live stream carries the same items.
    let mut live = tokio::net::TcpStream::connect(api.addr)
        .await
        .expect("connect");
    {
        use tokio::io::AsyncWriteExt;
        live.write_all(b"GET /v1/stream?topics=activity HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            .await
            .expect("subscribe");
    }
    let price = U256::from(10u64).pow(U256::from(18u64));
    let provider = stack.provider(4);
    let market = nest_abis::NestMarketplace::new(stack.addresses.marketplace, &provider);
    let buy = market.buy(stack.seed.listing_id, price).value(price);
    buy.send()
        .await
        .expect("buy")
        .get_receipt()
        .await
        .expect("receipt");
    stack.index().await;
    // The contract moves the token after recording the sale: newest first, the transfer leads.
    assert_eq!(
        kinds(&api.client.get(&token_path).await.json())[..2],
        ["transfer", "sale"]
    );
    assert_eq!(
        kinds(&api.client.get(&buyer_path).await.json()),
        ["transfer", "sale"]
    );
    let global = api.client.get("/v1/activity?limit=2").await.json();
    assert_eq!(kinds(&global), ["transfer", "sale"]);
    // The stats follow at once: no listing left, the sale in every window, a new owner.
    let after = api.client.get(&stats_path).await.json();
    assert_eq!(after["listed"], 0, "{after}");
    assert_eq!(after["sales"], 1);
    assert_eq!(
        after["owners"].as_i64(),
        Some(owners_before + 1),
        "the buyer held none"
    );
    let eth = &after["byPaymentToken"][0];
    assert!(
        eth.get("floorPrice").is_none(),
        "no ETH listing left: {after}"
    );
    for window in ["last24h", "last7d", "last30d", "allTime"] {
        assert_eq!(eth[window]["sales"], 1, "{window}: {after}");
        assert_eq!(eth[window]["volumeDecimal"], "1", "{window}");
    }
    assert_eq!(after["volume24h"], price.to_string());
    let mut heard = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !(heard.contains("\"kind\":\"sale\"") && heard.contains("\"kind\":\"transfer\""))
        && std::time::Instant::now() < deadline
    {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 8192];
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(500), live.read(&mut buf)).await
        {
            heard.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    assert!(heard.contains("event: activity"), "{heard}");
    let sale_line = heard
        .lines()
        .find(|l| l.contains("\"kind\":\"sale\""))
        .expect("the sale on the live stream");
    let sale: serde_json::Value =
        serde_json::from_str(sale_line.trim_start_matches("data:").trim()).expect("JSON");
    assert_eq!(sale["to"], buyer);
    assert_eq!(sale["amount"]["decimal"], "1");
    // Bad input: precise problems.
    let bad = api
        .client
        .get(&format!("/v1/activity?tokenId={listed}"))
        .await;
    assert_eq!(bad.json()["code"], "request.missing_parameter");
    let bad = api.client.get("/v1/activity?kinds=sale,nope").await;
    assert_eq!(bad.json()["code"], "request.unknown_value");
    let bad = api.client.get("/v1/activity?cursor=abc").await;
    assert_eq!(bad.json()["code"], "request.invalid_cursor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolios_show_positions_and_follow_an_outbid_right_after_indexing() {
    let stack = Stack::start("api_portfolio").await;
    let api = stack.api(stack.config(), None).await;
    let [seller, bidder, offerer] = stack.seed.actors.map(|a| a.to_checksum(None));
    let get = |who: &str| {
        let path = format!("/v1/users/{who}/portfolio");
        let api = &api;
        async move {
            let answer = api.client.get(&path).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.json()
        }
    };
    let len = |v: &serde_json::Value| v.as_array().map(Vec::len).unwrap_or(usize::MAX);

    let s = get(&seller).await;
    // Twelve minted, one escrowed by its auction.
    assert_eq!(len(&s["owned"]), stack.seed.minted.len() - 1, "{s}");
    assert_eq!(len(&s["listings"]), 1);
    assert_eq!(len(&s["auctions"]["selling"]), 1);
    assert_eq!(len(&s["offers"]["received"]), 1);
    assert_eq!(s["governance"]["delegate"], seller);
    assert_ne!(s["governance"]["votingPower"], "0");
    assert_eq!(
        len(&s["governance"]["openProposalsNotVoted"]),
        0,
        "the seller voted"
    );

    let b = get(&bidder).await;
    assert_eq!(len(&b["auctions"]["leading"]), 1, "{b}");
    assert_eq!(len(&b["auctions"]["outbid"]), 0);
    assert_eq!(len(&b["governance"]["openProposalsNotVoted"]), 1);
    assert_eq!(len(&b["withdrawable"]), 0);
    let o = get(&offerer).await;
    assert_eq!(len(&o["offers"]["made"]), 1, "{o}");

    // Outbid: the first bidder's cached portfolio is fresh right after indexing, refund included.
    let provider = stack.provider(4);
    let market = nest_abis::NestMarketplace::new(stack.addresses.marketplace, &provider);
    let amount = U256::from(10u64).pow(U256::from(18u64));
    let bid = market.bid(stack.seed.auction_id, amount).value(amount);
    bid.send()
        .await
        .expect("bid")
        .get_receipt()
        .await
        .expect("receipt");
    stack.index().await;
    let b = get(&bidder).await;
    assert_eq!(len(&b["auctions"]["leading"]), 0, "{b}");
    assert_eq!(len(&b["auctions"]["outbid"]), 1);
    assert_eq!(b["withdrawable"][0]["symbol"], "ETH");
    assert_eq!(b["withdrawable"][0]["decimal"], "0.6");
    let bad = api.client.get("/v1/users/0x123/portfolio").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "request.invalid_address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_page_filters_by_market_state_price_and_traits_and_sorts_by_the_market() {
    let stack = Stack::start("api_token_market").await;
    let api = stack.api(stack.config(), None).await;
    let resolver = resolver(&stack);
    resolver.drain().await.expect("drain");
    let nft = stack.addresses.nft.to_checksum(None);
    let minted = &stack.seed.minted;
    let eth = |tenths: u64| U256::from(tenths) * U256::from(10u64).pow(U256::from(17u64));
    // Two more ETH listings beside the seed's 1 ETH one: 2 ETH and 0.5 ETH.
    let seller = stack.provider(1);
    let market = nest_abis::NestMarketplace::new(stack.addresses.marketplace, &seller);
    for (token, price) in [(minted[3], eth(20)), (minted[4], eth(5))] {
        market
            .createListing(
                stack.addresses.nft,
                token,
                alloy::primitives::Address::ZERO,
                price,
                0,
            )
            .send()
            .await
            .expect("list")
            .get_receipt()
            .await
            .expect("receipt");
    }
    stack.index().await;
    let page = |query: String| {
        let client = &api.client;
        let path = format!("/v1/collections/{nft}/tokens?{query}");
        async move {
            let response = client.get(&path).await;
            assert_eq!(response.status, 200, "{path}: {}", response.body);
            response.json()
        }
    };
    let tokens = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["tokenId"].as_str().expect("id").to_string())
            .collect()
    };
    let prices = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                i["market"]["priceDecimal"]
                    .as_str()
                    .expect("price")
                    .to_string()
            })
            .collect()
    };

    let cheapest = page("status=listed&sort=price_asc".into()).await;
    assert_eq!(prices(&cheapest), ["0.5", "1", "2"], "{cheapest}");
    assert_eq!(cheapest["items"][0]["market"]["kind"], "listing");
    assert_eq!(
        tokens(&cheapest),
        [minted[4], minted[0], minted[3]].map(|t| t.to_string())
    );
    assert!(
        cheapest["items"][0]["metadata"]["name"].is_string(),
        "tokens keep their metadata"
    );
    let dearest = page("sort=price_desc".into()).await;
    assert_eq!(prices(&dearest), ["2", "1", "0.5"]);
    let ranged = page(format!("minPrice={}&maxPrice={}", eth(10), eth(20))).await;
    assert_eq!(
        prices(&ranged),
        ["1", "2"],
        "inclusive range, cheapest first"
    );
    // Pages: one at a time, in order, to the end.
    let first = page("sort=price_asc&limit=1".into()).await;
    let cursor = first["nextCursor"].as_str().expect("more").to_string();
    let second = page(format!("sort=price_asc&limit=1&cursor={cursor}")).await;
    assert_eq!(prices(&second), ["1"]);
    // Traits narrow a market page: only listed tokens that carry the first one's background.
    let token = api
        .client
        .get(&format!("/v1/nfts/{nft}/{}", minted[4]))
        .await
        .json();
    let background = token["metadata"]["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["traitType"] == "Background")
        .and_then(|a| a["value"].as_str())
        .expect("a background")
        .to_string();
    let with_trait = page(format!("status=listed&trait=Background:{background}")).await;
    assert!(tokens(&with_trait).contains(&minted[4].to_string()));
    for item in with_trait["items"].as_array().expect("items") {
        assert!(
            item["metadata"]["attributes"]
                .as_array()
                .expect("attributes")
                .iter()
                .any(|a| a["traitType"] == "Background" && a["value"] == background.as_str()),
            "{item}"
        );
    }
    // Auctions, ending soonest first, with the end time; open offers, in NEST.
    let auctions = page("sort=ending_soon".into()).await;
    assert_eq!(tokens(&auctions), [minted[1].to_string()]);
    assert!(auctions["items"][0]["market"]["endTime"].is_i64());
    assert_eq!(
        page("status=auction".into()).await["items"],
        auctions["items"]
    );
    let offers = page("status=offers".into()).await;
    assert_eq!(tokens(&offers), [minted[2].to_string()]);
    assert_eq!(offers["items"][0]["market"]["priceDecimal"], "250");
    // A sale: the recently sold page shows it.
    let buyer = stack.provider(4);
    nest_abis::NestMarketplace::new(stack.addresses.marketplace, &buyer)
        .buy(stack.seed.listing_id, eth(10))
        .value(eth(10))
        .send()
        .await
        .expect("buy")
        .get_receipt()
        .await
        .expect("receipt");
    stack.index().await;
    let sold = page("sort=recently_sold".into()).await;
    assert_eq!(tokens(&sold), [minted[0].to_string()]);
    assert_eq!(sold["items"][0]["market"]["kind"], "sale");
    assert_eq!(
        prices(&page("status=listed&sort=price_asc".into()).await),
        ["0.5", "2"],
        "the sold listing left the page at once"
    );
    // Refusals name the parameter.
    for (query, code, parameter) in [
        (
            "status=auction&sort=price_asc",
            "request.invalid_parameter",
            "sort",
        ),
        (
            "status=offers&minPrice=1",
            "request.invalid_parameter",
            "minPrice",
        ),
        (
            "minPrice=5&maxPrice=1",
            "request.invalid_parameter",
            "minPrice",
        ),
        ("sort=cheapest", "request.unknown_value", "sort"),
        ("status=sold", "request.unknown_value", "status"),
        ("minPrice=-1", "request.invalid_number", "minPrice"),
    ] {
        let response = api
            .client
            .get(&format!("/v1/collections/{nft}/tokens?{query}"))
            .await;
        assert_eq!(response.status, 400, "{query}: {}", response.body);
        let problem = response.json();
        assert_eq!(problem["code"], code, "{query}: {problem}");
        assert_eq!(problem["parameter"], parameter, "{query}: {problem}");
    }
}
