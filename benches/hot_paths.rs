//! Micro-benchmarks of the hot paths (divan): `cargo bench --bench hot_paths`.
//! Stream event parsing, markdown + syntect rendering of one message, drawing a
//! frame at 10, 1,000 and 5,000 messages, the end of a growing code block of 4
//! and 400 lines, counting a conversation's tokens, and moving a conversation's
//! text to the spool.

mod common;

use llmdeck::chat::request::ChatRequest;
use llmdeck::config::theme::Theme;
use llmdeck::provider::chat_completions::parse_chunk;
use llmdeck::provider::sse::SseParser;
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::state::State;
use llmdeck::tui::widgets::{highlight, markdown};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const MESSAGE: &str = include_str!("message.md");

fn main() {
    highlight::warm_up("base16-ocean.dark");
    divan::main();
}

/// 2,000 chunks of a Chat Completions stream, as the server sends them.
fn stream_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..2000 {
        let chunk = format!(
            r#"{{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{{"index":0,"delta":{{"content":"tok{i} "}},"finish_reason":null}}]}}"#
        );
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

#[divan::bench]
fn parse_2000_stream_events(bencher: divan::Bencher) {
    let bytes = stream_bytes();
    bencher.bench(|| {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        // Network-sized reads.
        for piece in bytes.chunks(1400) {
            for ev in parser.push(piece).unwrap() {
                if ev.data != "[DONE]" {
                    parse_chunk(&ev.data, &mut events).unwrap();
                }
            }
        }
        events.len()
    });
}

#[divan::bench]
fn render_markdown_message_with_code(bencher: divan::Bencher) {
    let theme = Theme::built_in("dark").unwrap();
    bencher.bench(|| {
        markdown::render(divan::black_box(MESSAGE), 118, &theme)
            .lines
            .len()
    });
}

/// Renders `answer` as it streams, from byte `start` on, 4 bytes a frame
/// (a token): each iteration is the frame after the one before it, as in a
/// stream (the answer only grows), for as long as it lasts.
fn bench_a_growing_answer(bencher: divan::Bencher, answer: &str, start: usize) {
    let theme = Theme::built_in("dark").unwrap();
    let role = llmdeck::chat::conversation::Role::Assistant;
    let mut cache = RenderCache::default();
    cache.prepare(118, &theme);
    let mut at = start;
    cache.body(1, role, &answer[..at], true, &theme);
    bencher.bench_local(|| {
        at += 4;
        while !answer.is_char_boundary(at) {
            at += 1;
        }
        assert!(at < answer.len(), "the answer outlasts the bench");
        cache.body(1, role, &answer[..at], true, &theme).len()
    });
}

/// A frame's render at the end of a growing code block of `lines` lines: the
/// open block costs its new lines, so 400 lines should cost what 4 do (issue
/// 23, point 5).
#[divan::bench(args = [4, 400])]
fn render_the_end_of_a_growing_code_block(bencher: divan::Bencher, lines: usize) {
    let code: String = (0..lines + 20_000)
        .map(|n| format!("fn scale_{n}(x: u32) -> u32 {{ x * {n} }}\n"))
        .collect();
    let answer = format!("Here is the module:\n\n```rust\n{code}");
    let start = answer.match_indices('\n').nth(lines + 2).unwrap().0 + 1;
    bench_a_growing_answer(bencher, &answer, start);
}

/// A frame's render at the end of a growing table of `rows` rows: while no
/// column widens, the open table lays out only the row being written and
/// the rows that came (`table::OpenTable`), so 24 rows should cost what 4 do.
#[divan::bench(args = [4, 24])]
fn render_the_end_of_a_growing_table(bencher: divan::Bencher, rows: usize) {
    let body: String = (0..rows + 5_000)
        .map(|i| {
            format!(
                "| gpt-4o | eu-{} | {} | {} | {} | ${}.{:02} |\n",
                i % 5,
                120 + i * 7 % 90,
                310 + i * 13 % 200,
                40 + i * 3 % 60,
                i % 9,
                i * 37 % 100
            )
        })
        .collect();
    let answer = format!(
        "Table 1: latency by model and region.\n\n| model | region | p50 ms | p95 ms | tokens/s | cost |\n|---|---|---:|---:|---:|---:|\n{body}"
    );
    let start = answer.match_indices('\n').nth(rows + 3).unwrap().0 + 1;
    bench_a_growing_answer(bencher, &answer, start);
}

fn state(messages: usize) -> State {
    common::state(messages, "Show me the code again.", MESSAGE)
}

#[divan::bench(args = [10, 1_000, 5_000])]
fn draw_frame(bencher: divan::Bencher, messages: usize) {
    let state = state(messages);
    let mut cache = RenderCache::default();
    let mut screen = common::screen();
    screen
        .draw(|f, ids| llmdeck::tui::views::frame(f, ids.whole(), &state, &mut cache))
        .unwrap();
    bencher.bench_local(|| {
        screen
            .draw(|f, ids| llmdeck::tui::views::frame(f, ids.whole(), &state, &mut cache))
            .unwrap()
    });
}

/// Two frames of a streamed answer one token apart, as the console diffs them
/// every frame; ratatui's own diff of the same frames for comparison.
fn two_frames() -> (ratatui::buffer::Buffer, ratatui::buffer::Buffer) {
    let mut state = state(10);
    let mut cache = RenderCache::default();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut frame = |state: &State| {
        term.draw(|f| llmdeck::tui::views::draw(f, state, &mut cache))
            .unwrap()
            .buffer
            .clone()
    };
    let before = frame(&state);
    let last = state.machine.conv.nodes.last_mut().unwrap();
    last.content.push_str(" and one more token");
    (before, frame(&state))
}

#[divan::bench]
fn diff_a_streaming_frame(bencher: divan::Bencher) {
    let (before, after) = two_frames();
    let mut out = Vec::new();
    bencher.bench_local(|| {
        llmdeck::tui::diff::changed(&before, &after, &mut out);
        out.len()
    });
}

#[divan::bench]
fn diff_a_streaming_frame_as_ratatui_does(bencher: divan::Bencher) {
    let (before, after) = two_frames();
    bencher.bench_local(|| before.diff(&after).len());
}

/// Counting what the next request sends, as the console does after every
/// pause in typing: the first time (every message tokenized), and again with
/// one more message (each earlier message's count remembered with its text),
/// at 50 and 400 messages (a session of 200 exchanges).
#[divan::bench(args = [50, 400])]
fn count_tokens_of_a_conversation_first_time(bencher: divan::Bencher, messages: usize) {
    let state = state(messages);
    let conv = &state.machine.conv;
    let fresh = || {
        let mut request = ChatRequest::for_node(conv, conv.last());
        for m in &mut request.messages {
            m.content = m.content.as_str().into();
        }
        request
    };
    llmdeck::chat::tokens::count_request(&fresh());
    bencher
        .with_inputs(fresh)
        .bench_local_refs(|request| llmdeck::chat::tokens::count_request(request));
}

#[divan::bench(args = [50, 400])]
fn count_tokens_of_a_conversation_again(bencher: divan::Bencher, messages: usize) {
    let state = state(messages);
    let conv = &state.machine.conv;
    llmdeck::chat::tokens::count_request(&ChatRequest::for_node(conv, conv.last()));
    bencher
        .with_inputs(|| {
            let mut request = ChatRequest::for_node(conv, conv.last());
            request
                .messages
                .push(llmdeck::chat::request::WireMessage::text(
                    llmdeck::chat::request::WireRole::User,
                    "And one more question, typed just now?",
                ));
            request
        })
        .bench_local_refs(|request| llmdeck::chat::tokens::count_request(request));
}

/// The next request of a conversation spooled (and, past 128 messages, paged)
/// and its count, every message's count remembered: what each exchange and
/// each pause in typing walks, at 400 and 5,000 messages.
#[divan::bench(args = [400, 5_000])]
fn count_tokens_of_a_spooled_conversation_again(bencher: divan::Bencher, messages: usize) {
    let dir = tempfile::tempdir().unwrap();
    llmdeck::chat::spool::keep_in(dir.path().to_path_buf());
    let mut state = state(messages);
    state.machine.conv.spool(&[]);
    let conv = &state.machine.conv;
    llmdeck::chat::tokens::count_request(&ChatRequest::for_node(conv, conv.last()));
    bencher.bench_local(|| {
        llmdeck::chat::tokens::count_request(&ChatRequest::for_node(conv, conv.last()))
    });
}

/// Moving a conversation's text out of the heap into the spool, as the
/// console does once after opening it (each exchange after that spools its
/// two new messages): 400 and 5,000 messages, on the UI thread.
#[divan::bench(args = [400, 5_000])]
fn spool_a_conversation(bencher: divan::Bencher, messages: usize) {
    let dir = tempfile::tempdir().unwrap();
    llmdeck::chat::spool::keep_in(dir.path().to_path_buf());
    let state = state(messages);
    bencher
        .with_inputs(|| state.machine.conv.clone())
        .bench_local_refs(|conv| conv.spool(&[]));
}

/// One price lookup through the one cost function, after the catalog is parsed
/// and the model seen once (as every answer after the first): OpenRouter's
/// `openai/gpt-4o` by its base URL, and a Groq model. Budget: under 1 µs.
#[divan::bench(args = ["https://openrouter.ai/api/v1|openai/gpt-4o", "https://api.groq.com/openai/v1|llama-3.1-8b-instant"])]
fn lookup_price(bencher: divan::Bencher, case: &str) {
    use llmdeck::usage::cost::{Endpoint, cost};
    let (url, model) = case.split_once('|').unwrap();
    let prices = llmdeck::usage::PriceTable::embedded();
    let endpoint = Endpoint::new(url, false);
    let usage = llmdeck::provider::event::Usage {
        input: 1200,
        output: 300,
        ..Default::default()
    };
    assert!(
        cost(&prices, &endpoint, model, &usage, None, None)
            .micros
            .is_some()
    );
    bencher.bench(|| {
        cost(
            divan::black_box(&prices),
            &endpoint,
            divan::black_box(model),
            &usage,
            None,
            None,
        )
    });
}

/// The first price of a session: reading the embedded catalog's providers and
/// then one provider's models (OpenAI's 113, OpenRouter's 923). Done on the first
/// lookup (the first draft typed or answer priced), never before the first frame.
#[divan::bench(args = ["https://api.openai.com/v1|gpt-4o", "https://openrouter.ai/api/v1|openai/gpt-4o"], sample_count = 20)]
fn lookup_catalog_first(case: &str) -> bool {
    let (url, model) = case.split_once('|').unwrap();
    let c = llmdeck::usage::catalog::Catalog::read_embedded();
    let p = c.provider_for_url(url);
    c.lookup(p, model).is_some()
}
