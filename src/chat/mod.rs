//! The conversation: messages in a tree of branches, parameters, the request
//! they make, the state machine that streams answers into them, and their files.

pub mod compare;
pub mod conversation;
pub mod export;
pub mod machine;
pub mod params;
pub mod request;
pub mod store;
pub mod tokens;
