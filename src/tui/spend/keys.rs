//! Keys of the Spend pane: grouping, range, filters, sort, drill-down.

use super::state::SpendPane;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Level, Pane, State};

pub fn apply(state: &mut State, action: Action) -> Vec<Command> {
    let pane = &mut state.spend;
    if let Some(drill) = pane.drill.as_mut() {
        match action {
            Action::Up => drill.selected = drill.selected.saturating_sub(1),
            Action::Down => {
                drill.selected = (drill.selected + 1).min(drill.rows.len().saturating_sub(1))
            }
            Action::Close => pane.drill = None,
            Action::Open => {
                let conv = drill
                    .rows
                    .get(drill.selected)
                    .and_then(|r| r.conversation_id.clone());
                match conv {
                    Some(id) => {
                        state.pane = Pane::Playground;
                        return vec![Command::OpenConversation(id)];
                    }
                    None => state.toast(Level::Info, "this request has no saved conversation"),
                }
            }
            _ => {}
        }
        return Vec::new();
    }
    let rows = pane.data.as_ref().map(|d| d.rows.len()).unwrap_or(0);
    match action {
        Action::Up => pane.selected = pane.selected.saturating_sub(1),
        Action::Down => pane.selected = (pane.selected + 1).min(rows.saturating_sub(1)),
        Action::Close => state.pane = Pane::Playground,
        Action::Open => {
            if let Some(row) = pane.data.as_ref().and_then(|d| d.rows.get(pane.selected)) {
                return vec![Command::LoadDrill(row.key.clone())];
            }
        }
        Action::NextGrouping | Action::PrevGrouping => {
            pane.step_grouping(if action == Action::NextGrouping {
                1
            } else {
                -1
            });
            return vec![Command::LoadSpend];
        }
        Action::CycleRange => {
            pane.next_range();
            return vec![Command::LoadSpend];
        }
        Action::CycleModel | Action::CycleProfile => {
            let data = pane.data.as_ref();
            if action == Action::CycleModel {
                let values = data.map(|d| d.models.clone()).unwrap_or_default();
                SpendPane::cycle(&mut pane.model, &values);
            } else {
                let values = data.map(|d| d.profiles.clone()).unwrap_or_default();
                SpendPane::cycle(&mut pane.profile, &values);
            }
            pane.selected = 0;
            return vec![Command::LoadSpend];
        }
        Action::CycleSort => pane.next_sort(),
        Action::ToggleOrg => pane.org = !pane.org,
        Action::ToggleTeam => {
            pane.team = !pane.team;
            if pane.team && pane.by.team_key().is_none() {
                // Kept only on each machine: the team's figures by member instead.
                pane.by = crate::usage::report::GroupBy::Member;
            }
            pane.data = None;
            pane.selected = 0;
            return vec![Command::LoadSpend];
        }
        Action::SyncOrg => return vec![Command::SyncOrg],
        Action::Refresh => return vec![Command::LoadSpend],
        _ => {}
    }
    Vec::new()
}
