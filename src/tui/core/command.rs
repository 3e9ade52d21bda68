//! What an update asks the app to do: every I/O and background job, as
//! data. `update` returns these; `app` carries them out (each variant has
//! exactly one handler there, matched without a catch-all).

use super::state::{PLACEHOLDER, State, new_input};
use crate::chat::machine::{Effect, Input};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Feed the conversation state machine; the app runs the effects it returns.
    Machine(Input),
    /// Send `text` to several targets (`model[@profile][?param=value]`).
    Compare {
        text: String,
        specs: Vec<String>,
    },
    /// Carry out effects (params changed → save, say).
    Effects(Vec<Effect>),
    Copy {
        text: String,
        what: String,
    },
    EditInEditor(EditorTarget),
    /// Read a file and attach it to the next message.
    Attach(std::path::PathBuf),
    /// Read the tools folder again.
    LoadTools,
    /// Start an MCP server in the background (first use).
    StartMcp(String),
    /// The servers or tools on changed: the conversation's functions follow.
    SyncMcpTools,
    /// Run the agent loop's decided calls (together).
    RunTools,
    /// The tool results are all in: the model goes on once the budgets allow.
    ContinueChecked,
    /// Esc: stop the running tools and the loop.
    StopTools,
    /// The loop ended: number its model calls and record its tool runs.
    RecordSteps,
    /// Read the prompt library (off the first frame).
    LoadLibrary,
    /// The kept test runs, newest first (the Evals pane's list).
    LoadEvalRuns,
    /// One kept run's results, by id.
    OpenEvalRun(String),
    /// Two kept runs side by side: (the earlier, the later).
    CompareEvalRuns(String, String),
    /// The ledger's versions of a prompt.
    LoadPromptStats(String),
    /// Fill a prompt and send it in a new playground conversation.
    RunPrompt {
        name: String,
        vars: std::collections::BTreeMap<String, String>,
    },
    TestPrompt {
        name: String,
        targets: Vec<String>,
    },
    /// Add a model's price to prices.toml (input, cached, output per 1M).
    SavePrice {
        model: String,
        rates: (f64, Option<f64>, f64),
    },
    /// Write the starter prompts into the library.
    StarterPrompts,
    /// Library file work, each answered by a reload.
    CreatePrompt(String),
    RenamePrompt {
        from: String,
        to: String,
    },
    DuplicatePrompt {
        from: String,
        to: String,
    },
    DeletePrompt(String),
    SaveAsPrompt(String),
    NewConversation,
    OpenConversation(String),
    DuplicateConversation(String),
    RenameConversation {
        id: String,
        title: String,
    },
    DeleteConversation(String),
    RefreshConversations,
    /// Recompute the Spend pane (and the status bar's totals) from the ledger.
    LoadSpend,
    /// The requests behind one row of the Spend pane.
    LoadDrill(String),
    SyncOrg,
    SwitchProfile(String),
    LoadModels,
    Export(ExportKind),
    /// The draft or conversation changed: count what would be sent.
    CountTokens,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorTarget {
    Draft,
    System,
    /// A function's file in the tools folder (`None`: a new one).
    Tool(Option<String>),
    /// A file the user owns (a prompt), edited in place.
    File(std::path::PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Markdown,
    Json,
}

/// The draft leaves the input box and the transcript follows what comes.
pub fn clear_draft(state: &mut State) {
    state.editing = None;
    state.input = new_input(PLACEHOLDER);
    state.scroll = 0;
    state.selected = None;
}

pub fn regenerate(node: crate::chat::conversation::NodeId) -> Vec<Command> {
    vec![
        Command::Machine(Input::RegenerateAt(node)),
        Command::CountTokens,
    ]
}

/// Sends: the draft leaves the input box and the transcript follows the answer.
pub fn send(state: &mut State, input: Input) -> Vec<Command> {
    clear_draft(state);
    vec![Command::Machine(input), Command::CountTokens]
}
