//! The prompt library: the file format's edge cases, search, imports, and
//! prompts run and tested through the mock as a script or CI would.

mod support;

use std::collections::BTreeMap;

use llmdeck::chat::request::WireRole;
use llmdeck::library::prompt::{self, parse};
use llmdeck::library::{Library, import, search::Search};
use serde_json::{Value, json};
use support::llmdeck;
use support::mock_server::Mock;

const CAPITALS: &str = "+++
name = \"capital\"
description = \"The capital of a country\"
tags = [\"geo\", \"facts\"]
model = \"gpt-4o-mini\"

[params]
temperature = 0.1

[[variables]]
name = \"country\"
required = true

[[variables]]
name = \"style\"
default = \"one word\"

[[tests]]
name = \"france\"
vars = { country = \"France\" }
assert = [{ contains = \"Paris\" }, { max_latency_ms = 60000 }]

[[tests]]
name = \"no apology\"
vars = { country = \"Peru\" }
assert = [{ not_contains = \"sorry\" }, { regex = \"(?i)mock\" }]
+++

# System

Answer in {{style}}. Write JSON as \\{{\"k\": 1}} when asked.

# User

Capital of Japan?

# Assistant

Tokyo

# User

Capital of {{ country }}?
";

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_prompt_renders_its_sections_with_variables_defaults_and_escapes() {
    let p = parse(CAPITALS).unwrap();
    assert_eq!(p.meta.tags, ["geo", "facts"]);
    assert_eq!(p.meta.params.temperature, Some(0.1));
    let msgs = p.render(&vars(&[("country", "Ünïcode-land 🌍")])).unwrap();
    let roles: Vec<WireRole> = msgs.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            WireRole::System,
            WireRole::User,
            WireRole::Assistant,
            WireRole::User
        ]
    );
    assert_eq!(
        msgs[0].content,
        "Answer in one word. Write JSON as {{\"k\": 1}} when asked."
    );
    assert_eq!(msgs[3].content, "Capital of Ünïcode-land 🌍?");
    // A required variable left empty, or one that is not declared, is named.
    let err = p.render(&vars(&[("country", "  ")])).unwrap_err();
    assert!(
        err.contains("required variable \"country\" is empty"),
        "{err}"
    );
    let err = p
        .render(&vars(&[("country", "x"), ("colour", "red")]))
        .unwrap_err();
    assert!(
        err.contains("no variable \"colour\"") && err.contains("country, style"),
        "{err}"
    );
}

#[test]
fn crlf_and_a_bom_read_the_same_and_version_by_content() {
    let lf = parse(CAPITALS).unwrap();
    let crlf = parse(&format!("\u{feff}{}", CAPITALS.replace('\n', "\r\n"))).unwrap();
    assert_eq!(lf.messages, crlf.messages);
    assert_eq!(
        lf.version, crlf.version,
        "line ends do not make a new version"
    );
    assert_eq!(lf.version.len(), 8);
    let changed = parse(&CAPITALS.replace("Tokyo", "Tōkyō")).unwrap();
    assert_ne!(lf.version, changed.version);
}

#[test]
fn bad_files_say_what_and_where() {
    let undeclared = CAPITALS.replace("Capital of {{ country }}?", "Capital of {{ nation }}?");
    let e = parse(&undeclared).unwrap_err();
    assert_eq!(e.line, 43, "{e}");
    assert!(e.message.contains("{{nation}} is not declared"), "{e}");

    let e = parse("+++\nname = \"x\"\ntags = [\"a\",\n+++\n# User\nhi\n").unwrap_err();
    assert!(
        e.line >= 3,
        "the TOML error points into the front matter: {e}"
    );
    let e = parse("+++\nname = \"x\"\n# User\nhi\n").unwrap_err();
    assert!(e.message.contains("never closed"), "{e}");
    let e = parse("# User\nhi\n").unwrap_err();
    assert_eq!(e.line, 1);
    let e = parse("+++\nname = \"x\"\nmodle = \"typo\"\n+++\nhi\n").unwrap_err();
    assert!(e.message.contains("modle"), "unknown keys are named: {e}");
    let e = parse("+++\nname = \"x\"\n+++\n# System\nonly a system prompt\n").unwrap_err();
    assert!(e.message.contains("no user message"), "{e}");
    // Braces that are not placeholders stay text; a body with no heading is the user message.
    let p = parse("+++\nname = \"x\"\n+++\nUse {braces} and {{ not a var }} freely.\n").unwrap();
    assert_eq!(
        p.render(&BTreeMap::new()).unwrap()[0].content,
        "Use {braces} and {{ not a var }} freely."
    );
}

#[test]
fn search_is_fuzzy_on_names_and_finds_words_in_bodies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("geo")).unwrap();
    std::fs::write(dir.path().join("geo/capital.md"), CAPITALS).unwrap();
    std::fs::write(
        dir.path().join("release-notes.md"),
        "+++\nname = \"release-notes\"\ntags = [\"writing\"]\n+++\nSummarise the changelog for customers.\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.md"), "+++\nname = 3\n+++\nhi\n").unwrap();
    let lib = Library::load(dir.path());
    assert_eq!(lib.entries.len(), 3);
    let broken = lib.entries.iter().find(|e| e.path == "broken.md").unwrap();
    assert!(broken.prompt.is_err(), "listed with its error");
    assert_eq!(lib.find("capital").unwrap().group(), "geo");
    let mut s = Search::default();
    let names = |ids: Vec<usize>| -> Vec<String> {
        ids.iter()
            .map(|i| lib.entries[*i].name().to_string())
            .collect()
    };
    assert_eq!(
        names(s.run(&lib.entries, "rlsnts")),
        ["release-notes"],
        "fuzzy on the name"
    );
    assert_eq!(
        names(s.run(&lib.entries, "changelog")),
        ["release-notes"],
        "a word of the body"
    );
    assert_eq!(
        names(s.run(&lib.entries, "changelog cust")),
        ["release-notes"]
    );
    assert_eq!(
        names(s.run(&lib.entries, "geo"))
            .first()
            .map(String::as_str),
        Some("capital")
    );
    assert!(s.run(&lib.entries, "zzzz").is_empty());
    assert_eq!(s.run(&lib.entries, "").len(), 3);
}

#[test]
fn fabric_patterns_and_llm_templates_import() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("extract_wisdom")).unwrap();
    std::fs::write(
        dir.path().join("extract_wisdom/system.md"),
        "# IDENTITY\r\nYou extract {{insights}} from text.\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("translate.yaml"),
        "system: Translate into $language. Prices stay in $$.\nprompt: |\n  ${input}\ndefaults:\n  language: French\noptions:\n  temperature: 0.3\nmodel: gpt-4o\n",
    )
    .unwrap();
    let found = import::scan(dir.path()).unwrap();
    assert_eq!(found.len(), 2);
    let fabric = parse(&found[0].text).unwrap();
    assert_eq!(fabric.meta.name, "extract_wisdom");
    let out = fabric.render(&vars(&[("input", "the text")])).unwrap();
    assert_eq!(
        out[0].content, "# IDENTITY\nYou extract {{insights}} from text.",
        "literal braces survive"
    );
    assert_eq!(out[1].content, "the text");
    let llm = parse(&found[1].text).unwrap();
    assert_eq!(llm.meta.model.as_deref(), Some("gpt-4o"));
    assert_eq!(llm.meta.params.temperature, Some(0.3));
    let language = llm
        .meta
        .variables
        .iter()
        .find(|v| v.name == "language")
        .unwrap();
    assert_eq!(
        (language.required, language.default.as_deref()),
        (false, Some("French"))
    );
    let out = llm.render(&vars(&[("input", "Bonjour")])).unwrap();
    assert_eq!(out[0].content, "Translate into French. Prices stay in $.");
    assert_eq!(out[1].content, "Bonjour");
    assert!(prompt::placeholders("\\{{x}} {{y}}").eq(&["y".to_string()]));
}

fn home_with_prompt(text: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data/prompts/geo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("capital.md"), text).unwrap();
    home
}

#[test]
fn running_a_prompt_sends_exactly_its_messages_and_records_its_version() {
    let mock = Mock::start_in_background();
    let home = home_with_prompt(CAPITALS);
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "run",
            "capital",
            "--var",
            "country=Chile",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = mock.chat_requests()[0].json();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "Answer in one word. Write JSON as {{\"k\": 1}} when asked."},
            {"role": "user", "content": "Capital of Japan?"},
            {"role": "assistant", "content": "Tokyo"},
            {"role": "user", "content": "Capital of Chile?"}
        ])
    );
    assert_eq!(body["model"], "gpt-4o-mini", "the prompt's model");
    assert_eq!(body["temperature"], json!(0.1));
    // `chat --prompt` is the same, and a file fills a variable.
    let file = home.path().join("country.txt");
    std::fs::write(&file, "Peru").unwrap();
    let arg = format!("country={}", file.display());
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--prompt",
            "capital",
            "--var-file",
            &arg,
            "--model",
            "gpt-4o",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = mock.chat_requests()[1].json();
    assert_eq!(body["messages"][3]["content"], "Capital of Peru?");
    assert_eq!(body["model"], "gpt-4o", "--model wins over the prompt's");
    let version = parse(CAPITALS).unwrap().version;
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (n, v): (i64, String) = ledger
        .query_row(
            "SELECT COUNT(*), MAX(prompt_version) FROM requests WHERE prompt_name = 'capital'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((n, v), (2, version));
    // A missing required variable is named and nothing is sent.
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "run", "capital"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("required variable \"country\" is empty")
    );
    assert_eq!(mock.chat_requests().len(), 2);
}

#[test]
fn the_test_matrix_fails_the_command_on_one_failing_assertion() {
    let mock = Mock::start_in_background();
    let home = home_with_prompt(CAPITALS);
    // Every answer is "Hello from the mock.": "france" fails (no Paris), "no apology" passes.
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "test",
            "capital",
            "--model",
            "gpt-4o-mini",
            "--model",
            "gpt-4o",
            "--json",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "2 cases × 2 models");
    let cell = |case: &str, model: &str| {
        results
            .iter()
            .find(|r| r["case"] == case && r["target"] == model)
            .unwrap()
            .clone()
    };
    assert_eq!(cell("france", "gpt-4o")["pass"], false);
    assert_eq!(
        cell("france", "gpt-4o")["failures"][0],
        "contains \"Paris\": does not contain \"Paris\""
    );
    assert_eq!(cell("no apology", "gpt-4o-mini")["pass"], true);
    assert!(
        cell("no apology", "gpt-4o")["cost_micros"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(mock.chat_requests().len(), 4);
    // The table form says the same, and each call is in the ledger tagged as a test.
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "test",
            "capital",
            "--model",
            "gpt-4o",
            "--no-cache",
        ],
        None,
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("✗ france × gpt-4o: contains \"Paris\""),
        "{table}"
    );
    assert!(table.contains("1/2 passed"), "{table}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 test runs failed"));
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let tags: Vec<(String, i64)> = ledger
        .prepare(
            "SELECT tags, COUNT(*) FROM requests WHERE source = 'test' GROUP BY tags ORDER BY tags",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tags,
        [("test,fail".to_string(), 3), ("test,pass".to_string(), 3)]
    );
    // The versions report counts them.
    let lib = llmdeck::usage::Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
    let versions = llmdeck::usage::report::prompt_versions(&lib, "capital").unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].runs, 6);
    assert_eq!(versions[0].pass_rate(), Some(0.5));
}

#[test]
fn list_new_import_and_export_from_the_command_line() {
    let home = home_with_prompt(CAPITALS);
    std::fs::write(
        home.path().join("data/prompts/bad.md"),
        "+++\nname = \"bad\"\n+++\n{{ghost}}\n",
    )
    .unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &["prompts", "new", "writing/summary"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = llmdeck(
        home.path(),
        None,
        &["prompts", "new", "writing/summary"],
        None,
    );
    assert!(
        !out.status.success(),
        "an existing prompt is never overwritten"
    );
    let out = llmdeck(home.path(), None, &["prompts", "list", "--json"], None);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bad", "capital", "summary"]);
    assert_eq!(list[0]["line"], 4);
    assert!(list[0]["error"].as_str().unwrap().contains("{{ghost}}"));
    let out = llmdeck(home.path(), None, &["prompts", "list", "geo"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("geo/capital"), "{text}");

    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("haiku.yaml"),
        "prompt: Write a haiku about $topic\n",
    )
    .unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &["prompts", "import", templates.path().to_str().unwrap()],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("haiku.md"));

    let out = llmdeck(
        home.path(),
        None,
        &["prompts", "export", "haiku", "--var", "topic=rust"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "Write a haiku about rust"}])
    );
    assert!(body.get("stream").is_none(), "a plain request body");
    support::openapi::validate("CreateChatCompletionRequest", &body).unwrap();
}

#[test]
fn the_readme_example_is_a_valid_prompt() {
    let readme = include_str!("../README.md");
    let at = readme.find("## Library").expect("a Library section");
    let start =
        readme[at..].find("```markdown\n").expect("an example") + at + "```markdown\n".len();
    let end = readme[start..].find("\n```\n").unwrap() + start;
    let p = parse(&readme[start..end + 1]).unwrap_or_else(|e| panic!("README example: {e}"));
    assert_eq!(p.meta.tests.len(), 2);
    let out = p.render(&vars(&[("country", "Chile")])).unwrap();
    assert_eq!(
        out[0].content,
        "Answer in one word. A literal brace pair is written {{like this}}."
    );
    assert_eq!(out.last().unwrap().content, "Capital of Chile?");
}
