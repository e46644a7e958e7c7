//! Shared set-up for nest-chain's integration tests: a fresh anvil per test (the checkout and
//! the pinned anvil come from `nest-testkit`).

#![allow(dead_code, unreachable_pub, missing_docs)]

use alloy::{providers::DynProvider, signers::local::PrivateKeySigner};
use nest_chain::{AnvilNode, AnvilOptions, http_provider};

pub use nest_testkit::layout;

pub fn anvil() -> AnvilNode {
    anvil_with(AnvilOptions::default())
}

pub fn anvil_with(options: AnvilOptions) -> AnvilNode {
    AnvilNode::spawn(&layout().anvil_binary(), &options).expect("anvil starts (run scripts/setup)")
}

pub fn provider_for(node: &AnvilNode, key: &PrivateKeySigner) -> DynProvider {
    http_provider(&node.endpoint(), Some(key.clone())).expect("provider")
}
