//! What the console checks before a request leaves (Enter, regenerate,
//! compare): that there is a model to send it to, and that the budgets allow
//! what this exact request would cost.

use crate::chat::machine::Input;
use crate::tui::core::command::{Command, send};
use crate::tui::core::state::{Confirmed, Level, Overlay, PickerKind, State, TeamStatus};

/// Sends `input`, or asks first: for a model when none is set, for a yes when
/// a budget or the confirmation threshold says so.
pub fn send_checked(state: &mut State, input: Input) -> Vec<Command> {
    if state.machine.conv.model.trim().is_empty() {
        // A server answers an empty model with an error: pick one first, draft kept.
        let commands = super::picker::open_picker(state, PickerKind::Model);
        state.toast(
            Level::Warning,
            "no model chosen yet: pick one (or type its name), then press Enter again",
        );
        return commands;
    }
    if ask_first(state, 1, Confirmed::Send(input.clone())) {
        return Vec::new();
    }
    send(state, input)
}

/// Asks before `requests` requests like the one pending when a budget or the
/// confirmation threshold says so (a comparison sends one per target); `then`
/// runs on a yes. True when it asked.
pub fn ask_first(state: &mut State, requests: i64, then: Confirmed) -> bool {
    let estimate = exact_estimate_micros(state).saturating_mul(requests);
    ask_first_at(state, estimate, then)
}

/// The tool results are all in: the model goes on from them, asked about
/// first like Enter when a budget says so (each step of the loop is a request).
pub fn continue_checked(state: &mut State) -> Vec<Command> {
    if state.machine.next_step().is_none() {
        return Vec::new();
    }
    let estimate = if may_ask(state) {
        crate::usage::gate::next_step_estimate(&state.machine)
    } else {
        0
    };
    if ask_first_at(state, estimate, Confirmed::Continue) {
        // It opens by itself when the tools end, under fingers that may be typing.
        state.hold_keys(std::time::Instant::now());
        return Vec::new();
    }
    vec![Command::Machine(Input::Continue)]
}

fn ask_first_at(state: &mut State, estimate: i64, then: Confirmed) -> bool {
    let Some(why) = crate::usage::gate::ask_before(
        &state.budgets,
        state.spent(),
        team_spend(state).as_ref(),
        estimate,
    ) else {
        return false;
    };
    state.open(Overlay::Confirm {
        question: format!("{why} Send anyway? (y/n)"),
        then,
    });
    true
}

/// What sending the draft now costs at least, counted on the request itself:
/// the status bar's count lags typing by a moment, a fast Enter must not.
pub fn exact_estimate_micros(state: &State) -> i64 {
    if !may_ask(state) {
        return 0;
    }
    crate::usage::gate::estimate(&state.machine, &state.pending_request())
}

/// Whether any budget could ask (else counting the request is wasted work).
fn may_ask(state: &State) -> bool {
    let b = &state.budgets;
    let team = state.team_budgets != (None, None);
    b.confirm_above_usd.is_some()
        || (b.hard_stop && ((b.daily_usd, b.monthly_usd) != (None, None) || team))
}

/// The team's budgets and spend, when the team database answered.
fn team_spend(state: &State) -> Option<crate::usage::gate::TeamSpend> {
    let Some(TeamStatus::Online { totals }) = &state.team else {
        return None;
    };
    // This console's last rows may not have reached the team's figures yet.
    Some(crate::usage::gate::TeamSpend {
        daily_usd: state.team_budgets.0,
        monthly_usd: state.team_budgets.1,
        today: totals.today.0 + state.unsettled_micros,
        month: totals.month.0 + state.unsettled_micros,
    })
}

/// The endpoint's models arrived (or could not be listed). With no model set
/// yet (a local server and no `--model`), the first one listed is used and
/// the status bar says so.
pub fn models_listed(state: &mut State, listed: Result<Vec<String>, String>) {
    match listed {
        Ok(models) => state.models = models,
        Err(e) => {
            state.models = state.profile.models.clone();
            state.toast(Level::Warning, format!("could not list models: {e}"));
        }
    }
    if !state.machine.conv.model.trim().is_empty() {
        return;
    }
    match state.models.first().cloned() {
        Some(first) => {
            state.machine.conv.model = first.clone();
            // New conversations start on it too.
            state.profile.model = first.clone();
            // The id is the server's text: shown inert.
            state.toast(
                Level::Info,
                format!(
                    "model: {} — the first the endpoint lists (Ctrl-K to change)",
                    crate::inert::inert(&first)
                ),
            );
        }
        None if state.toast.is_none() => state.toast(
            Level::Warning,
            "the endpoint lists no models: Ctrl-K and type the model's name",
        ),
        None => {}
    }
}
