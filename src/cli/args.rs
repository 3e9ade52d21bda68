//! The command line, as clap sees it.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "llmdeck",
    version,
    about = "A terminal developer console for the OpenAI API and every OpenAI-compatible endpoint",
    long_about = "A terminal developer console for the OpenAI API and every OpenAI-compatible endpoint.\n\n\
        With no command, opens the console. With no key and no endpoint configured it runs an offline demo.\n\
        Files live under $LLMDECK_HOME when set, otherwise in the platform's config and data directories.\n\
        Keys come from OPENAI_API_KEY or a profile's api_key_env / api_key_command; they are never written to disk."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Profile from config.toml to use
    #[arg(long, global = true, env = "LLMDECK_PROFILE")]
    pub profile: Option<String>,
    /// Endpoint base URL (overrides the profile and OPENAI_BASE_URL), e.g. http://localhost:11434/v1
    #[arg(long, global = true)]
    pub base_url: Option<String>,
    /// Model to use (overrides the profile's default); `chat` takes it up to four
    /// times to compare models on the same prompt
    #[arg(long, global = true, action = clap::ArgAction::Append)]
    pub model: Vec<String>,
    /// Theme: dark, light, high-contrast, or a file name in the themes dir
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Use the offline demo provider (no network, no key)
    #[arg(long, global = true)]
    pub demo: bool,
    /// Wire API: `chat` (Chat Completions) or `responses`; the default is
    /// Responses for api.openai.com and Chat Completions for other endpoints
    #[arg(long, global = true, value_parser = parse_api)]
    pub api: Option<crate::chat::params::Api>,
    /// Presenter mode: hides hosts, organization and project ids and the conversation
    /// list, uses the bold high-contrast theme, and shows the keys pressed
    #[arg(long, global = true)]
    pub presenter: bool,
    /// Save every streamed answer, with its timing, to FILE (for --replay)
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<std::path::PathBuf>,
    /// Answer from a recording instead of the network (a rehearsed demo, offline)
    #[arg(long, global = true, value_name = "FILE")]
    pub replay: Option<std::path::PathBuf>,
    /// Replay pace: 1 as recorded, 2 twice as fast, 0 at once
    #[arg(long, global = true, default_value_t = 1.0)]
    pub replay_speed: f64,
    /// Append a log of requests, statuses and retries to FILE (keys are redacted)
    #[arg(long, global = true, env = "LLMDECK_LOG", value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
    /// Send even when a hard-stop budget or the cost threshold says to ask (this run only)
    #[arg(long, global = true)]
    pub allow_over_budget: bool,
}

/// Each command's arguments are built only when it is the one run: opening
/// the console builds none of them (a tenth of the work before its first frame).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Cmd {
    /// Send one prompt and stream the answer to stdout (the prompt is read from stdin when not given)
    Chat(Box<ChatArgs>),
    /// List the models the endpoint offers
    Models {
        /// Print JSON instead of one id per line
        #[arg(long)]
        json: bool,
    },
    /// Spend from the local ledger (or, with --team, the team database), grouped by day, model,
    /// prompt, profile, tag, status or member
    Usage(UsageArgs),
    /// The price table in force (embedded, plus your prices.toml) and where each price came from
    Pricing(PricingArgs),
    /// The team database ([team] in config.toml): push what waits, or say how things stand
    Team {
        #[command(subcommand)]
        action: TeamAction,
    },
    /// The prompt library: list, show, new, run, test, import, export
    Prompts {
        #[command(subcommand)]
        action: PromptsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamAction {
    /// Send every queued ledger row to the team database now
    Push,
    /// The team database, this machine's member name and how many rows wait
    Status,
}

#[derive(Debug, Subcommand)]
pub enum PromptsAction {
    /// Every prompt (and every file that does not parse, with its error)
    List {
        /// Only prompts matching this search (name, tags, description, body)
        query: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A prompt's file, version, variables and tests
    Show { name: String },
    /// Add the starter prompts (summarize, explain-code, commit-message,
    /// extract-json, compare-options) to the library; files already there are kept
    Init,
    /// Write a new prompt file from a template (GROUP/NAME makes a group)
    New { name: String },
    /// Fill a prompt's variables and send it (like `chat --prompt NAME`)
    Run {
        name: String,
        #[command(flatten)]
        vars: VarArgs,
        /// Print one JSON object instead of streaming the text
        #[arg(long)]
        json: bool,
    },
    /// Run the prompt's test cases (and its dataset's rows) on every --model (default:
    /// the prompt's), grade them, print the matrix and a summary per model, record each
    /// call tagged `test` (graders `grader`); exits 1 when a case fails
    ///
    /// With --batch the run goes through OpenAI's Batch API at the batch price;
    /// `prompts test --resume ID` finishes one left running, `--resume` lists them
    Test {
        /// The prompt to test (left out with --resume)
        #[arg(required_unless_present = "resume", conflicts_with = "resume")]
        name: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        eval: super::evals::EvalArgs,
    },
    /// The eval runs kept (newest first), or one reopened with --open ID
    Runs {
        /// Only this prompt's runs
        name: Option<String>,
        /// Print this run again (its id, or the start of it)
        #[arg(long, value_name = "ID")]
        open: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        reports: super::evals::ReportArgs,
    },
    /// Import fabric patterns (<name>/system.md) or simonw/llm YAML templates
    Import { path: std::path::PathBuf },
    /// Print a prompt, filled, as a Chat Completions JSON request body
    Export {
        name: String,
        #[command(flatten)]
        vars: VarArgs,
    },
}

#[derive(Debug, Args, Default, Clone)]
pub struct VarArgs {
    /// A variable: NAME=VALUE (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE", action = clap::ArgAction::Append)]
    pub vars: Vec<String>,
    /// A variable read from a file (`-` for standard input): NAME=PATH (repeatable)
    #[arg(long = "var-file", value_name = "NAME=PATH", action = clap::ArgAction::Append)]
    pub var_files: Vec<String>,
}

impl VarArgs {
    /// The variables, files read; a malformed pair or unreadable file is a message.
    pub fn collect(&self) -> Result<std::collections::BTreeMap<String, String>, String> {
        let mut out = std::collections::BTreeMap::new();
        for pair in &self.vars {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("--var {pair:?}: expected NAME=VALUE"))?;
            out.insert(k.trim().to_string(), v.to_string());
        }
        for pair in &self.var_files {
            let (k, path) = pair
                .split_once('=')
                .ok_or_else(|| format!("--var-file {pair:?}: expected NAME=PATH"))?;
            let text = if path == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("--var-file {k}: standard input: {e}"))?;
                s
            } else {
                std::fs::read_to_string(path).map_err(|e| format!("--var-file {k}: {path}: {e}"))?
            };
            out.insert(k.trim().to_string(), text);
        }
        Ok(out)
    }
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Start: 7d (the last 7 days, today included), 30d, or a date like 2026-11-01
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// Last day included, like 2026-11-30 (default: today)
    #[arg(long)]
    pub until: Option<String>,
    /// Group the requests by
    #[arg(long, value_enum, default_value = "day")]
    pub by: crate::usage::report::GroupBy,
    /// Print JSON
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV
    #[arg(long)]
    pub csv: bool,
    /// The whole team's spend from the team database ([team] in config.toml)
    #[arg(long)]
    pub team: bool,
    #[command(subcommand)]
    pub action: Option<UsageAction>,
}

#[derive(Debug, Subcommand)]
pub enum UsageAction {
    /// Pull the organization's Usage and Costs API (needs OPENAI_ADMIN_KEY) into the ledger
    Sync {
        /// How far back: 30d, or a date like 2026-11-01
        #[arg(long, default_value = "30d")]
        since: String,
    },
}

pub enum Format {
    Table,
    Json,
    Csv,
}

impl UsageArgs {
    pub fn format(&self) -> Format {
        match (self.json, self.csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Table,
        }
    }
}

#[derive(Debug, Args)]
pub struct PricingArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Option<PricingAction>,
}

#[derive(Debug, Subcommand)]
pub enum PricingAction {
    /// Read genai-prices' data.json (replaces the built-in catalog) or litellm's
    /// model_prices_and_context_window.json (OpenAI prices): an offline refresh
    Import {
        /// Path to the JSON file
        file: std::path::PathBuf,
    },
    /// Price the ledger's unpriced rows of a model with today's prices (after adding
    /// its price to prices.toml); says how many rows changed
    Reprice {
        #[arg(long)]
        model: String,
    },
}

#[derive(Debug, Args, Default)]
pub struct ChatArgs {
    /// The prompt; read from standard input when absent
    pub prompt: Option<String>,
    /// Send a prompt from the library instead, its variables filled with --var / --var-file
    #[arg(
        long = "prompt",
        id = "library_prompt",
        value_name = "NAME",
        conflicts_with = "prompt"
    )]
    pub library_prompt: Option<String>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// System prompt
    #[arg(long, short)]
    pub system: Option<String>,
    /// Sampling temperature, 0 to 2 (not sent when absent)
    #[arg(long, short)]
    pub temperature: Option<f32>,
    /// Maximum output tokens (not sent when absent)
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Print one JSON object: text, usage, cost, timings, finish reason
    #[arg(long)]
    pub json: bool,
    /// Write the model's bytes untouched even to a terminal (control characters included)
    #[arg(long)]
    pub raw: bool,
    /// Functions the model may call: a JSON file in OpenAI's function format (repeatable)
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    pub tools: Vec<std::path::PathBuf>,
    /// auto, none, required, or the name of a function
    #[arg(long, value_name = "CHOICE")]
    pub tool_choice: Option<String>,
    /// Answer as JSON matching this JSON Schema file (`json_schema` response format);
    /// the answer is checked against it
    #[arg(long, value_name = "FILE")]
    pub schema: Option<std::path::PathBuf>,
    /// Ask the model to follow the schema strictly
    #[arg(long, requires = "schema")]
    pub strict: bool,
    /// minimal, low, medium or high (reasoning models)
    #[arg(long, value_parser = ["minimal", "low", "medium", "high"])]
    pub reasoning_effort: Option<String>,
    /// auto, concise or detailed: a summary of the reasoning (Responses API)
    #[arg(long, value_parser = ["auto", "concise", "detailed"])]
    pub reasoning_summary: Option<String>,
    /// An image (png, jpeg, webp, gif) or PDF to send with the prompt (repeatable)
    #[arg(long, value_name = "PATH", action = clap::ArgAction::Append)]
    pub attach: Vec<std::path::PathBuf>,
    /// Continue a saved conversation (its id, or `last`) instead of starting one
    #[arg(long = "continue", value_name = "ID")]
    pub continue_id: Option<String>,
    /// The result of a function call of the continued conversation: ID=TEXT (repeatable)
    #[arg(long, value_name = "ID=TEXT", action = clap::ArgAction::Append, requires = "continue_id")]
    pub tool_result: Vec<String>,
    /// Let the model run the tools of this MCP server, a [mcp.NAME] in config.toml (repeatable;
    /// one with hosted = true is reached by OpenAI, on the Responses API)
    #[arg(long, value_name = "NAME", action = clap::ArgAction::Append)]
    pub mcp: Vec<String>,
    /// Tool runs: ask (y/n on the terminal for each call), always, or never (the model is told)
    #[arg(long, value_parser = ["ask", "always", "never"], default_value = "ask")]
    pub approve: String,
    /// A tool OpenAI runs itself (Responses API): web_search, file_search:VS_ID[,VS_ID…] or
    /// code_interpreter (repeatable)
    #[arg(long, value_name = "TOOL", action = clap::ArgAction::Append)]
    pub hosted: Vec<String>,
    /// The most model calls one answer may take while it runs tools
    #[arg(long, value_name = "N", default_value_t = crate::tools::agent::DEFAULT_MAX_STEPS,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_steps: u32,
}

fn parse_api(s: &str) -> Result<crate::chat::params::Api, String> {
    crate::chat::params::Api::parse(s).ok_or_else(|| format!("{s:?}: expected chat or responses"))
}
