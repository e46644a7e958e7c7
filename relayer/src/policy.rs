//! What the relayer sponsors: Nest's gasless functions only, by target contract and selector.
//!
//! - Marketplace: listings (create, cancel, update price), auctions (create, cancel, ERC-20
//!   bids), offers (make, cancel, accept) and withdrawals. `buy`, ETH bids and anything payable
//!   need value, which the relayer never sponsors; admin functions are the DAO's.
//! - NFT: approvals and transfers of one's own tokens.
//! - Not the NEST token: it does not trust the forwarder (no ERC-2771), so a forwarded
//!   `approve` or `transfer` would act for the forwarder, not for the signer; its gasless paths are
//!   `delegateBySig` (relayed) and `permit` (signed by the user, used by whoever spends).
//!
//! Votes and delegations are checked by kind, not by this list: their target is fixed.

use crate::{
    chain::forward_gas_limit,
    config::RelayerConfig,
    error::{RelayerError, Result},
};
use alloy::{
    primitives::{Address, FixedBytes, keccak256},
    sol_types::SolCall,
};
use nest_abis::{NestAddresses, NestForwarder, NestGovernor, NestToken};

/// Marketplace functions the relayer sponsors.
pub const MARKETPLACE_FUNCTIONS: [&str; 10] = [
    "createListing(address,uint256,address,uint256,uint64)",
    "cancelListing(uint256)",
    "updateListingPrice(uint256,uint256)",
    "createAuction(address,uint256,address,uint256,uint64)",
    "cancelAuction(uint256)",
    "bid(uint256,uint256)",
    "makeOffer(address,uint256,address,uint256,uint64)",
    "cancelOffer(uint256)",
    "acceptOffer(uint256)",
    "withdraw(address)",
];

/// NFT functions the relayer sponsors.
pub const NFT_FUNCTIONS: [&str; 5] = [
    "setApprovalForAll(address,bool)",
    "approve(address,uint256)",
    "transferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
];

/// The (target, selector) pairs the relayer forwards.
#[derive(Debug, Clone)]
pub struct AllowList {
    entries: Vec<(Address, &'static str, FixedBytes<4>, &'static str)>,
}

fn selector(signature: &str) -> FixedBytes<4> {
    FixedBytes::from_slice(&keccak256(signature.as_bytes())[..4])
}

impl AllowList {
    /// Nest's gasless functions on a deployment.
    pub fn nest(addresses: &NestAddresses) -> Self {
        let mut entries = Vec::new();
        for f in MARKETPLACE_FUNCTIONS {
            entries.push((addresses.marketplace, "NestMarketplace", selector(f), f));
        }
        for f in NFT_FUNCTIONS {
            entries.push((addresses.nft, "NestNFT", selector(f), f));
        }
        Self { entries }
    }

    /// The function `data` calls on `to`, if the relayer forwards it.
    pub fn check(&self, to: Address, data: &[u8]) -> Result<&'static str> {
        if !self.entries.iter().any(|(target, ..)| *target == to) {
            return Err(RelayerError::TargetNotAllowed(format!(
                "the relayer does not forward calls to {to}; it sponsors Nest's marketplace and NFT only"
            )));
        }
        if data.len() < 4 {
            return Err(RelayerError::TargetNotAllowed(
                "the call data has no function selector".into(),
            ));
        }
        let wanted = FixedBytes::<4>::from_slice(&data[..4]);
        self.entries
            .iter()
            .find(|(target, _, sel, _)| *target == to && *sel == wanted)
            .map(|(_, _, _, signature)| *signature)
            .ok_or_else(|| {
                let contract = self
                    .entries
                    .iter()
                    .find(|(target, ..)| *target == to)
                    .map(|(_, name, ..)| *name)
                    .unwrap_or("the target");
                RelayerError::TargetNotAllowed(format!(
                    "function {wanted} of {contract} is not one the relayer sponsors"
                ))
            })
    }
}

/// The last check before a relayer key signs a transaction, whatever the job in the store says:
/// the transaction goes to the forwarder, the governor (votes, the keeper's queue/execute) or
/// the token (delegations), or is the account's own no-op (an empty call to itself); its gas
/// limit and fee stay under the configured caps. Transactions never carry value (the signer
/// sets it to zero), so no job can make the relayer sign a transfer of its ETH, and no job can
/// point it at any other contract.
#[derive(Debug, Clone)]
pub struct SigningPolicy {
    account: Address,
    targets: [(Address, &'static str, Vec<FixedBytes<4>>); 3],
    max_gas: u64,
    max_fee_per_gas: u128,
}

impl SigningPolicy {
    /// The policy of relayer account `account` under `config`.
    pub fn new(config: &RelayerConfig, account: Address) -> Self {
        let a = &config.addresses;
        Self {
            account,
            targets: [
                (
                    a.forwarder,
                    "NestForwarder",
                    vec![NestForwarder::executeCall::SELECTOR.into()],
                ),
                (
                    a.governor,
                    "NestGovernor",
                    vec![
                        NestGovernor::castVoteBySigCall::SELECTOR.into(),
                        NestGovernor::castVoteWithReasonAndParamsBySigCall::SELECTOR.into(),
                        NestGovernor::queueCall::SELECTOR.into(),
                        NestGovernor::executeCall::SELECTOR.into(),
                    ],
                ),
                (
                    a.token,
                    "NestToken",
                    vec![NestToken::delegateBySigCall::SELECTOR.into()],
                ),
            ],
            max_gas: forward_gas_limit(config.max_request_gas, config.max_calldata_bytes)
                .max(config.direct_call_gas),
            max_fee_per_gas: config.max_fee_per_gas,
        }
    }

    /// Refuses a transaction to `to` with `input`, `gas` and fee cap `max_fee` unless it is one
    /// the relayer may sign.
    pub fn check(&self, to: Address, input: &[u8], gas: u64, max_fee: u128) -> Result<()> {
        let own_no_op = to == self.account && input.is_empty();
        if !own_no_op {
            let Some((_, name, selectors)) = self.targets.iter().find(|(t, _, _)| *t == to) else {
                return Err(RelayerError::PolicyRefused(format!(
                    "{to} is not the forwarder, the governor or the token"
                )));
            };
            let Some(selector) = input.get(..4) else {
                return Err(RelayerError::PolicyRefused(format!(
                    "a call to {name} without a function selector"
                )));
            };
            if !selectors.iter().any(|s| s.as_slice() == selector) {
                return Err(RelayerError::PolicyRefused(format!(
                    "{name} function 0x{} is not one the relayer sends",
                    alloy::hex::encode(selector)
                )));
            }
        }
        if gas > self.max_gas {
            return Err(RelayerError::PolicyRefused(format!(
                "gas limit {gas} above the cap of {}",
                self.max_gas
            )));
        }
        if max_fee > self.max_fee_per_gas {
            return Err(RelayerError::PolicyRefused(format!(
                "fee cap {max_fee} wei per gas above the configured {}",
                self.max_fee_per_gas
            )));
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
    fn every_allowed_function_exists_in_the_checked_in_abis() {
        for (contract, functions) in [
            ("NestMarketplace", &MARKETPLACE_FUNCTIONS[..]),
            ("NestNFT", &NFT_FUNCTIONS[..]),
        ] {
            let abi = nest_abis::artifact(contract).expect("artifact").abi;
            let signatures: Vec<String> = abi.functions().map(|f| f.signature()).collect();
            for f in functions {
                assert!(signatures.contains(&f.to_string()), "{contract}.{f} exists");
            }
        }
    }

    #[test]
    fn targets_and_selectors_are_checked() {
        let list = AllowList::nest(&addresses());
        let create = selector(MARKETPLACE_FUNCTIONS[0]);
        assert_eq!(
            list.check(Address::repeat_byte(6), &create[..])
                .expect("allowed"),
            MARKETPLACE_FUNCTIONS[0]
        );
        let err = list
            .check(Address::repeat_byte(2), &create[..])
            .expect_err("token");
        assert_eq!(err.code(), "relay.target_not_allowed");
        let pause = selector("pause()");
        let err = list
            .check(Address::repeat_byte(6), &pause[..])
            .expect_err("admin");
        assert!(err.to_string().contains("NestMarketplace"), "{err}");
        assert!(list.check(Address::repeat_byte(5), &[1, 2]).is_err());
    }
}

#[cfg(test)]
mod signing_tests {
    use super::*;

    fn policy() -> (SigningPolicy, RelayerConfig, Address) {
        let addresses = NestAddresses {
            forwarder: Address::repeat_byte(1),
            governor: Address::repeat_byte(2),
            token: Address::repeat_byte(3),
            marketplace: Address::repeat_byte(4),
            nft: Address::repeat_byte(5),
            timelock: Address::repeat_byte(6),
        };
        let config = RelayerConfig::new(31337, addresses);
        let account = Address::repeat_byte(9);
        (SigningPolicy::new(&config, account), config, account)
    }

    #[test]
    fn only_nest_functions_and_the_own_no_op_are_signed() {
        let (p, config, account) = policy();
        let fee = config.max_fee_per_gas;
        let call = |selector: [u8; 4]| [&selector[..], &[0u8; 32][..]].concat();
        for (to, selector) in [
            (
                Address::repeat_byte(1),
                NestForwarder::executeCall::SELECTOR,
            ),
            (
                Address::repeat_byte(2),
                NestGovernor::castVoteBySigCall::SELECTOR,
            ),
            (
                Address::repeat_byte(2),
                NestGovernor::castVoteWithReasonAndParamsBySigCall::SELECTOR,
            ),
            (Address::repeat_byte(2), NestGovernor::executeCall::SELECTOR),
            (
                Address::repeat_byte(3),
                NestToken::delegateBySigCall::SELECTOR,
            ),
        ] {
            p.check(to, &call(selector), 100_000, fee)
                .expect("a function the relayer sends");
        }
        p.check(account, &[], 21_000, fee).expect("the no-op");
        // Crafted jobs: a token transfer (the relayer's own NEST), a governor call the relayer
        // never makes, another contract, the marketplace directly (its calls go through the
        // forwarder), a bare transfer to an outsider, a call to itself, a call without selector.
        let transfer = call([0xa9, 0x05, 0x9c, 0xbb]);
        for (to, input) in [
            (Address::repeat_byte(3), transfer.clone()),
            (
                Address::repeat_byte(2),
                call(NestGovernor::relayCall::SELECTOR),
            ),
            (Address::repeat_byte(7), transfer.clone()),
            (Address::repeat_byte(4), transfer.clone()),
            (Address::repeat_byte(7), Vec::new()),
            (account, transfer.clone()),
            (Address::repeat_byte(1), Vec::new()),
        ] {
            let err = p.check(to, &input, 100_000, fee).expect_err("refused");
            assert!(matches!(err, RelayerError::PolicyRefused(_)), "{err}");
        }
        let execute = call(NestForwarder::executeCall::SELECTOR);
        assert!(
            p.check(Address::repeat_byte(1), &execute, u64::MAX, fee)
                .is_err(),
            "gas cap"
        );
        assert!(
            p.check(Address::repeat_byte(1), &execute, 100_000, fee + 1)
                .is_err(),
            "fee cap"
        );
    }
}
