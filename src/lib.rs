//! liveq: a simulated live-streaming platform, recommender policies that act on it (baselines and
//! a DQN), and the front ends that run them (a terminal dashboard and headless runners).
//!
//! See ARCHITECTURE.md for the map of modules and the rules between them.

pub mod agent;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod fmt;
pub mod inspect;
pub mod metrics;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod tui;
pub mod worker;
