//! `llmdeck models`: what the endpoint offers.

use crate::context::Context;
use crate::provider::Provider;

pub fn run(ctx: &Context, json: bool) -> Result<(), String> {
    let provider = Provider::new(&ctx.profile, ctx.timeouts(), 0).map_err(|e| e.to_string())?;
    let models = super::runtime()?
        .block_on(provider.models())
        .map_err(|e| format!("could not list models: {e}"))?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "profile": ctx.profile.name, "models": models })
        );
    } else {
        for m in models {
            println!("{m}");
        }
    }
    Ok(())
}
