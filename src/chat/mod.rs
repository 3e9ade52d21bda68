//! The conversation: messages in a tree of branches, parameters, the request
//! they make, the state machine that streams answers into them, and their files.

pub mod attachment;
pub mod compare;
pub mod conversation;
pub mod event;
pub mod export;
pub mod journal;
pub mod lock;
pub mod machine;
pub mod nodes;
pub mod params;
pub mod path;
pub mod request;
pub mod schema;
pub mod spool;
pub mod store;
pub mod text;
mod token_split;
mod token_table;
pub mod tokens;
pub mod tools;
