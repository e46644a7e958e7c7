#![doc = include_str!("../README.md")]

pub mod activity;
pub mod config;
pub mod content;
pub mod error;
pub mod message;
pub mod seed;
pub mod service;
pub mod verify;
pub mod views;

pub use config::{SocialConfig, WriteLimits};
pub use error::{Result, SocialError};
pub use message::{Body, DomainJson, Envelope, SocialDomain};
pub use service::{Accepted, SocialService, Touched, Verified};
