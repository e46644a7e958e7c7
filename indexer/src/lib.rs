#![doc = include_str!("../README.md")]

mod business;
pub mod decode;
pub mod error;
mod indexer;
mod project;
mod rpc;
mod tables;

pub use decode::{ContractKind, IndexedLog, LogDecoder, NestEvent};
pub use error::{IndexerError, Result};
pub use indexer::{BackfillStats, Indexer, IndexerConfig, IndexerStatus};
pub use nest_rpc::{HeadSource, ws_url_for};
pub use project::ChangeNotice;
