//! Decoding logs with the typed bindings of `nest-abis`, and the raw log kept for each (topics
//! and data as the node gave them: the decoded form follows from them, so it is not stored).

use alloy::{
    json_abi::{Event, JsonAbi},
    primitives::{Address, B256, LogData},
    rpc::types::Log,
    sol_types::SolEventInterface,
};
use nest_abis::NestAddresses;
use nest_abis::{NestForwarder, NestGovernor, NestMarketplace, NestNFT, NestTimelock, NestToken};
use nest_store::{ChainEvent, DeadLetter};
use std::collections::HashMap;

/// Which Nest contract a log came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractKind {
    /// NestNFT.
    Nft,
    /// NestMarketplace.
    Marketplace,
    /// NestToken.
    Token,
    /// NestGovernor.
    Governor,
    /// NestTimelock.
    Timelock,
    /// NestForwarder.
    Forwarder,
}

impl ContractKind {
    fn artifact(self) -> &'static str {
        match self {
            Self::Nft => "NestNFT",
            Self::Marketplace => "NestMarketplace",
            Self::Token => "NestToken",
            Self::Governor => "NestGovernor",
            Self::Timelock => "NestTimelock",
            Self::Forwarder => "NestForwarder",
        }
    }

    /// The lowercase name stored in contract state documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nft => "nft",
            Self::Marketplace => "marketplace",
            Self::Token => "token",
            Self::Governor => "governor",
            Self::Timelock => "timelock",
            Self::Forwarder => "forwarder",
        }
    }
}

/// A decoded Nest event.
#[derive(Debug, Clone)]
pub enum NestEvent {
    /// From the NFT collection.
    Nft(NestNFT::NestNFTEvents),
    /// From the marketplace.
    Marketplace(NestMarketplace::NestMarketplaceEvents),
    /// From the governance token.
    Token(NestToken::NestTokenEvents),
    /// From the governor.
    Governor(NestGovernor::NestGovernorEvents),
    /// From the timelock.
    Timelock(NestTimelock::NestTimelockEvents),
    /// From the forwarder.
    Forwarder(NestForwarder::NestForwarderEvents),
}

/// A log with its position and decoded event.
#[derive(Debug, Clone)]
pub struct IndexedLog {
    /// `{chainId}:{txHash}:{logIndex}`.
    pub id: String,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block timestamp, seconds.
    pub block_timestamp: u64,
    /// Transaction.
    pub tx_hash: B256,
    /// Log index.
    pub log_index: u64,
    /// Emitting contract.
    pub contract: Address,
    /// The event.
    pub event: NestEvent,
}

/// The outcome of decoding one log.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// A Nest event: its raw document and the typed event.
    Event(Box<(ChainEvent, IndexedLog)>),
    /// Not decodable: goes to the dead-letter collection.
    Dead(DeadLetter),
}

/// Decodes logs of the Nest contracts of one deployment.
#[derive(Debug, Clone)]
pub struct LogDecoder {
    chain_id: u64,
    contracts: HashMap<Address, ContractKind>,
    abis: HashMap<ContractKind, HashMap<B256, Event>>,
}

impl LogDecoder {
    /// A decoder for the contracts at `addresses`.
    pub fn new(chain_id: u64, addresses: &NestAddresses) -> Self {
        let contracts: HashMap<Address, ContractKind> = [
            (addresses.nft, ContractKind::Nft),
            (addresses.marketplace, ContractKind::Marketplace),
            (addresses.token, ContractKind::Token),
            (addresses.governor, ContractKind::Governor),
            (addresses.timelock, ContractKind::Timelock),
            (addresses.forwarder, ContractKind::Forwarder),
        ]
        .into_iter()
        .collect();
        let abis = contracts
            .values()
            .map(|kind| {
                let abi: JsonAbi = nest_abis::artifact(kind.artifact())
                    .map(|a| a.abi)
                    .unwrap_or_default();
                let events = abi.events().map(|e| (e.selector(), e.clone())).collect();
                (*kind, events)
            })
            .collect();
        Self {
            chain_id,
            contracts,
            abis,
        }
    }

    /// The contract addresses the decoder knows (for `eth_getLogs` filters).
    pub fn addresses(&self) -> Vec<Address> {
        self.contracts.keys().copied().collect()
    }

    /// What kind of contract `address` is.
    pub fn kind_of(&self, address: &Address) -> Option<ContractKind> {
        self.contracts.get(address).copied()
    }

    /// Decodes one log. `timestamp` is used when the node did not include `blockTimestamp`.
    pub fn decode(&self, log: &Log, timestamp: Option<u64>) -> Decoded {
        let block_number = log.block_number.unwrap_or_default();
        let tx_hash = log.transaction_hash.unwrap_or_default();
        let log_index = log.log_index.unwrap_or_default();
        let id = ChainEvent::id_for(self.chain_id, &tx_hash, log_index);
        let contract = log.address();
        let data: &LogData = log.data();
        let dead = |reason: String| {
            Decoded::Dead(DeadLetter {
                id: id.clone(),
                chain_id: self.chain_id as i64,
                block_number: block_number as i64,
                tx_hash,
                log_index: log_index as i64,
                contract,
                topics: data.topics().iter().map(|t| format!("{t:#x}")).collect(),
                data: format!("{}", data.data),
                reason,
            })
        };
        let Some(kind) = self.kind_of(&contract) else {
            return dead(format!("log from unknown contract {contract}"));
        };
        let Some(selector) = data.topics().first() else {
            return dead("anonymous log (no topics)".into());
        };
        let Some(abi_event) = self.abis.get(&kind).and_then(|e| e.get(selector)) else {
            return dead(format!(
                "{} has no event with topic {selector:#x}",
                kind.artifact()
            ));
        };
        let typed = decode_typed(kind, data);
        let event = match typed {
            Ok(event) => event,
            Err(e) => return dead(format!("{}: {e}", abi_event.name)),
        };
        let Some(block_timestamp) = log.block_timestamp.or(timestamp) else {
            return dead("no block timestamp".into());
        };
        let block_hash = log.block_hash.unwrap_or_default();
        let raw = ChainEvent {
            chain_id: self.chain_id,
            block_number,
            block_hash,
            block_timestamp,
            tx_hash,
            log_index,
            contract,
            topics: data.topics().to_vec(),
            data: data.data.clone(),
        };
        let indexed = IndexedLog {
            id,
            block_number,
            block_hash,
            block_timestamp,
            tx_hash,
            log_index,
            contract,
            event,
        };
        Decoded::Event(Box::new((raw, indexed)))
    }

    /// Decodes a stored raw event again (for rebuilding projections without refetching).
    pub fn decode_stored(&self, raw: &ChainEvent) -> Option<IndexedLog> {
        let kind = self.kind_of(&raw.contract)?;
        let log_data = LogData::new(raw.topics.clone(), raw.data.clone())?;
        let event = decode_typed(kind, &log_data).ok()?;
        Some(IndexedLog {
            id: raw.id(),
            block_number: raw.block_number,
            block_hash: raw.block_hash,
            block_timestamp: raw.block_timestamp,
            tx_hash: raw.tx_hash,
            log_index: raw.log_index,
            contract: raw.contract,
            event,
        })
    }
}

fn decode_typed(kind: ContractKind, data: &LogData) -> Result<NestEvent, alloy::sol_types::Error> {
    let topics = data.topics();
    let body = &data.data;
    Ok(match kind {
        ContractKind::Nft => NestEvent::Nft(NestNFT::NestNFTEvents::decode_raw_log(topics, body)?),
        ContractKind::Marketplace => NestEvent::Marketplace(
            NestMarketplace::NestMarketplaceEvents::decode_raw_log(topics, body)?,
        ),
        ContractKind::Token => {
            NestEvent::Token(NestToken::NestTokenEvents::decode_raw_log(topics, body)?)
        }
        ContractKind::Governor => NestEvent::Governor(
            NestGovernor::NestGovernorEvents::decode_raw_log(topics, body)?,
        ),
        ContractKind::Timelock => NestEvent::Timelock(
            NestTimelock::NestTimelockEvents::decode_raw_log(topics, body)?,
        ),
        ContractKind::Forwarder => NestEvent::Forwarder(
            NestForwarder::NestForwarderEvents::decode_raw_log(topics, body)?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Log as PrimitiveLog, U256};

    fn addresses() -> NestAddresses {
        nest_testkit::placeholder_addresses()
    }

    fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
        Log {
            inner: PrimitiveLog {
                address,
                data: LogData::new_unchecked(topics, data.into()),
            },
            block_number: Some(7),
            block_hash: Some(B256::repeat_byte(7)),
            block_timestamp: Some(1_700_000_000),
            transaction_hash: Some(B256::repeat_byte(9)),
            log_index: Some(3),
            ..Default::default()
        }
    }

    #[test]
    fn a_transfer_decodes_and_its_stored_raw_form_decodes_again() {
        use alloy::sol_types::SolEvent;
        let decoder = LogDecoder::new(31337, &addresses());
        let event = NestNFT::Transfer {
            from: Address::ZERO,
            to: Address::repeat_byte(8),
            tokenId: U256::from(42),
        };
        let data = event.encode_log_data();
        let Decoded::Event(boxed) = decoder.decode(
            &log(
                Address::repeat_byte(5),
                data.topics().to_vec(),
                data.data.to_vec(),
            ),
            None,
        ) else {
            panic!("decodes");
        };
        let (raw, indexed) = *boxed;
        assert_eq!(raw.topics, data.topics().to_vec());
        assert_eq!(raw.data, data.data);
        assert_eq!(raw.id(), indexed.id);
        assert!(matches!(
            indexed.event,
            NestEvent::Nft(NestNFT::NestNFTEvents::Transfer(_))
        ));
        let again = decoder.decode_stored(&raw).expect("stored form decodes");
        assert!(
            matches!(again.event, NestEvent::Nft(NestNFT::NestNFTEvents::Transfer(ref t)) if t.tokenId == U256::from(42))
        );
    }

    #[test]
    fn undecodable_logs_become_dead_letters_with_a_reason() {
        let decoder = LogDecoder::new(31337, &addresses());
        let unknown_topic = log(
            Address::repeat_byte(5),
            vec![B256::repeat_byte(0xee)],
            vec![],
        );
        let Decoded::Dead(letter) = decoder.decode(&unknown_topic, None) else {
            panic!("dead")
        };
        assert!(
            letter.reason.contains("no event with topic"),
            "{}",
            letter.reason
        );
        let stranger = log(
            Address::repeat_byte(0x99),
            vec![B256::repeat_byte(1)],
            vec![],
        );
        let Decoded::Dead(letter) = decoder.decode(&stranger, None) else {
            panic!("dead")
        };
        assert!(
            letter.reason.contains("unknown contract"),
            "{}",
            letter.reason
        );
        // A known event whose data is truncated.
        use alloy::sol_types::SolEvent;
        let sale_topic = NestMarketplace::Sale::SIGNATURE_HASH;
        let truncated = log(
            Address::repeat_byte(6),
            vec![sale_topic, B256::ZERO, B256::ZERO, B256::ZERO],
            vec![1, 2, 3],
        );
        let Decoded::Dead(letter) = decoder.decode(&truncated, None) else {
            panic!("dead")
        };
        assert!(letter.reason.starts_with("Sale"), "{}", letter.reason);
        assert_eq!(letter.block_number, 7);
    }
}
