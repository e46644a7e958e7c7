//! Metadata resolution, beside indexing and never in its way: the projector only queues a job
//! (in the batch's transaction) when a token is minted or an ERC-4906 event says its metadata
//! changed; [`MetadataResolver`] workers lease jobs from the store, fetch and parse the
//! document and its image behind the SSRF guard, and store the outcome.

mod document;
mod fetch;
mod guard;
mod svg;
mod worker;

pub use crate::error::FetchFailure;
pub use document::{Document, ImageKind, parse_document, sniff_image};
pub use fetch::{FetchLimits, Fetched, Fetcher, Gateways, decode_data_uri};
pub use guard::{AddressPolicy, guard_outbound_url, is_public};
pub use svg::sanitize_svg;
pub use worker::{MetadataConfig, MetadataResolver, NFT_METADATA_NOTICE};
