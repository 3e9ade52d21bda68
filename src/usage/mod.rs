//! Spend: the price table, cost arithmetic and the SQLite ledger.

pub mod ledger;
pub mod prices;
pub mod report;

pub use ledger::{Ledger, LedgerRow};
pub use prices::{PriceTable, format_usd};
