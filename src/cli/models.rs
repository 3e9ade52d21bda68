//! `llmdeck models`: what the endpoint offers.

use super::out::outln;
use crate::context::Context;

pub fn run(ctx: &Context, json: bool) -> Result<(), String> {
    let provider = ctx.provider(&ctx.profile, 0)?;
    let models = super::runtime()?
        .block_on(provider.models())
        .map_err(|e| format!("could not list models: {e}"))?;
    if json {
        super::out::say_json(
            &serde_json::json!({ "profile": ctx.profile.name, "models": models }),
            false,
        );
    } else {
        for m in models {
            outln!("{m}");
        }
    }
    Ok(())
}
