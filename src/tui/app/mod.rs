//! The console's loop: terminal events, stream events and background results
//! arrive on channels; the state changes through `update`; the screen is
//! redrawn only when something changed, at most once a frame.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::cache::RenderCache;
use super::core::command::{Command, EditorTarget};
use super::core::keymap::Keymap;
use super::core::state::{Level, Overlay, State};
use super::pacer::{Pacer, Woke};
use super::playground::{transcript, view as playground};
use super::screen::Screen;
use super::update;
use super::views;
use super::widgets::highlight;
use super::worker::{Job, Worker};
use super::{clipboard, terminal};
use crate::chat::conversation::Conversation;
use crate::chat::event::StreamEvent;
use crate::chat::journal::Journal;
use crate::chat::lock::ConversationLock;
use crate::chat::machine::{Effect, Input};
use crate::chat::request::ChatRequest;
use crate::chat::store::{Store, Summary};
use crate::chat::tokens;
use crate::config::theme::Theme;
use crate::context::Context;

/// One frame at 60 Hz for what the user does; changes arriving faster are drawn together.
const FRAME: Duration = Duration::from_millis(16);
/// One frame at 30 Hz while only an answer's deltas wait (see `pacer`).
const STREAM_FRAME: Duration = Duration::from_millis(33);
const TOAST_FOR: Duration = Duration::from_secs(4);
const COUNT_DEBOUNCE: Duration = Duration::from_millis(120);
/// Turns the runtime takes, before a frame that ends a hold, for what waited
/// in the socket to reach the loop (connection, then stream task, then here).
const READS_BEFORE_FRAME: usize = 3;

mod external;
mod heap;
mod input;

pub(in crate::tui) enum Msg {
    /// A key, mouse or resize event from the terminal.
    Term(crossterm::event::Event),
    Stream(u64, StreamEvent),
    /// `settles`: this console's spend the ledger had written when the read began.
    Spend {
        generation: u64,
        result: Result<crate::usage::spend::Spend, String>,
        settles: i64,
    },
    Drill {
        key: String,
        result: Result<Vec<crate::usage::report::RequestRow>, String>,
    },
    /// The day's and month's totals, and what they settle (see `Spend`).
    Totals(crate::usage::spend::Totals, i64),
    Synced(Result<String, String>),
    /// The writer stored a ledger row: figures on screen are stale.
    /// A row of this cost is in the ledger.
    Recorded(i64),
    Models(Result<Vec<String>, String>),
    Conversations(Vec<Summary>),
    Tokens {
        generation: u64,
        tokens: u64,
    },
    HighlightReady,
    Problem(String),
    Library(Box<crate::library::Library>),
    Team(super::core::state::TeamStatus),
    PromptStats(
        String,
        Result<Vec<crate::usage::report::VersionStats>, String>,
    ),
    Tests(
        String,
        Result<Box<crate::library::testing::TestRun>, String>,
    ),
    EvalRuns(Result<Vec<crate::evals::store::RunInfo>, String>),
    EvalRun(
        Result<
            Box<(
                crate::evals::store::RunInfo,
                Vec<crate::library::testing::CaseResult>,
            )>,
            String,
        >,
    ),
    /// An MCP server started (its tools), or why it did not.
    McpStarted(String, Result<Vec<crate::tools::mcp::McpTool>, String>),
    /// The decided calls ran.
    ToolRuns(Vec<crate::tools::agent::ToolRun>),
    Quit,
}

pub fn run(ctx: Context, theme: Option<String>, presenter: bool) -> anyhow::Result<()> {
    heap::map_large_allocations_apart();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(super::pacer::before_park)
        .build()?;
    runtime.block_on(async move {
        let theme = theme.or_else(|| presenter.then(|| "presenter".to_string()));
        let mut app = App::new(ctx, theme);
        app.state.presenter = presenter;
        if presenter {
            for s in app.state.profile.presenter_secrets() {
                crate::log::register_secret(&s);
            }
        }
        app.team_wake = app.start_team();
        app.run().await
    })
}

/// For the benchmark: `LLMDECK_FIRST_FRAME_FILE` receives "pid microseconds"
/// (from process start to the first frame on screen).
fn report_first_frame() {
    if let Some(path) = std::env::var_os("LLMDECK_FIRST_FRAME_FILE") {
        let micros = crate::STARTED
            .get()
            .map(|t| t.elapsed().as_micros())
            .unwrap_or(0);
        // The monotonic clock too, so a bench that stamped the exec can count from there.
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for the call to fill.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let mono = now.tv_sec as i128 * 1_000_000_000 + now.tv_nsec as i128;
        let _ = std::fs::write(path, format!("{} {micros} {mono}\n", std::process::id()));
    }
}

pub use crate::context::origin;

pub(in crate::tui) struct App {
    pub(in crate::tui) state: State,
    pub(in crate::tui) cache: RenderCache,
    pub(in crate::tui) ctx: Arc<Context>,
    /// The session's provider and the compare targets' (shared with the command line).
    pub(in crate::tui) streams: crate::runner::Streams,
    pub(in crate::tui) tx: UnboundedSender<Msg>,
    pub(in crate::tui) rx: UnboundedReceiver<Msg>,
    pub(in crate::tui) worker: Worker,
    pub(in crate::tui) store: Store,
    pub(in crate::tui) tasks: HashMap<u64, JoinHandle<()>>,
    pub(in crate::tui) token_generation: u64,
    pub(in crate::tui) count_due: Option<Instant>,
    trim: heap::Trim,
    pub(in crate::tui) highlight_requested: bool,
    pub(in crate::tui) revealed: Option<usize>,
    /// Something on screen changed since the loop last looked.
    pub(in crate::tui) dirty: bool,
    pub(in crate::tui) pacer: Pacer,
    pub(in crate::tui) editor: Option<EditorTarget>,
    /// A read connection to the ledger for the Spend pane, opened on first use.
    pub(in crate::tui) reader: crate::tui::spend::effects::Reader,
    /// Wakes the team pusher when a row was written (with a team database).
    pub(in crate::tui) team_wake: Option<Arc<tokio::sync::Notify>>,
    /// Stream deltas, written before each frame and each save.
    pub(in crate::tui) journal: Journal,
    /// The lock of the conversation shown, taken when it is opened or first saved.
    pub(in crate::tui) conv_lock: Option<ConversationLock>,
    /// The terminal's new size, applied before the next frame.
    pub(in crate::tui) resized: Option<(u16, u16)>,
    /// MCP servers, the toolbox and the running tool calls.
    pub(in crate::tui) mcp: crate::tui::overlays::tools::run::Live,
}

/// Restores the terminal however the loop ends.
struct Restore;
impl Drop for Restore {
    fn drop(&mut self) {
        terminal::restore();
    }
}

impl App {
    fn new(ctx: Context, theme_override: Option<String>) -> Self {
        let mut warnings = ctx.warnings.clone();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let theme_name = theme_override
            .or(ctx.settings.theme.clone())
            .unwrap_or_else(|| "dark".into());
        let (theme, err) = Theme::load(&theme_name, &ctx.paths.themes_dir(), no_color);
        if let Some(e) = err {
            warnings.push(format!("{e} — using the dark theme"));
        }
        for w in &warnings {
            crate::log::line("warning", w);
        }

        let (tx, rx) = unbounded_channel();
        let store = ctx.store();
        let report = tx.clone();
        let worker = Worker::new(store.clone(), ctx.ledger_file(), move |r| {
            let _ = report.send(match r {
                super::worker::Report::Problem(p) => Msg::Problem(p),
                super::worker::Report::Recorded(cost) => Msg::Recorded(cost),
            });
        });
        let conv = Conversation::new(&ctx.profile.model, Utc::now());
        let machine = ctx.machine(conv, &ctx.profile, "tui");
        // No key is read before the first frame: the keymap is read after it.
        let keymap = Keymap::default();
        let mut state = State::new(machine, ctx.profile.clone(), theme, keymap, warnings);
        state.profiles = ctx.profile_names();
        state.budgets = ctx.budgets(&ctx.profile);
        state.team_budgets = ctx
            .settings
            .team
            .as_ref()
            .map(|t| (t.daily_usd, t.monthly_usd))
            .unwrap_or_default();
        state.session_badge = if ctx.session.replay.is_some() {
            Some(" REPLAY · offline ")
        } else if ctx.session.record.is_some() {
            Some(" REC ")
        } else {
            None
        };
        let streams = crate::runner::Streams::new(None, ctx.demo_speed());
        // Configured, none started: each starts when turned on in the tools panel.
        let mcp = crate::tui::overlays::tools::run::Live::new(&ctx.settings.mcp);
        state.mcp = crate::tui::core::mcp::Mcp::new(
            crate::tui::overlays::tools::run::rows(&ctx.settings.mcp),
            ctx.settings
                .max_steps
                .unwrap_or(crate::tools::agent::DEFAULT_MAX_STEPS),
        );
        Self {
            state,
            streams,
            cache: RenderCache::default(),
            ctx: Arc::new(ctx),
            tx,
            rx,
            worker,
            store: store.clone(),
            tasks: HashMap::new(),
            token_generation: 0,
            count_due: None,
            trim: Default::default(),
            highlight_requested: false,
            revealed: None,
            dirty: true,
            pacer: Pacer::new(FRAME, STREAM_FRAME),
            editor: None,
            reader: Default::default(),
            team_wake: None,
            journal: Journal::new(store),
            conv_lock: None,
            resized: None,
            mcp,
        }
    }

    async fn run(&mut self) -> anyhow::Result<()> {
        terminal::install_panic_hook();
        // Before entering: raw mode is restored if anything after it fails.
        let _restore = Restore;
        let mut term = terminal::enter()?;
        self.draw(&mut term, Instant::now())?;
        report_first_frame();
        // Everything the first frame did not need starts now.
        self.after_first_frame();
        let ended = self.event_loop(term).await;
        // Also when the terminal failed (it went away mid-frame): the answer
        // so far is saved and recorded.
        self.shutdown();
        ended
    }

    /// The default keys with the user's laid over them: an eighth of the work
    /// before the first frame, which reads no key, so read just after it (any
    /// key typed meanwhile waits in the terminal). Its problems join the
    /// start-up warnings on the next frame.
    fn load_keymap(&mut self) {
        let (keymap, problems) = Keymap::load(&self.ctx.paths.keymap_file());
        self.state.keymap = keymap;
        for w in &problems {
            crate::log::line("warning", w);
        }
        if !problems.is_empty() {
            self.state.warnings.extend(problems);
            self.dirty = true;
        }
    }

    async fn event_loop(&mut self, mut term: Screen<terminal::Out>) -> anyhow::Result<()> {
        let mut input = input::TermInput::start(self.tx.clone());
        let mut flowing = false;
        while !self.state.should_quit {
            let deadline = self.next_deadline();
            let mut woke = Woke::default();
            tokio::select! {
                Some(msg) = self.rx.recv() => {
                    woke.saw(matches!(msg, Msg::Stream(..)));
                    self.on_msg(msg);
                }
                _ = tokio::time::sleep_until(deadline.into()) => {}
            }
            if flowing {
                // Woken from the hold at a frame: the tokens that waited in the
                // socket are read first (the stream's tasks run), so the frame
                // shows them rather than what came before the hold.
                for _ in 0..READS_BEFORE_FRAME {
                    tokio::task::yield_now().await;
                }
            }
            // Coalesce: apply everything already waiting before drawing once.
            while let Ok(msg) = self.rx.try_recv() {
                woke.saw(matches!(msg, Msg::Stream(..)));
                self.on_msg(msg);
            }
            woke.other |= self.timers();
            if let Some(target) = self.editor.take() {
                input.stop().await;
                // Left here and entered again here, whatever the editor's path
                // did (one that stops early must not push the modes twice).
                terminal::restore();
                self.edit_in_editor(target);
                term = terminal::enter()?;
                input = input::TermInput::start(self.tx.clone());
                // At once: the terminal's modes go out with this frame.
                self.draw(&mut term, Instant::now())?;
            }
            let now = Instant::now();
            if std::mem::take(&mut self.dirty) {
                self.pacer.changed(now, woke.pace());
            }
            if self.pacer.due(now) {
                self.draw(&mut term, now)?;
            }
            // An answer is flowing: sleep through the tokens until the next frame.
            super::pacer::hold(self.pacer.sleep_until(woke.streamed));
            flowing = woke.streamed;
        }
        Ok(())
    }

    pub(in crate::tui) fn next_deadline(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let mut d = far;
        if let Some(frame) = self.pacer.deadline() {
            d = d.min(frame);
        }
        for due in [self.count_due, self.trim.deadline()].into_iter().flatten() {
            d = d.min(due);
        }
        if let Some(t) = &self.state.toast {
            d = d.min(t.at + TOAST_FOR);
        }
        if let Some(t) = self.state.keys_from {
            d = d.min(t);
        }
        d
    }

    /// Fires what is due; whether the screen changed (drawn at the short pace).
    pub(in crate::tui) fn timers(&mut self) -> bool {
        let now = Instant::now();
        let mut changed = false;
        // The approval popup shows its keys once the keyboard has rested.
        if self.state.keys_from.is_some_and(|t| t <= now) {
            self.state.keys_from = None;
            changed = true;
        }
        if self.count_due.is_some_and(|c| c <= now) {
            self.count_due = None;
            self.count_tokens();
        }
        self.release_if_due(now);
        if self
            .state
            .toast
            .as_ref()
            .is_some_and(|t| t.at + TOAST_FOR <= now)
        {
            self.state.toast = None;
            changed = true;
        }
        self.dirty |= changed;
        changed
    }

    /// `now`: when the frame started.
    pub(in crate::tui) fn draw(
        &mut self,
        term: &mut Screen<terminal::Out>,
        now: Instant,
    ) -> anyhow::Result<()> {
        if let Some((width, height)) = self.resized.take() {
            term.resize(ratatui::layout::Rect::new(0, 0, width, height))?;
        }
        let areas = playground::layout(term.area(), &self.state);
        self.state.viewport = areas.transcript.height;
        // Fitted for `reveal`; `views::frame` prepares it for the frame.
        self.cache
            .fit(areas.transcript.width.saturating_sub(1), &self.state.theme);
        if self.state.selected != self.revealed {
            if let Some(s) = transcript::reveal(&self.state, &mut self.cache, areas.transcript) {
                self.state.scroll = s;
            }
            self.revealed = self.state.selected;
        }
        self.flush_journal();
        term.draw(|f, ids| views::frame(f, ids, &self.state, &mut self.cache))?;
        self.pacer.drawn(now);
        self.dirty = false;
        let code_open = self
            .state
            .overlays
            .iter()
            .any(|o| matches!(o, Overlay::Code { .. }));
        if (self.cache.wants_highlighting || code_open) && !self.highlight_requested {
            self.highlight_requested = true;
            let tx = self.tx.clone();
            let theme = self.state.theme.syntax.clone();
            tokio::task::spawn_blocking(move || {
                highlight::warm_up(&theme);
                let _ = tx.send(Msg::HighlightReady);
            });
        }
        Ok(())
    }

    pub(in crate::tui) fn after_first_frame(&mut self) {
        self.worker.start();
        self.load_keymap();
        crate::chat::spool::keep_in(self.ctx.paths.state_dir.clone());
        // A conversation resumed at start leaves the heap like one opened later.
        self.release_soon();
        self.start_provider();
        self.execute(vec![Command::RefreshConversations]);
        self.load_totals();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = hup.recv() => {}
                _ = int.recv() => {}
            }
            let _ = tx.send(Msg::Quit);
        });
    }

    pub(in crate::tui) fn start_provider(&mut self) {
        match self
            .ctx
            .provider(&self.state.profile, self.ctx.demo_speed())
        {
            // The model list is asked for when the picker opens, not at
            // start-up, unless there is no model to send to without it.
            Ok(p) => {
                self.streams.session = Some(p);
                if self.state.profile.model.trim().is_empty() {
                    self.command(Command::LoadModels);
                }
            }
            Err(e) => {
                self.streams.session = None;
                self.state.toast(Level::Error, e);
            }
        }
    }

    pub(in crate::tui) fn on_msg(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Term(ev) => {
                if let crossterm::event::Event::Resize(width, height) = ev {
                    self.resized = Some((width, height));
                }
                let commands = update::on_event(&mut self.state, &ev);
                self.execute(commands);
            }
            Msg::Stream(id, event) => {
                let last = matches!(event, StreamEvent::End | StreamEvent::Error(_));
                if last {
                    self.tasks.remove(&id);
                }
                self.machine(Input::Stream(id, event));
                if last {
                    self.release_soon();
                    // The agent loop's next step, once no answer streams.
                    let next = crate::tui::overlays::tools::approve::after_answer(&mut self.state);
                    self.execute(next);
                }
            }
            Msg::Team(status) => self.state.team = Some(status),
            Msg::Library(lib) => {
                self.state.library.set_library(*lib);
                let commands = crate::tui::library::keys::stats_for(&mut self.state);
                self.execute(commands);
            }
            Msg::PromptStats(name, Ok(rows)) => self.state.library.versions = Some((name, rows)),
            Msg::PromptStats(_, Err(e)) => self.state.toast(Level::Warning, e),
            Msg::Tests(name, result) => self.on_tests(name, result),
            Msg::EvalRuns(runs) => self.on_eval_runs(runs),
            Msg::EvalRun(run) => self.on_eval_run(run),
            Msg::McpStarted(name, result) => self.on_mcp_started(name, result),
            Msg::ToolRuns(runs) => self.on_tool_runs(runs),
            Msg::Models(listed) => {
                super::send_check::models_listed(&mut self.state, listed);
                self.refresh_model_picker();
            }
            Msg::Conversations(list) => update::conversations_listed(&mut self.state, list),
            Msg::Tokens { generation, tokens } => {
                if generation == self.token_generation {
                    self.state.draft_tokens = Some(tokens);
                }
                self.trim.after_count(Instant::now());
            }
            Msg::HighlightReady => {}
            Msg::Spend {
                generation,
                result,
                settles,
            } => self.on_spend(generation, result, settles),
            Msg::Drill { key, result } => self.on_drill(key, result),
            Msg::Totals(t, settles) => self.state.set_totals(t, settles),
            Msg::Synced(result) => self.on_synced(result),
            Msg::Recorded(cost) => {
                self.state.written_micros += cost;
                self.on_recorded();
            }
            Msg::Problem(p) => self.state.toast(Level::Error, p),
            Msg::Quit => {
                self.machine(Input::Cancel);
                self.state.should_quit = true;
            }
        }
    }

    pub(in crate::tui) fn refresh_model_picker(&mut self) {
        let models = self.state.models.clone();
        for o in &mut self.state.overlays {
            if let Overlay::Picker(p) = o
                && p.kind == super::core::state::PickerKind::Model
            {
                for m in &models {
                    if !p.items.contains(m) {
                        p.items.push(m.clone());
                    }
                }
                update::refilter(p);
            }
        }
    }

    pub(in crate::tui) fn machine(&mut self, input: Input) {
        // What would be sent next changes with every message, answer ended or
        // stopped, branch switched: counted again once the stream settles.
        let settled = !matches!(&input, Input::Stream(_, e)
            if !matches!(e, StreamEvent::End | StreamEvent::Error(_)));
        if matches!(
            input,
            Input::Send(_)
                | Input::Edit { .. }
                | Input::Regenerate
                | Input::RegenerateAt(_)
                | Input::Compare { .. }
        ) {
            self.new_turn();
        }
        let effects = self.state.machine.handle(input, Instant::now(), Utc::now());
        self.effects(effects);
        if settled {
            self.count_due = Some(Instant::now() + COUNT_DEBOUNCE);
        }
    }

    pub(in crate::tui) fn effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Start {
                    request_id,
                    request,
                    profile,
                } => self.start_stream(request_id, *request, profile),
                Effect::Abort { request_id } => {
                    // Dropping the request closes the HTTP connection.
                    if let Some(task) = self.tasks.remove(&request_id) {
                        task.abort();
                    }
                }
                Effect::Save => {
                    // Deltas before the snapshot that holds them.
                    self.flush_journal();
                    self.hold_conversation();
                    let conv = &self.state.machine.conv;
                    if !conv.path().is_empty() {
                        let retire = self.journal.finished(conv);
                        self.worker.send(Job::Save {
                            conv: Box::new(conv.clone()),
                            retire,
                        });
                    }
                }
                // Written before the frame that shows them.
                Effect::Journal { node, at, text } => self.journal.add(node, at, &text),
                Effect::Record(row) => {
                    self.state.session_spend_micros += row.cost_micros.unwrap_or(0);
                    self.state.unsettled_micros += row.cost_micros.unwrap_or(0);
                    // The model calls of an answer that runs tools, or that OpenAI
                    // ran tools for, are its steps; answers compared side by side
                    // are answers of their own.
                    if (!self.state.mcp.functions.is_empty()
                        || !self.state.machine.conv.params.hosted.is_empty())
                        && !self.state.machine.conv.comparing()
                    {
                        self.mcp.rows.push(row.id.clone());
                    }
                    self.worker.send(Job::Record(row));
                }
            }
        }
    }

    /// Streams a request the machine started (`runner::Streams` picks the provider).
    pub(in crate::tui) fn start_stream(
        &mut self,
        id: u64,
        request: ChatRequest,
        profile: Option<String>,
    ) {
        let tx = self.tx.clone();
        let emit = move |ev| drop(tx.send(Msg::Stream(id, ev)));
        match self
            .streams
            .start(&self.ctx, profile.as_deref(), request, emit)
        {
            Ok(task) => {
                self.tasks.insert(id, task);
            }
            Err(error) => self.machine(Input::Stream(id, error)),
        }
    }

    pub(in crate::tui) fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            self.command(command);
        }
    }

    pub(in crate::tui) fn command(&mut self, command: Command) {
        match command {
            Command::Machine(input) => self.machine(input),
            Command::Compare { text, specs } => {
                match self
                    .ctx
                    .compare_targets(&specs, &self.state.machine.conv.params)
                {
                    Ok(targets) => self.machine(Input::Compare { text, targets }),
                    Err(e) => self.state.toast(Level::Error, e),
                }
            }
            Command::Effects(effects) => self.effects(effects),
            Command::Copy { text, what } => {
                clipboard::copy(&text);
                self.state.toast(
                    Level::Info,
                    format!("copied {what} ({} chars)", text.chars().count()),
                );
            }
            Command::EditInEditor(target) => self.editor = Some(target),
            Command::Attach(path) => self.attach(path),
            Command::LoadTools => self.load_tools(),
            Command::StartMcp(name) => self.start_mcp(name),
            Command::SyncMcpTools => self.sync_mcp_tools(),
            Command::RunTools => self.run_tools(),
            Command::ContinueChecked => {
                let commands = crate::tui::overlays::send_check::continue_checked(&mut self.state);
                self.execute(commands);
            }
            Command::StopTools => self.stop_tools(),
            Command::RecordSteps => self.record_steps(),
            Command::NewConversation => self.new_conversation(),
            Command::OpenConversation(id) => self.open_conversation(&id),
            Command::DuplicateConversation(id) => self.duplicate_conversation(&id),
            Command::RenameConversation { id, title } => self.rename_conversation(&id, title),
            Command::DeleteConversation(id) => self.delete_conversation(id),
            Command::RefreshConversations => {
                let store = self.store.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Msg::Conversations(store.list()));
                });
            }
            Command::SwitchProfile(name) => match self.ctx.switch(&name) {
                Ok(profile) => {
                    self.machine(Input::Cancel);
                    self.state.machine.origin = origin(&profile, "tui");
                    self.state.machine.endpoint = self.ctx.price_endpoint(&profile);
                    self.state.budgets = self.ctx.budgets(&profile);
                    self.state.machine.conv.model = profile.model.clone();
                    self.state.profile = profile;
                    self.state.models.clear();
                    self.start_provider();
                    self.state.toast(Level::Info, format!("profile: {name}"));
                }
                Err(e) => self.state.toast(Level::Error, e.to_string()),
            },
            Command::LoadModels => {
                if let Some(p) = self.streams.session.clone() {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(Msg::Models(p.models().await.map_err(|e| e.to_string())));
                    });
                }
            }
            Command::Export(kind) => self.export(kind),
            Command::LoadSpend if self.state.spend.team => self.load_team_spend(),
            Command::LoadSpend => self.load_spend(),
            Command::LoadDrill(key) => self.load_drill(key),
            Command::SyncOrg => self.sync_org(),
            Command::CountTokens => self.count_due = Some(Instant::now() + COUNT_DEBOUNCE),
            Command::SavePrice { model, rates } => self.save_price(&model, rates),
            Command::LoadLibrary => self.load_library(),
            Command::LoadEvalRuns => self.load_eval_runs(),
            Command::OpenEvalRun(id) => self.open_eval_run(id),
            Command::CompareEvalRuns(earlier, later) => self.compare_eval_runs(earlier, later),
            Command::LoadPromptStats(name) => self.load_prompt_stats(name),
            Command::RunPrompt { name, vars } => self.run_prompt(&name, &vars),
            Command::TestPrompt { name, targets } => self.test_prompt(name, targets),
            Command::StarterPrompts => self.starter_prompts(),
            Command::CreatePrompt(name) => self.create_prompt(&name),
            Command::RenamePrompt { from, to } => self.rename_prompt(&from, &to),
            Command::DuplicatePrompt { from, to } => self.duplicate_prompt(&from, &to),
            Command::DeletePrompt(name) => self.delete_prompt(&name),
            Command::SaveAsPrompt(name) => self.save_as_prompt(&name),
        }
    }

    /// Counts what would be sent now on a blocking thread (the tokenizer loads on first use).
    pub(in crate::tui) fn count_tokens(&mut self) {
        self.token_generation += 1;
        let request = self.state.pending_request();
        if request.messages.is_empty() {
            // The status bar loses its count.
            self.dirty |= self.state.draft_tokens.take().is_some();
            return;
        }
        let generation = self.token_generation;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let tokens = tokens::count_request(&request);
            tokens::let_go();
            let _ = tx.send(Msg::Tokens { generation, tokens });
        });
    }

    pub(in crate::tui) fn flush_journal(&mut self) {
        if let Err(e) = self.journal.flush(&self.state.machine.conv.id) {
            self.state
                .toast(Level::Error, format!("could not journal the answer: {e}"));
        }
    }

    pub(in crate::tui) fn shutdown(&mut self) {
        // Quitting mid-stream keeps the partial answer: cancel saves and records it.
        self.machine(Input::Cancel);
        self.worker.flush();
    }
}
