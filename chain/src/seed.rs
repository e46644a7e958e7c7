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
    let uris: Vec<String> = (1..=6).map(demo_token_uri).collect();
    let nft = NestNFT::new(addresses.nft, &deployer);
    let first = nft.nextTokenId().call().await.map_err(rpc)?;
    send(
        &deployer,
        "mint demo NFTs",
        nft.mintBatch(seller_addr, uris).into_transaction_request(),
    )
    .await?;
    let minted: Vec<U256> = (0..6u64).map(|i| first + U256::from(i)).collect();

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

/// Self-contained metadata for demo token `n` (no network needed to show it).
pub fn demo_token_uri(n: u64) -> String {
    let hue = (n * 57) % 360;
    format!(
        "data:application/json;utf8,{{\"name\":\"Nest Demo #{n}\",\"description\":\"A demo NFT minted by nest dev\",\"attributes\":[{{\"trait_type\":\"hue\",\"value\":{hue}}}]}}"
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
