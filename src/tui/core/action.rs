//! Everything a key can ask for, what each is for (the help screen's groups),
//! and the places keys are read in. Keys map to these through the keymap
//! (data), and every key's state change goes through `update::apply`.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    FocusInput,
    NewConversation,
    Conversations,
    Parameters,
    ModelPicker,
    Profiles,
    SystemPrompt,
    Send,
    Newline,
    Cancel,
    OpenEditor,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    EditMessage,
    Regenerate,
    PrevBranch,
    NextBranch,
    CopyMessage,
    CopyCode,
    ExportMarkdown,
    ExportJson,
    /// Give an unpriced answer's model a price (written to prices.toml).
    PriceModel,
    Open,
    Close,
    Confirm,
    Rename,
    Duplicate,
    Delete,
    Increase,
    Decrease,
    Reset,
    ViewCode,
    Compare,
    ShowPlayground,
    ShowSpend,
    SwitchPane,
    NextGrouping,
    PrevGrouping,
    CycleRange,
    CycleModel,
    CycleProfile,
    CycleSort,
    ToggleOrg,
    SyncOrg,
    Refresh,
    /// Show or hide the reasoning summary of an answer.
    ToggleReasoning,
    /// The tools panel: MCP servers and the functions the model may call.
    Tools,
    /// Pick a file to attach to the next message.
    Attach,
    /// Fill the draft with a result saved with the function being called.
    CannedResult,
    CycleChoice,
    ToggleParallel,
    NewItem,
    EditItem,
    /// The Library pane.
    ShowLibrary,
    /// Run the selected prompt's tests.
    RunTests,
    /// Save the conversation as a new prompt in the library.
    SaveAsPrompt,
    StarterPrompts,
    /// The Spend pane: this machine's ledger, or the team database.
    ToggleTeam,
    /// The Evals pane: kept test runs, a run's matrix.
    ShowEvals,
    /// The Evals pane: show only the cases that did not pass everywhere.
    FilterFailures,
    /// The Evals pane: mark a run to open beside another (versions side by side).
    CompareRuns,
    /// Approve a tool call for the rest of the conversation.
    ApproveAlways,
    /// Refuse a tool call (a reason goes back to the model).
    Refuse,
    /// An explicit "do nothing", to unbind a default key.
    None,
}

/// Where keys are read: a section of the keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Input,
    Transcript,
    Conversations,
    Parameters,
    Picker,
    Confirm,
    Help,
    Spend,
    Code,
    Tools,
    Library,
    Form,
    Evals,
    Approve,
}

impl Place {
    pub const ALL: [Place; 14] = [
        Place::Input,
        Place::Transcript,
        Place::Conversations,
        Place::Parameters,
        Place::Picker,
        Place::Confirm,
        Place::Help,
        Place::Spend,
        Place::Code,
        Place::Tools,
        Place::Library,
        Place::Form,
        Place::Evals,
        Place::Approve,
    ];

    pub fn section(self) -> &'static str {
        match self {
            Place::Input => "input",
            Place::Transcript => "transcript",
            Place::Conversations => "conversations",
            Place::Parameters => "parameters",
            Place::Picker => "picker",
            Place::Confirm => "confirm",
            Place::Help => "help",
            Place::Spend => "spend",
            Place::Code => "code",
            Place::Tools => "tools",
            Place::Library => "library",
            Place::Form => "form",
            Place::Evals => "evals",
            Place::Approve => "approve",
        }
    }

    /// Places where unbound printable keys are text being typed.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Place::Input | Place::Picker | Place::Library | Place::Form
        )
    }
}

/// What an action is for: the help screen lists keys in these groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Move,
    Write,
    Act,
    Open,
    Session,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::Move,
        Purpose::Write,
        Purpose::Act,
        Purpose::Open,
        Purpose::Session,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Purpose::Move => "Move",
            Purpose::Write => "Write and send",
            Purpose::Act => "Act on what is selected",
            Purpose::Open => "Panes and popups",
            Purpose::Session => "Session",
        }
    }
}

impl Action {
    /// Whether `update::apply` carries out this action itself at `place`
    /// (`playground`: the Playground pane is showing); when not, the place's
    /// own keys get it.
    pub fn global_at(self, place: Place, playground: bool) -> bool {
        match self {
            // Moving between areas is each place's own.
            Action::FocusNext | Action::FocusPrev => false,
            Action::NewConversation => place != Place::Picker,
            Action::CopyMessage | Action::ViewCode => place != Place::Code,
            Action::Tools => place != Place::Tools,
            Action::Compare => matches!(place, Place::Input | Place::Transcript),
            Action::SaveAsPrompt => playground,
            _ => true,
        }
    }

    /// Whether a key bound in `[global]` does something at `place`: carried out
    /// everywhere, or taken by the place's keys. The help screen lists only these.
    pub fn acts_at(self, place: Place, playground: bool) -> bool {
        self.global_at(place, playground)
            || matches!(
                (self, place),
                (
                    Action::FocusNext | Action::FocusPrev,
                    Place::Input | Place::Transcript | Place::Form
                ) | (Action::CopyMessage, Place::Code)
            )
    }

    /// Which group of the help screen the action is listed in.
    pub fn purpose(self) -> Purpose {
        match self {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::FocusNext
            | Action::FocusPrev
            | Action::FocusInput
            | Action::PrevBranch
            | Action::NextBranch => Purpose::Move,
            Action::Send
            | Action::Newline
            | Action::Cancel
            | Action::OpenEditor
            | Action::EditMessage
            | Action::Regenerate
            | Action::Compare
            | Action::Attach
            | Action::CannedResult
            | Action::SystemPrompt => Purpose::Write,
            Action::CopyMessage
            | Action::CopyCode
            | Action::ExportMarkdown
            | Action::ExportJson
            | Action::PriceModel
            | Action::Open
            | Action::Close
            | Action::Confirm
            | Action::ApproveAlways
            | Action::Refuse
            | Action::Rename
            | Action::Duplicate
            | Action::Delete
            | Action::Increase
            | Action::Decrease
            | Action::Reset
            | Action::ToggleReasoning
            | Action::CycleChoice
            | Action::ToggleParallel
            | Action::NewItem
            | Action::EditItem
            | Action::RunTests
            | Action::SaveAsPrompt
            | Action::StarterPrompts
            | Action::NextGrouping
            | Action::PrevGrouping
            | Action::CycleRange
            | Action::CycleModel
            | Action::CycleProfile
            | Action::CycleSort
            | Action::ToggleOrg
            | Action::SyncOrg
            | Action::ToggleTeam
            | Action::FilterFailures
            | Action::CompareRuns
            | Action::Refresh => Purpose::Act,
            Action::Conversations
            | Action::Parameters
            | Action::ModelPicker
            | Action::Tools
            | Action::ViewCode
            | Action::ShowPlayground
            | Action::ShowSpend
            | Action::ShowLibrary
            | Action::ShowEvals
            | Action::SwitchPane => Purpose::Open,
            Action::Quit
            | Action::Help
            | Action::NewConversation
            | Action::Profiles
            | Action::None => Purpose::Session,
        }
    }

    /// What the help screen says an action does.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit (first press stops a running answer)",
            Action::Help => "show the keys of this place",
            Action::FocusNext => "next area",
            Action::FocusPrev => "previous area",
            Action::FocusInput => "back to the input",
            Action::NewConversation => "new conversation",
            Action::Conversations => "conversation list",
            Action::Parameters => "parameters panel",
            Action::ModelPicker => "pick a model",
            Action::Profiles => "switch profile",
            Action::SystemPrompt => "edit the system prompt",
            Action::Send => "send",
            Action::Newline => "insert a newline",
            Action::Cancel => "stop the answer / leave the input",
            Action::OpenEditor => "edit in $EDITOR",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first message",
            Action::Bottom => "last message",
            Action::EditMessage => "edit this message (new branch)",
            Action::Regenerate => "regenerate the selected answer (new branch)",
            Action::PrevBranch => "previous branch",
            Action::NextBranch => "next branch",
            Action::CopyMessage => "copy the message",
            Action::CopyCode => "copy a code block (again: the next one)",
            Action::ExportMarkdown => "export the conversation as Markdown",
            Action::ExportJson => "export as a Chat Completions JSON body",
            Action::PriceModel => "price an unpriced answer's model",
            Action::Open => "open / choose",
            Action::Close => "close",
            Action::Confirm => "yes",
            Action::ApproveAlways => "run, and always run this tool in this conversation",
            Action::Refuse => "refuse (a reason goes back to the model)",
            Action::Rename => "rename",
            Action::Duplicate => "duplicate",
            Action::Delete => "delete",
            Action::Increase => "increase",
            Action::Decrease => "decrease",
            Action::Reset => "reset to default (not sent)",
            Action::Compare => "send the draft to several models at once, answers side by side",
            Action::ViewCode => {
                "the request that would be sent now, as curl / Python / Node / Rust"
            }
            Action::ShowPlayground => "the Playground pane",
            Action::ShowSpend => "the Spend pane",
            Action::SwitchPane => "the next pane",
            Action::NextGrouping => {
                "group by the next column (day, model, prompt, profile, tag, status)"
            }
            Action::PrevGrouping => "group by the previous column",
            Action::CycleRange => "date range: 7 days, 30 days, 90 days, month to date",
            Action::CycleModel => "filter by model (cycles, then all)",
            Action::CycleProfile => "filter by profile (cycles, then all)",
            Action::CycleSort => "sort by cost, requests, tokens, name",
            Action::ToggleOrg => {
                "organization view (synced Usage/Costs API) beside the local ledger"
            }
            Action::SyncOrg => "sync the organization's Usage and Costs API (OPENAI_ADMIN_KEY)",
            Action::Refresh => "refresh",
            Action::ToggleReasoning => "show or hide the reasoning summary",
            Action::Tools => "tools: MCP servers and functions",
            Action::Attach => "attach an image or PDF to the next message (or type /attach PATH)",
            Action::CannedResult => "fill in a result saved with the function called",
            Action::CycleChoice => "tool choice: auto, required, none, or one function",
            Action::ToggleParallel => "allow parallel calls or not",
            Action::NewItem => "new (function: opens $EDITOR; prompt: asks its name)",
            Action::EditItem => "edit the file in $EDITOR",
            Action::ShowLibrary => "the Library pane",
            Action::RunTests => "run the prompt's tests (the matrix shows below)",
            Action::SaveAsPrompt => "save this conversation as a new prompt in the library",
            Action::StarterPrompts => "add the starter prompts (never over your files)",
            Action::ToggleTeam => "me or team: this machine's spend, or the team database's",
            Action::ShowEvals => "the Evals pane: kept test runs and their matrices",
            Action::FilterFailures => "show only the cases that failed somewhere (again: all)",
            Action::CompareRuns => {
                "mark this run; Enter on another opens both side by side (again: unmark)"
            }
            Action::None => "nothing",
        }
    }
}
