//! Spend that adds up: the server's own figure wins (OpenRouter's `usage.cost`,
//! LiteLLM's `x-litellm-response-cost`), the endpoint picks the price list, a
//! local model is free and says so, and the ledger keeps where each cost came from.

mod support;

use std::time::Instant;

use chrono::Utc;
use llmdeck::chat::machine::{Effect, Input};
use llmdeck::provider::event::{StreamEvent, Usage};
use llmdeck::usage::cost::{CostSource, Endpoint};
use support::llmdeck;
use support::mock_server::{Mock, Reply};

fn ledger_costs(home: &std::path::Path) -> Vec<(Option<i64>, Option<String>)> {
    let ledger = rusqlite::Connection::open(home.join("data/ledger.sqlite3")).unwrap();
    ledger
        .prepare("SELECT cost_micros, cost_source FROM requests ORDER BY ts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn chat_json(home: &std::path::Path, mock: &Mock, model: &str) -> serde_json::Value {
    let out = llmdeck(
        home,
        Some(mock),
        &["chat", "--model", model, "--json", "Hi"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn openrouters_usage_cost_is_the_cost_recorded() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    // As OpenRouter streams it: the last chunk's usage carries the cost in USD.
    let sse = concat!(
        "data: {\"id\":\"gen-1\",\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"gen-1\",\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],",
        "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"total_tokens\":12,\"cost\":0.0123}}\n\n",
        "data: [DONE]\n\n"
    );
    mock.push(Reply::Raw(sse.as_bytes().to_vec()));
    let v = chat_json(home.path(), &mock, "openai/gpt-4o");
    assert_eq!(v["cost_micros"], 12_300, "{v}");
    assert_eq!(v["cost_source"], "server");
    assert_eq!(
        ledger_costs(home.path()),
        [(Some(12_300), Some("server".into()))]
    );
}

#[test]
fn a_litellm_proxys_cost_header_prices_a_model_no_list_knows() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let body = r#"{"id":"c1","object":"chat.completion","model":"team-gpt","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}"#;
    mock.push(Reply::Status {
        status: 200,
        body: body.into(),
        headers: vec![("x-litellm-response-cost".into(), "0.0042".into())],
    });
    let v = chat_json(home.path(), &mock, "team-gpt");
    assert_eq!(v["cost_micros"], 4_200, "{v}");
    assert_eq!(v["cost_source"], "server");
    // LiteLLM sends 0 when it could not price a request: that is not a price.
    mock.push(Reply::Status {
        status: 200,
        body: body.replace("team-gpt", "gpt-4o"),
        headers: vec![("x-litellm-response-cost".into(), "0.0".into())],
    });
    let v = chat_json(home.path(), &mock, "gpt-4o");
    // gpt-4o: 20 × 2.50 + 5 × 10.00 per 1M = $0.0001
    assert_eq!(
        (v["cost_micros"].as_i64(), v["cost_source"].as_str()),
        (Some(100), Some("catalog"))
    );
    assert_eq!(
        ledger_costs(home.path()),
        [
            (Some(4_200), Some("server".into())),
            (Some(100), Some("catalog".into()))
        ]
    );
}

#[test]
fn a_model_on_localhost_is_local_not_unpriced() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    // The mock listens on 127.0.0.1, as Ollama or llama.cpp would.
    let v = chat_json(home.path(), &mock, "llama3.2:3b");
    assert_eq!(
        (v["cost_micros"].as_i64(), v["cost_source"].as_str()),
        (Some(0), Some("local"))
    );
    // Compared side by side, the summary line says "local".
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "llama3.2:3b",
            "--model",
            "qwen3:8b",
            "Hi",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" · local · "), "{text}");
    assert!(!text.contains("unpriced"), "{text}");
    assert_eq!(
        ledger_costs(home.path())[0],
        (Some(0), Some("local".into()))
    );
}

/// A finished answer of `model` on `base_url`: the ledger row it writes.
fn answer(base_url: &str, model: &str, usage: Usage) -> llmdeck::usage::LedgerRow {
    answered(base_url, model, Input::Send("Hi".into()), usage)
}

/// The ledger row of the answer `input` starts, on a conversation of `model` on `base_url`.
fn answered(base_url: &str, model: &str, input: Input, usage: Usage) -> llmdeck::usage::LedgerRow {
    let mut m = support::machine(model);
    m.endpoint = Endpoint::new(base_url, false);
    let now = Instant::now();
    let id = support::started(&m.handle(input, now, Utc::now()));
    m.handle(
        Input::Stream(id, StreamEvent::Usage(usage)),
        now,
        Utc::now(),
    );
    m.handle(Input::Stream(id, StreamEvent::End), now, Utc::now())
        .into_iter()
        .find_map(|e| match e {
            Effect::Record(r) => Some(*r),
            _ => None,
        })
        .unwrap()
}

#[test]
fn the_base_url_picks_the_providers_price_list() {
    let usage = Usage {
        input: 1_000_000,
        output: 1_000_000,
        ..Usage::default()
    };
    // Groq's own list: $0.05 in, $0.08 out per 1M.
    let row = answer(
        "https://api.groq.com/openai/v1",
        "llama-3.1-8b-instant",
        usage,
    );
    assert_eq!(row.cost_micros, Some(130_000));
    assert_eq!(row.cost_source, Some(CostSource::Catalog));
    // The same name elsewhere, on no list, stays unpriced (never $0).
    let row = answer(
        "https://llm.internal.example/v1",
        "llama-3.1-8b-instant-ft",
        usage,
    );
    assert_eq!((row.cost_micros, row.cost_source), (None, None));
    // OpenRouter's `openai/gpt-4o` is OpenRouter's price, from its list.
    let row = answer("https://openrouter.ai/api/v1", "openai/gpt-4o", usage);
    assert_eq!(row.cost_micros, Some(12_500_000));
    assert!(
        row.rates.unwrap().3 != "2026-08-01",
        "not the OpenAI table's date"
    );
}

#[test]
fn reprice_prices_the_ledgers_unpriced_rows_of_a_model_and_says_how_many() {
    let mock = Mock::start_in_background();
    // `local = false`: a proxy on loopback, so an unknown model is unpriced, not free.
    let home = support::home_with_config(&format!(
        "default_profile = \"proxy\"\n[profiles.proxy]\nbase_url = \"{}\"\nlocal = false\n",
        mock.base_url
    ));
    for model in ["team-llm", "team-llm", "gpt-4o"] {
        chat_json(home.path(), &mock, model);
    }
    assert_eq!(ledger_costs(home.path())[0], (None, None));
    let unpriced = llmdeck(
        home.path(),
        None,
        &["usage", "--by", "cost-source", "--json"],
        None,
    );
    let rows: serde_json::Value = serde_json::from_slice(&unpriced.stdout).unwrap();
    assert_eq!(rows[1]["key"], "unpriced", "{rows}");
    assert_eq!(rows[1]["requests"], 2, "{rows}");
    let reprice = || {
        let out = llmdeck(
            home.path(),
            None,
            &["pricing", "reprice", "--model", "team-llm"],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // No price yet: nothing changes, and it says what to do.
    assert!(reprice().contains("repriced 0 of 2 unpriced rows of team-llm; 2 still have no price"));
    std::fs::write(
        home.path().join("config/prices.toml"),
        "[models.\"team-llm\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .unwrap();
    assert!(reprice().starts_with("repriced 2 of 2 unpriced rows of team-llm"));
    // The mock's usage: 1200 in × $1 + 300 out × $2 per 1M = $0.0018 each.
    let costs = ledger_costs(home.path());
    assert_eq!(costs[0], (Some(1_800), Some("override".into())));
    assert_eq!(costs[1], (Some(1_800), Some("override".into())));
    assert_eq!(
        costs[2].1.as_deref(),
        Some("catalog"),
        "other rows untouched"
    );
    // The totals agree: nothing of team-llm is left unpriced.
    let out = llmdeck(
        home.path(),
        None,
        &["usage", "--by", "model", "--json"],
        None,
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let team = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "team-llm")
        .unwrap();
    assert_eq!(
        (team["cost_micros"].as_i64(), team["unpriced"].as_i64()),
        (Some(3_600), Some(0))
    );
    // Grouped by where the cost came from, the two rows moved from unpriced to
    // override with their tokens; nothing is left unpriced or counted twice.
    let out = llmdeck(
        home.path(),
        None,
        &["usage", "--by", "cost-source", "--json"],
        None,
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["requests"].as_i64().unwrap(),
                r["input_tokens"].as_i64().unwrap(),
                r["unpriced"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("catalog".to_string(), 1, 1200, 0),
            ("override".to_string(), 2, 2400, 0)
        ]
    );
    // Again: nothing left to do.
    assert!(reprice().starts_with("repriced 0 of 0"));
}

#[test]
fn pricing_lists_the_catalog_and_imports_a_genai_prices_file() {
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(home.path(), None, &["pricing"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("catalog: genai-prices 0.2.3 ("), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("groq ") && l.ends_with(" models")),
        "{text}"
    );
    // genai-prices' own data.json layout: a list of providers.
    let file = home.path().join("data.json");
    let json = r#"[{"id":"acme","name":"Acme AI","api_pattern":"https://api\\.acme\\.test","models":[
        {"id":"acme-1","match":{"starts_with":"acme-1"},"prices":{"input_mtok":1,"output_mtok":3}}]}]"#;
    std::fs::write(&file, json).unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &["pricing", "import", file.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("imported 1 model prices of 1 providers (genai-prices)")
    );
    let out = llmdeck(home.path(), None, &["pricing"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("acme") && text.contains("Acme AI"), "{text}");
    // One absurd price refuses the whole file and keeps the last good one.
    std::fs::write(
        &file,
        json.replace("\"output_mtok\":3", "\"output_mtok\":-3"),
    )
    .unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &["pricing", "import", file.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("negative"));
    let out = llmdeck(home.path(), None, &["pricing"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Acme AI"));
}

#[test]
fn a_compared_target_is_priced_on_its_own_profiles_whole_endpoint() {
    use llmdeck::chat::compare::{Target, Via};
    let usage = Usage {
        input: 1_000_000,
        output: 1_000_000,
        ..Usage::default()
    };
    let via = |base_url: &str, local: bool| Via {
        name: "other".into(),
        host: "unused-for-pricing".into(),
        endpoint: Endpoint::new(base_url, local),
    };
    // The conversation is on OpenAI; each target goes through another profile.
    let rows = |target: Target| {
        let compare = Input::Compare {
            text: "Hi".into(),
            targets: vec![target],
        };
        answered("https://api.openai.com/v1", "gpt-4o", compare, usage)
    };
    // A profile marked `local = true` on a LAN address: free, said so.
    let mut t = Target::from("llama3.2:3b");
    t.profile = Some(via("http://gpu-box.lan:11434/v1", true));
    let row = rows(t);
    assert_eq!(
        (row.cost_micros, row.cost_source, row.profile.as_str()),
        (Some(0), Some(CostSource::Local), "other")
    );
    // A provider told by the path, not the host: Hugging Face's router to Groq
    // has its own list ($0.59 in, $0.79 out per 1M); by the host alone it is unpriced.
    let mut t = Target::from("meta-llama/Llama-3.3-70B-Instruct");
    t.profile = Some(via("https://router.huggingface.co/groq/v1", false));
    let row = rows(t);
    assert_eq!(
        (row.cost_micros, row.cost_source),
        (Some(1_380_000), Some(CostSource::Catalog))
    );
}

#[test]
fn audio_tokens_are_priced_at_the_audio_rates() {
    // gpt-audio: text $2.5 in / $10 out, audio $32 in / $64 out per 1M.
    let usage = Usage {
        input: 1_000_000,
        input_audio: 500_000,
        output: 1_000_000,
        output_audio: 250_000,
        ..Usage::default()
    };
    let row = answer("https://api.openai.com/v1", "gpt-audio", usage);
    // 0.5M×2.5 + 0.5M×32 + 0.75M×10 + 0.25M×64 = $40.75
    assert_eq!(row.cost_micros, Some(40_750_000));
    // A model with no audio rates: its audio at the text rates.
    let row = answer("https://api.openai.com/v1", "gpt-4o-audio-preview", usage);
    assert_eq!(row.cost_micros, Some(12_500_000));
    // The ledger keeps the audio counts, so a reprice can price them again.
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("ledger.sqlite3");
    let mut ledger = llmdeck::usage::Ledger::open(&path).unwrap();
    let row = answer("https://api.openai.com/v1", "gpt-audio", usage);
    ledger.insert(&row).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let counts: (i64, i64) = conn
        .query_row(
            "SELECT audio_input_tokens, audio_output_tokens FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(counts, (500_000, 250_000));
}
