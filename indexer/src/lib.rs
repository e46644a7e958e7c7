#![doc = include_str!("../README.md")]

mod business;
pub mod decode;
pub mod error;
mod indexer;
pub mod metadata;
mod project;
mod rpc;
mod tables;

pub use decode::{ContractKind, IndexedLog, LogDecoder, NestEvent};
pub use error::{FetchFailure, IndexerError, Result};
pub use indexer::{BackfillStats, Indexer, IndexerConfig, IndexerStatus};
pub use metadata::{MetadataConfig, MetadataResolver};
pub use nest_rpc::{HeadSource, ws_url_for};
pub use project::ChangeNotice;
