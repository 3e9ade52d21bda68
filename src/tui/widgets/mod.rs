//! Widgets: markdown with highlighted code, and wrapping (`crate::inert` makes output inert).

pub mod highlight;
pub mod lines;
pub mod markdown;
pub mod wrap;
