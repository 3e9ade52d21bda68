//! The price form: on an answer shown as unpriced, `$` asks for the model's
//! input, cached and output prices per 1M tokens and writes them to the user's
//! prices.toml; answers from then on are priced.

pub mod effects;

use crate::chat::conversation::Role;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Level, PromptPurpose, State};

/// Opens the form for the selected answer (else the last one), when it is unpriced.
pub fn open(state: &mut State) -> Vec<Command> {
    let conv = &state.machine.conv;
    let path = conv.path();
    let sel = state.selected.unwrap_or(path.len().saturating_sub(1));
    let Some(node) = path.get(sel).map(|id| &conv.nodes[id]) else {
        return Vec::new();
    };
    let meta = node.meta.as_ref().filter(|_| node.role == Role::Assistant);
    let Some(meta) = meta.filter(|m| m.cost_micros.is_none() && m.usage.is_some()) else {
        state.toast(
            Level::Info,
            "select an answer shown as unpriced to price its model",
        );
        return Vec::new();
    };
    let model = meta.model.clone().unwrap_or_else(|| conv.model.clone());
    // The name is the server's text: shown inert, written escaped (as a TOML string).
    let title = format!(
        "Price of {}: input cached output, USD per 1M tokens",
        crate::inert::inert(&model)
    );
    super::prompt::open_prompt(state, &title, PromptPurpose::Price(model), "");
    Vec::new()
}

/// The form's text → the command that writes the price, or the form's error.
pub fn submit(model: String, text: &str) -> Result<Vec<Command>, String> {
    let rates = crate::usage::price_form::parse_rates(text)?;
    Ok(vec![Command::SavePrice { model, rates }])
}
