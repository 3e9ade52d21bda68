//! Widgets: markdown with highlighted code, wrapping, and making output inert.

pub mod highlight;
pub mod markdown;
pub mod sanitize;
pub mod wrap;
