//! The relayer's settings: one typed value, validated before anything starts.

use crate::error::{RelayerError, Result};
use alloy::primitives::U256;
use nest_abis::NestAddresses;
use std::time::Duration;

/// One gwei in wei.
pub const GWEI: u128 = 1_000_000_000;

/// Smallest fee increase of a replacement, in per mille: nodes refuse replacements below 10%,
/// and 12.5% is what geth's and reth's pools require for blob-free transactions in practice.
pub const MIN_FEE_BUMP_PERMILLE: u64 = 125;

/// Relayer settings: intake policy, quotas, fees and submission.
#[derive(Debug, Clone)]
pub struct RelayerConfig {
    /// Chain id the node must serve.
    pub chain_id: u64,
    /// The Nest contracts.
    pub addresses: NestAddresses,

    // ---- intake policy
    /// A request's deadline must be at least this far after the chain's time.
    pub deadline_margin: Duration,
    /// Largest `gas` a forward request may allow.
    pub max_request_gas: u64,
    /// Largest call data a forward request may carry, bytes.
    pub max_calldata_bytes: usize,
    /// Gas the relayer allows a vote or a delegation (they are sent directly).
    pub direct_call_gas: u64,
    /// Requests a sender may make per minute.
    pub requests_per_minute: u32,
    /// Gas a sender's requests may allow per day (rolling 24 h).
    pub gas_per_day: u64,
    /// A relayer account below this balance takes no new jobs.
    pub min_signer_balance: U256,
    /// Below this balance a relayer account is reported (metric and warning).
    pub low_balance_warning: U256,
    /// How often balances are refreshed.
    pub balance_refresh: Duration,

    // ---- fees
    /// Fee cap: no transaction is ever signed with a higher `maxFeePerGas`, wei.
    pub max_fee_per_gas: u128,
    /// Smallest priority fee offered, wei.
    pub min_priority_fee: u128,
    /// Blocks of `eth_feeHistory` the estimate looks at.
    pub fee_history_blocks: u64,
    /// Reward percentile of `eth_feeHistory` used as the priority fee.
    pub fee_percentile: f64,
    /// Fee increase of a replacement, per mille (at least [`MIN_FEE_BUMP_PERMILLE`]).
    pub fee_bump_permille: u64,

    // ---- submission
    /// A transaction not mined this many blocks after it was sent is replaced with higher fees.
    pub stuck_after_blocks: u64,
    /// A transaction not mined this long after it was (last) broadcast is replaced with higher
    /// fees too: on an idle chain (automine, a quiet L2, a stalled sequencer) no blocks come to
    /// count, and a node may hold a transaction it will never promote.
    pub stuck_after: Duration,
    /// How long the node may report a nonce gap (its pending nonce below a nonce the relayer has
    /// in flight) after the missing transactions were broadcast again, before the one at the gap
    /// is replaced with higher fees (which makes any node evaluate it afresh).
    pub gap_grace: Duration,
    /// Blocks on top of a job's block before it counts as confirmed.
    pub confirmations: u64,
    /// Name of this relayer instance (leases are held in its name; a restarted instance with
    /// the same name takes its leases back at once).
    pub instance_id: String,
    /// How long a lease on a relayer account lasts without renewal.
    pub lease_ttl: Duration,
    /// Pause between two rounds of a relayer account's work, and between head polls when the
    /// node offers no subscription.
    pub poll_interval: Duration,
    /// WebSocket endpoint for a `newHeads` subscription (see [`nest_rpc::ws_url_for`]): receipts
    /// are looked for as soon as a block arrives. `None`, or a node without one: polling.
    pub ws_url: Option<url::Url>,
    /// Jobs claimed (given nonces) per round and relayer account.
    pub claim_batch: u32,
    /// Transactions of one relayer account in flight (sent, not yet mined) at most.
    pub max_in_flight: usize,
}

impl RelayerConfig {
    /// Defaults for a chain and its deployment.
    pub fn new(chain_id: u64, addresses: NestAddresses) -> Self {
        Self {
            chain_id,
            addresses,
            deadline_margin: Duration::from_secs(30),
            max_request_gas: 1_000_000,
            max_calldata_bytes: 4_096,
            direct_call_gas: 300_000,
            requests_per_minute: 60,
            gas_per_day: 30_000_000,
            min_signer_balance: U256::from(10_000_000_000_000_000u64), // 0.01 ETH
            low_balance_warning: U256::from(100_000_000_000_000_000u64), // 0.1 ETH
            balance_refresh: Duration::from_secs(5),
            max_fee_per_gas: 500 * GWEI,
            min_priority_fee: GWEI / 100,
            fee_history_blocks: 10,
            fee_percentile: 50.0,
            fee_bump_permille: MIN_FEE_BUMP_PERMILLE,
            stuck_after_blocks: 3,
            stuck_after: Duration::from_secs(30),
            gap_grace: Duration::from_secs(2),
            confirmations: 2,
            instance_id: format!("relayer-{}", uuid::Uuid::new_v4()),
            lease_ttl: Duration::from_secs(15),
            poll_interval: Duration::from_millis(200),
            ws_url: None,
            claim_batch: 64,
            max_in_flight: 256,
        }
    }

    /// Checks the values before anything starts.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(RelayerError::Config(m.to_string()));
        if self.fee_bump_permille < MIN_FEE_BUMP_PERMILLE {
            return fail(
                "fee_bump_permille must be at least 125 (12.5%): nodes refuse smaller replacements",
            );
        }
        if self.max_fee_per_gas == 0 || self.min_priority_fee > self.max_fee_per_gas {
            return fail("max_fee_per_gas must be positive and at least min_priority_fee");
        }
        if self.stuck_after_blocks == 0 {
            return fail("stuck_after_blocks must be at least 1");
        }
        if self.stuck_after.is_zero() {
            return fail("stuck_after must be positive");
        }
        if self.lease_ttl < self.poll_interval * 3 {
            return fail("lease_ttl must be at least three poll intervals");
        }
        if self.instance_id.trim().is_empty() {
            return fail("instance_id is empty");
        }
        if self.claim_batch == 0 || self.max_in_flight == 0 {
            return fail("claim_batch and max_in_flight must be positive");
        }
        if !(0.0..=100.0).contains(&self.fee_percentile) {
            return fail("fee_percentile must be within 0..=100");
        }
        if self.requests_per_minute == 0 || self.gas_per_day == 0 {
            return fail("quotas must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses() -> NestAddresses {
        nest_testkit::placeholder_addresses()
    }

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let config = RelayerConfig::new(31337, addresses());
        config.validate().expect("defaults");
        let mut low_bump = config.clone();
        low_bump.fee_bump_permille = 100;
        let err = low_bump.validate().expect_err("10% bump");
        assert!(err.to_string().contains("12.5%"), "{err}");
        let mut short_lease = config;
        short_lease.lease_ttl = Duration::from_millis(100);
        assert!(short_lease.validate().is_err());
    }
}
