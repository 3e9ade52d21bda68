//! Everything the screen shows, in one place: the skeleton that holds each
//! pane's state (from the rooms' plain-data `state` modules) and the popups
//! open over them. Views read it; only `update` (through the rooms' keys) and
//! the app's message handling change it.

use std::time::{Duration, Instant};

use ratatui_textarea::TextArea;

use super::action::Place;
use super::keymap::Keymap;
use super::params::Field;
use crate::chat::conversation::NodeId;
use crate::chat::machine::Machine;
use crate::chat::store::Summary;
use crate::config::Profile;
use crate::config::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Input,
    Transcript,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Model,
    Profile,
    /// A file to attach.
    File,
    /// A result saved with the function being called.
    Canned,
}

pub struct Picker {
    pub kind: PickerKind,
    pub query: String,
    pub items: Vec<String>,
    /// Indices into `items` that match the query, best first.
    pub matches: Vec<usize>,
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromptPurpose {
    Rename(String),
    /// The models to compare the draft on.
    Compare,
    System,
    Param(Field),
    NewPrompt,
    RenamePrompt(String),
    DuplicatePrompt(String),
    SaveAsPrompt,
    TestPrompt(String),
    /// The price form of an unpriced model.
    Price(String),
    /// The reason for refusing the tool call asked about.
    Refusal,
}

pub struct TextPrompt {
    pub title: String,
    pub purpose: PromptPurpose,
    pub input: TextArea<'static>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    DeleteConversation(String),
    DeletePrompt(String),
    /// Send although a budget or the cost threshold says to ask first.
    Send(crate::chat::machine::Input),
    /// Regenerate that answer, likewise.
    Regenerate(crate::chat::conversation::NodeId),
    /// Send the draft to these models side by side, likewise.
    Compare(Vec<String>),
    /// Let the model go on from the tool results, likewise (a "no" keeps
    /// the results in the conversation, unanswered).
    Continue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Playground,
    Spend,
    Library,
    Evals,
}

impl Pane {
    /// The pane registry: every pane, in the order of the title bar's tabs,
    /// Alt-1… and Ctrl-T.
    pub const ALL: [Pane; 4] = [Pane::Playground, Pane::Spend, Pane::Library, Pane::Evals];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Playground => "Playground",
            Pane::Spend => "Spend",
            Pane::Library => "Library",
            Pane::Evals => "Evals",
        }
    }

    /// The pane Ctrl-T goes to from this one.
    pub fn next(self) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ALL[(i + 1) % Pane::ALL.len()]
    }
}

pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// View code: which language tab, and how far scrolled.
    Code {
        tab: usize,
        scroll: u16,
    },
    Conversations {
        selected: usize,
    },
    Parameters {
        selected: usize,
    },
    Picker(Picker),
    Prompt(Box<TextPrompt>),
    Confirm {
        question: String,
        then: Confirmed,
    },
    Tools {
        selected: usize,
    },
    /// Run the tool call the agent loop asks about (`state.mcp.asking`)?
    Approve,
    /// The variables of a prompt about to run.
    Form(Box<crate::tui::library::state::Form>),
}

impl Overlay {
    /// Whether two overlays are the same popup (a picker of the same list, a
    /// prompt for the same thing), whatever they hold now.
    fn same_kind(&self, other: &Overlay) -> bool {
        match (self, other) {
            (Overlay::Picker(a), Overlay::Picker(b)) => a.kind == b.kind,
            (Overlay::Prompt(a), Overlay::Prompt(b)) => a.purpose == b.purpose,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// What the status bar says about the team database.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamStatus {
    Online { totals: crate::usage::spend::Totals },
    Offline { queued: i64, why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// How long the keyboard must rest before a popup that opened by itself takes a key.
pub const POPUP_PAUSE: Duration = Duration::from_millis(600);

pub struct Toast {
    pub text: String,
    pub level: Level,
    pub at: Instant,
}

pub struct State {
    pub machine: Machine,
    pub profile: Profile,
    pub profiles: Vec<String>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub focus: Focus,
    pub overlays: Vec<Overlay>,
    pub input: TextArea<'static>,
    /// The user message being edited: sending makes a new branch beside it.
    pub editing: Option<NodeId>,
    /// Index into the shown path of the selected message (transcript focus).
    pub selected: Option<usize>,
    /// Lines scrolled up from the bottom of the transcript; 0 follows the stream.
    pub scroll: usize,
    pub models: Vec<String>,
    pub conversations: Vec<Summary>,
    /// Tokens of what would be sent now (conversation + draft), when counted.
    pub draft_tokens: Option<u64>,
    pub session_spend_micros: i64,
    /// Cost of this console's ledger rows not yet in `totals` (a budget
    /// check between two steps of a tool loop must not miss the first).
    pub unsettled_micros: i64,
    /// Of those, what the ledger has written: the next totals read holds it.
    pub written_micros: i64,
    /// A popup that opened by itself (an approval, the budget's question
    /// between a loop's steps) takes keys from this moment on: keys typed for
    /// something else (the next message, an Enter) must not answer it, and
    /// each one before then pushes it on.
    pub keys_from: Option<Instant>,
    pub toast: Option<Toast>,
    /// Problems found at start-up (bad config, theme, keymap): shown until dismissed.
    pub warnings: Vec<String>,
    /// Which code block "copy code" takes next.
    pub next_code_block: usize,
    pub should_quit: bool,
    /// Rows of the transcript at the last layout, for paging.
    pub viewport: u16,
    pub pane: Pane,
    pub spend: crate::tui::spend::state::SpendPane,
    /// Today / 7 days / month spend from the ledger (all profiles), once read.
    pub totals: Option<crate::usage::spend::Totals>,
    pub budgets: crate::usage::budget::Budgets,
    /// The models last compared with, offered again.
    pub compare_with: String,
    /// Presenter mode: no hosts or ids on screen, no conversation list, keys shown.
    pub presenter: bool,
    /// "REPLAY" or "REC" when the session replays or records answers.
    pub session_badge: Option<&'static str>,
    /// The last keys pressed (presenter mode shows them to the audience).
    pub keys_shown: std::collections::VecDeque<String>,
    /// Answers whose reasoning summary is shown in full.
    pub expanded: std::collections::HashSet<NodeId>,
    pub library: crate::tui::library::state::LibraryPane,
    pub evals: crate::tui::evals::state::EvalsPane,
    /// The team database's state, when one is configured.
    pub team: Option<TeamStatus>,
    pub team_budgets: (Option<f64>, Option<f64>),
    /// Said next to the team's status when the server is not verified (sslmode).
    pub team_unverified: Option<&'static str>,
    /// Functions found in the tools folder (and the files that did not parse).
    pub tool_library: (Vec<crate::chat::tools::ToolDef>, Vec<String>),
    /// MCP servers and the agent loop of this conversation.
    pub mcp: crate::tui::core::mcp::Mcp,
}

impl State {
    /// A fresh playground over `machine`, input focused, nothing open.
    pub fn new(
        machine: Machine,
        profile: Profile,
        theme: Theme,
        keymap: Keymap,
        warnings: Vec<String>,
    ) -> Self {
        Self {
            machine,
            profiles: vec![profile.name.clone()],
            profile,
            theme,
            keymap,
            focus: Focus::Input,
            overlays: Vec::new(),
            input: new_input(PLACEHOLDER),
            editing: None,
            selected: None,
            scroll: 0,
            models: Vec::new(),
            conversations: Vec::new(),
            draft_tokens: None,
            session_spend_micros: 0,
            unsettled_micros: 0,
            written_micros: 0,
            keys_from: None,
            toast: None,
            warnings,
            next_code_block: 0,
            should_quit: false,
            viewport: 20,
            pane: Pane::Playground,
            spend: Default::default(),
            totals: None,
            budgets: Default::default(),
            compare_with: String::new(),
            presenter: false,
            keys_shown: Default::default(),
            session_badge: None,
            expanded: Default::default(),
            tool_library: Default::default(),
            mcp: Default::default(),
            library: Default::default(),
            evals: Default::default(),
            team: None,
            team_budgets: (None, None),
            team_unverified: None,
        }
    }

    /// Opens a popup. Popups never stack on themselves: with the same popup
    /// on top this does nothing (it keeps what was typed there); one further
    /// down comes to the top anew.
    pub fn open(&mut self, overlay: Overlay) {
        if self.overlays.last().is_some_and(|o| o.same_kind(&overlay)) {
            return;
        }
        self.overlays.retain(|o| !o.same_kind(&overlay));
        self.overlays.push(overlay);
    }

    /// Where keys go now: the top overlay, else the focused area.
    pub fn place(&self) -> Place {
        match self.overlays.last() {
            Some(Overlay::Help { .. }) => Place::Help,
            _ => State::place_without_help(self),
        }
    }

    /// The place under any help screens (whose keys the help lists).
    pub fn place_without_help(state: &State) -> Place {
        let top = state
            .overlays
            .iter()
            .rev()
            .find(|o| !matches!(o, Overlay::Help { .. }));
        match top {
            Some(Overlay::Conversations { .. }) => Place::Conversations,
            Some(Overlay::Parameters { .. }) => Place::Parameters,
            Some(Overlay::Picker(_)) | Some(Overlay::Prompt(_)) => Place::Picker,
            Some(Overlay::Confirm { .. }) => Place::Confirm,
            Some(Overlay::Code { .. }) => Place::Code,
            Some(Overlay::Tools { .. }) => Place::Tools,
            Some(Overlay::Approve) => Place::Approve,
            Some(Overlay::Form(_)) => Place::Form,
            Some(Overlay::Help { .. }) | None => match (state.pane, state.focus) {
                (Pane::Spend, _) => Place::Spend,
                (Pane::Library, _) => Place::Library,
                (Pane::Evals, _) => Place::Evals,
                (Pane::Playground, Focus::Input) => Place::Input,
                (Pane::Playground, Focus::Transcript) => Place::Transcript,
            },
        }
    }

    /// Spend so far today and this month: the ledger's figures, else this session's.
    /// A popup opened by itself: its keys count after a pause.
    pub fn hold_keys(&mut self, now: Instant) {
        self.keys_from = Some(now + POPUP_PAUSE);
    }

    /// Whether a popup still waits for the keyboard to rest at `now`.
    pub fn holding_keys(&self, now: Instant) -> bool {
        self.keys_from.is_some_and(|t| now < t)
    }

    /// Whether a key (bound to `action`, if any) reaching such a popup counts:
    /// stopping always does; an answer only once the keyboard has rested
    /// (a key before then starts the pause over).
    pub fn takes_key(&mut self, action: Option<super::action::Action>) -> bool {
        use super::action::Action;
        let now = Instant::now();
        if matches!(action, Some(Action::Close | Action::Cancel | Action::Quit))
            || !self.holding_keys(now)
        {
            return true;
        }
        self.hold_keys(now);
        false
    }

    pub fn spent(&self) -> (i64, i64) {
        match &self.totals {
            Some(t) => (
                t.today.0 + self.unsettled_micros,
                t.month.0 + self.unsettled_micros,
            ),
            None => (self.session_spend_micros, self.session_spend_micros),
        }
    }

    /// Totals read after `settles` of this console's spend was written.
    pub fn set_totals(&mut self, totals: crate::usage::spend::Totals, settles: i64) {
        self.totals = Some(totals);
        self.unsettled_micros = (self.unsettled_micros - settles).max(0);
    }

    /// What sending the draft now would ask: the shown branch (only up to the
    /// message being edited, which the draft replaces), plus the draft and the
    /// files attached to it.
    pub fn pending_request(&self) -> crate::chat::request::ChatRequest {
        use crate::chat::request::{ChatRequest, WireMessage, WireRole};
        let conv = &self.machine.conv;
        let editing = self.editing.and_then(|n| conv.nodes.get(n)?.parent);
        let mut request = ChatRequest::for_node(conv, editing.unwrap_or(conv.last()));
        let draft = self.draft();
        // An edit is sent without the pending attachments (they wait for a new message).
        let attachments = match editing {
            Some(_) => Vec::new(),
            None => self.machine.attachments.clone(),
        };
        if !draft.trim().is_empty() || !attachments.is_empty() {
            let mut message = WireMessage::text(WireRole::User, &draft);
            message.attachments = attachments;
            request.messages.push(message);
        }
        request
    }

    pub fn draft(&self) -> String {
        self.input.lines().join("\n")
    }

    /// Shows a message; toasts carry errors from servers and syncs, so they are scrubbed.
    /// Server and tool text can reach a toast: it is made inert too (line by line).
    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        let text = crate::log::scrub(&text.into());
        let text: Vec<String> = text
            .split('\n')
            .map(|l| crate::inert::inert(l).into_owned())
            .collect();
        self.toast = Some(Toast {
            text: text.join("\n"),
            level,
            at: Instant::now(),
        });
    }

    pub fn viewport_rows(&self) -> usize {
        usize::from(self.viewport.max(4))
    }

    /// The endpoint host as it may be shown (never in presenter mode).
    pub fn shown_host(&self) -> String {
        if self.presenter && !self.profile.is_demo() {
            "●●●".into()
        } else {
            self.profile.host()
        }
    }

    /// The node id of the selected message, if any.
    pub fn selected_node(&self) -> Option<NodeId> {
        let path = self.machine.conv.path();
        self.selected.and_then(|i| path.get(i))
    }
}

/// Short enough for the input box of a 40-column terminal.
pub const PLACEHOLDER: &str = "Type a prompt — Enter sends, F1 keys";

/// A fresh input box with the look we use everywhere.
pub fn new_input(placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text(placeholder.to_string());
    // In the terminal's own text colour (the default dark grey is unreadable
    // on dark backgrounds), told apart from typed text by italics.
    t.set_placeholder_style(
        ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::ITALIC),
    );
    t.set_cursor_line_style(ratatui::style::Style::default());
    t.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
    t
}
