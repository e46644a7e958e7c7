//! Settings of the social layer.

use alloy::primitives::Address;
use std::time::Duration;

/// Write limits per minute (shared between api instances through Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Messages per account.
    pub per_account: u32,
    /// Messages per account younger than [`SocialConfig::young_account`] or holding no NFT
    /// and no NEST.
    pub per_new_account: u32,
    /// Messages per client IP.
    pub per_ip: u32,
}

impl Default for WriteLimits {
    fn default() -> Self {
        Self {
            per_account: 60,
            per_new_account: 10,
            per_ip: 300,
        }
    }
}

/// Settings.
#[derive(Debug, Clone)]
pub struct SocialConfig {
    /// Chain the domain is bound to (also where NFTs and proposals are looked up).
    pub chain_id: u64,
    /// The api's public origin (`https://app.example`), bound into the domain.
    pub origin: String,
    /// The marketplace (listings, auctions referenced by embeds).
    pub marketplace: Address,
    /// The governor (proposals referenced by embeds and channels).
    pub governor: Address,
    /// The NEST token (holders get the ordinary write limit).
    pub token: Address,
    /// Addresses allowed to take posts down and ban accounts.
    pub moderators: Vec<Address>,
    /// Authors with at least this many followers are not fanned out on write; their posts
    /// are merged into home feeds at read time.
    pub fanout_limit: i64,
    /// Largest allowed distance of a message's timestamp from the server's clock.
    pub clock_skew: Duration,
    /// How long after posting a post may be edited.
    pub edit_window: Duration,
    /// How long a handle stays before it may change again.
    pub handle_cooldown: Duration,
    /// Window of duplicate-text detection.
    pub duplicate_window: Duration,
    /// Accounts first seen less than this long ago get the stricter write limit.
    pub young_account: Duration,
    /// Write limits.
    pub limits: WriteLimits,
}

impl SocialConfig {
    /// Defaults for chain `chain_id` served at `origin`.
    pub fn new(
        chain_id: u64,
        origin: &str,
        marketplace: Address,
        governor: Address,
        token: Address,
    ) -> Self {
        Self {
            chain_id,
            origin: origin.trim_end_matches('/').to_string(),
            marketplace,
            governor,
            token,
            moderators: Vec::new(),
            fanout_limit: 1_000,
            clock_skew: Duration::from_secs(10 * 60),
            edit_window: Duration::from_secs(15 * 60),
            handle_cooldown: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(24 * 3600),
            young_account: Duration::from_secs(24 * 3600),
            limits: WriteLimits::default(),
        }
    }
}
