//! Demo data for `nest dev`: minted NFTs, a listing, a running auction with a bid, an offer and
//! a proposal in voting, each made by the dev account a real user would use.

use crate::{
    error::{ChainError, Result},
    manifest::NestAddresses,
    provider::http_provider,
};
use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use nest_abis::{NestGovernor, NestMarketplace, NestNFT, NestToken};
use tracing::info;
use url::Url;

/// One ether (or one NEST) in wei.
const UNIT: u64 = 1_000_000_000_000_000_000;

/// What the seeding created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// NFTs minted to the seller.
    pub minted: Vec<U256>,
    /// The fixed-price listing.
    pub listing_id: U256,
    /// The running auction (with one bid).
    pub auction_id: U256,
    /// The open offer.
    pub offer_id: U256,
    /// The proposal in voting.
    pub proposal_id: U256,
    /// Seller, bidder and offer maker.
    pub actors: [Address; 3],
}

/// Seeds demo data with anvil's dev keys (`keys[0]` is the deployer and minter; 1, 2 and 3 act
/// as seller, bidder and offer maker). Returns `None` when the marketplace already has data.
pub async fn seed_demo(
    url: &Url,
    addresses: &NestAddresses,
    keys: &[PrivateKeySigner],
) -> Result<Option<SeedReport>> {
    if keys.len() < 4 {
        return Err(ChainError::Layout(
            "seeding needs at least 4 dev accounts".into(),
        ));
    }
    let as_account = |i: usize| http_provider(url, Some(keys[i].clone()));
    let deployer = as_account(0)?;
    let seller = as_account(1)?;
    let bidder = as_account(2)?;
    let offerer = as_account(3)?;
    let [seller_addr, bidder_addr, offerer_addr] =
        [keys[1].address(), keys[2].address(), keys[3].address()];

    let market = NestMarketplace::new(addresses.marketplace, &deployer);
    let next_listing = market.nextListingId().call().await.map_err(rpc)?;
    if next_listing > U256::from(1) {
        info!("marketplace already has listings: not seeding again");
        return Ok(None);
    }

    // NFTs for the seller.
    let uris: Vec<String> = (1..=DEMO_TOKENS).map(demo_token_uri).collect();
    let nft = NestNFT::new(addresses.nft, &deployer);
    let first = nft.nextTokenId().call().await.map_err(rpc)?;
    // Two batches: each token's URI (with its image) is stored on chain.
    for half in uris.chunks(uris.len().div_ceil(2)) {
        send(
            &deployer,
            "mint demo NFTs",
            nft.mintBatch(seller_addr, half.to_vec())
                .into_transaction_request(),
        )
        .await?;
    }
    let minted: Vec<U256> = (0..DEMO_TOKENS).map(|i| first + U256::from(i)).collect();

    // Voting power: every actor delegates to itself.
    for (provider, who) in [
        (&deployer, keys[0].address()),
        (&seller, seller_addr),
        (&bidder, bidder_addr),
        (&offerer, offerer_addr),
    ] {
        let token = NestToken::new(addresses.token, provider);
        send(
            provider,
            "delegate votes",
            token.delegate(who).into_transaction_request(),
        )
        .await?;
    }

    let now = latest_timestamp(&deployer).await?;
    let seller_nft = NestNFT::new(addresses.nft, &seller);
    send(
        &seller,
        "approve the marketplace",
        seller_nft
            .setApprovalForAll(addresses.marketplace, true)
            .into_transaction_request(),
    )
    .await?;

    let seller_market = NestMarketplace::new(addresses.marketplace, &seller);
    let listing_id = seller_market.nextListingId().call().await.map_err(rpc)?;
    let tx = seller_market
        .createListing(
            addresses.nft,
            minted[0],
            Address::ZERO,
            U256::from(UNIT),
            now + 30 * 86_400,
        )
        .into_transaction_request();
    send(&seller, "create a listing", tx).await?;

    let auction_id = seller_market.nextAuctionId().call().await.map_err(rpc)?;
    let tx = seller_market
        .createAuction(
            addresses.nft,
            minted[1],
            Address::ZERO,
            U256::from(UNIT / 2),
            2 * 86_400,
        )
        .into_transaction_request();
    send(&seller, "create an auction", tx).await?;
    let bid = U256::from(UNIT / 10 * 6);
    let tx = NestMarketplace::new(addresses.marketplace, &bidder)
        .bid(auction_id, bid)
        .value(bid)
        .into_transaction_request();
    send(&bidder, "bid on the auction", tx).await?;

    let offer_amount = U256::from(250u64) * U256::from(UNIT);
    let tx = NestToken::new(addresses.token, &offerer)
        .approve(addresses.marketplace, offer_amount)
        .into_transaction_request();
    send(&offerer, "approve NEST for the offer", tx).await?;
    let offer_market = NestMarketplace::new(addresses.marketplace, &offerer);
    let offer_id = offer_market.nextOfferId().call().await.map_err(rpc)?;
    let tx = offer_market
        .makeOffer(
            addresses.nft,
            minted[2],
            addresses.token,
            offer_amount,
            now + 7 * 86_400,
        )
        .into_transaction_request();
    send(&offerer, "make an offer", tx).await?;

    // A proposal to raise the fee to 3%, moved into its voting period, with one vote cast.
    let governor = NestGovernor::new(addresses.governor, &deployer);
    let calldata = NestMarketplace::setFeeBpsCall { newFeeBps: 300 }.abi_encode();
    let description = "Raise the marketplace fee to 3%".to_string();
    let proposal_id = governor
        .hashProposal(
            vec![addresses.marketplace],
            vec![U256::ZERO],
            vec![calldata.clone().into()],
            alloy::primitives::keccak256(description.as_bytes()),
        )
        .call()
        .await
        .map_err(rpc)?;
    let tx = governor
        .propose(
            vec![addresses.marketplace],
            vec![U256::ZERO],
            vec![calldata.into()],
            description,
        )
        .into_transaction_request();
    send(&deployer, "propose a fee change", tx).await?;
    let delay = governor.votingDelay().call().await.map_err(rpc)?;
    let delay: u64 = delay.try_into().unwrap_or(u64::MAX);
    deployer.anvil_increase_time(delay + 1).await.map_err(rpc)?;
    deployer.evm_mine(None).await.map_err(rpc)?;
    let tx = NestGovernor::new(addresses.governor, &seller)
        .castVoteWithReason(
            proposal_id,
            1,
            "A sustainable treasury funds the community".into(),
        )
        .into_transaction_request();
    send(&seller, "vote on the proposal", tx).await?;

    info!(%listing_id, %auction_id, %offer_id, %proposal_id, "seeded demo data");
    Ok(Some(SeedReport {
        minted,
        listing_id,
        auction_id,
        offer_id,
        proposal_id,
        actors: [seller_addr, bidder_addr, offerer_addr],
    }))
}

/// NFTs the demo seed mints (a gallery's first page).
pub const DEMO_TOKENS: u64 = 12;

/// A named colour.
type Named = (&'static str, [u8; 3]);

/// The traits of demo token `n`: background, shape, colour.
fn demo_traits(n: u64) -> (Named, &'static str, Named) {
    const BACKGROUNDS: [(&str, [u8; 3]); 4] = [
        ("Sand", [240, 226, 196]),
        ("Sky", [200, 226, 250]),
        ("Mint", [204, 242, 222]),
        ("Night", [34, 38, 58]),
    ];
    const SHAPES: [&str; 3] = ["Circle", "Square", "Diamond"];
    const COLOURS: [(&str, [u8; 3]); 5] = [
        ("Coral", [242, 102, 84]),
        ("Gold", [236, 178, 40]),
        ("Teal", [24, 150, 150]),
        ("Violet", [128, 84, 214]),
        ("Ink", [30, 30, 30]),
    ];
    let n = n as usize;
    (
        BACKGROUNDS[n % BACKGROUNDS.len()],
        SHAPES[(n / 2) % SHAPES.len()],
        COLOURS[(n * 7 / 3) % COLOURS.len()],
    )
}

/// A 32 x 32 PNG of demo token `n` (pixel art: small on chain, enlarged crisply by the media
/// endpoint): its shape in its colour on its background.
pub fn demo_token_png(n: u64) -> Vec<u8> {
    let ((_, background), shape, (_, colour)) = demo_traits(n);
    let size = 32i32;
    let image = image::RgbImage::from_fn(size as u32, size as u32, |x, y| {
        let (dx, dy) = (x as i32 - size / 2, y as i32 - size / 2);
        let inside = match shape {
            "Circle" => dx * dx + dy * dy <= 11 * 11,
            "Square" => dx.abs() <= 9 && dy.abs() <= 9,
            _ => dx.abs() + dy.abs() <= 12,
        };
        image::Rgb(if inside { colour } else { background })
    });
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding a small in-memory RGB image as PNG cannot fail.
    let _ = image::DynamicImage::ImageRgb8(image).write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

/// Self-contained metadata for demo token `n` (no network needed to show it): the OpenSea
/// fields, a generated PNG image and distinct traits, as a base64 `data:` URI.
pub fn demo_token_uri(n: u64) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let ((background, _), shape, (colour, _)) = demo_traits(n);
    let document = serde_json::json!({
        "name": format!("Nest Demo #{n}"),
        "description": format!("A {} {} on {} minted by nest dev.", colour.to_lowercase(), shape.to_lowercase(), background.to_lowercase()),
        "image": format!("data:image/png;base64,{}", b64.encode(demo_token_png(n))),
        "external_url": "https://example.invalid/nest",
        "attributes": [
            { "trait_type": "Background", "value": background },
            { "trait_type": "Shape", "value": shape },
            { "trait_type": "Colour", "value": colour },
            { "trait_type": "Edition", "value": n, "display_type": "number" },
        ],
    });
    format!(
        "data:application/json;base64,{}",
        b64.encode(document.to_string())
    )
}

async fn latest_timestamp(provider: &DynProvider) -> Result<u64> {
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(rpc)?
        .ok_or_else(|| ChainError::Rpc {
            url: String::new(),
            message: "no latest block".into(),
        })?;
    Ok(block.header.timestamp)
}

async fn send(
    provider: &DynProvider,
    step: &str,
    tx: TransactionRequest,
) -> Result<TransactionReceipt> {
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| ChainError::Transaction {
            step: step.to_string(),
            message: e.to_string(),
        })?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| ChainError::Transaction {
            step: step.to_string(),
            message: e.to_string(),
        })?;
    if !receipt.status() {
        return Err(ChainError::Transaction {
            step: step.to_string(),
            message: format!("reverted in {}", receipt.transaction_hash),
        });
    }
    Ok(receipt)
}

fn rpc(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc {
        url: String::new(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn demo_tokens_have_distinct_images_and_traits() {
        let mut looks = std::collections::BTreeSet::new();
        for n in 1..=DEMO_TOKENS {
            let uri = demo_token_uri(n);
            assert!(uri.len() < 1_500, "token {n}: {} bytes on chain", uri.len());
            let json = base64::engine::general_purpose::STANDARD
                .decode(uri.trim_start_matches("data:application/json;base64,"))
                .expect("base64");
            let doc: serde_json::Value = serde_json::from_slice(&json).expect("json");
            assert_eq!(doc["name"], format!("Nest Demo #{n}"));
            assert!(
                doc["image"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("data:image/png;base64,"))
            );
            assert_eq!(doc["attributes"].as_array().map(Vec::len), Some(4));
            let png = image::load_from_memory(&demo_token_png(n)).expect("a PNG");
            assert_eq!((png.width(), png.height()), (32, 32));
            let ((b, _), s, (c, _)) = demo_traits(n);
            looks.insert((b, s, c));
        }
        assert_eq!(
            looks.len() as u64,
            DEMO_TOKENS,
            "every demo token looks different"
        );
    }
}
