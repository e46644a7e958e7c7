#![doc = include_str!("../README.md")]

pub mod clients;
pub mod detector;
mod error;
pub mod evaluation;
pub mod local;
pub mod service;
pub mod synthetic;

pub use clients::{AlertmanagerClient, PostableAlert, PrometheusClient};
pub use detector::{Alarm, Analysis, DetectorConfig, Direction, Point, Scored, analyse};
pub use error::{MonitorError, Result};
pub use service::{Monitor, MonitorConfig, SeriesReport, SeriesSpec, default_series};
