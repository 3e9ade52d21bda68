//! Widgets: markdown with highlighted code, wrapping, and making output inert.

pub mod highlight;
pub mod lines;
pub mod markdown;
pub mod sanitize;
pub mod wrap;
