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

use crate::error::{RelayerError, Result};
use alloy::primitives::{Address, FixedBytes, keccak256};
use nest_abis::NestAddresses;

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
