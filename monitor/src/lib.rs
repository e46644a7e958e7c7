#![doc = include_str!("../README.md")]

pub mod detector;
mod error;
pub mod evaluation;
pub mod synthetic;

pub use detector::{Alarm, Analysis, DetectorConfig, Direction, Point, Scored, analyse};
pub use error::{MonitorError, Result};
