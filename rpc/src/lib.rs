#![doc = include_str!("../README.md")]

mod heads;

pub use heads::{HeadSource, HeadWatch, ws_url_for};
