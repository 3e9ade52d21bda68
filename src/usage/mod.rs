//! Spend: the price table, cost arithmetic and the SQLite ledger.

pub mod budget;
pub mod catalog;
pub mod cost;
pub mod gate;
pub mod ledger;
pub mod migrations;
pub mod org;
pub mod price_form;
pub mod prices;
pub mod report;
pub mod spend;
pub mod steps;
pub mod sync;

pub use ledger::{Ledger, LedgerFile, LedgerRow};
pub use prices::{PriceTable, format_usd};
