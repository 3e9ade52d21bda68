//! Property tests: hostile or random input never panics the stream parser or
//! the markdown renderer, and where a stream is cut makes no difference. A
//! hostile stream never makes the parser hold more than its caps, nor yields a
//! tool call index past the cap, nor aborts the conversation machine.

mod support;

use std::time::Instant;

use llmdeck::chat::machine::Input;
use llmdeck::config::theme::Theme;
use llmdeck::provider::chat_completions::parse_chunk;
use llmdeck::provider::event::StreamEvent;
use llmdeck::provider::sse::SseParser;
use llmdeck::provider::{chat_completions, limits, responses};
use llmdeck::tui::widgets::markdown;
use proptest::prelude::*;

/// Feeds `bytes` in the given pieces; returns the text of the chunks it parsed.
fn run(pieces: &[&[u8]]) -> Result<String, String> {
    let mut parser = SseParser::new(1 << 16, 1 << 20);
    let mut text = String::new();
    let mut events = Vec::new();
    let mut handle = |data: &str, text: &mut String| -> Result<(), String> {
        if data == "[DONE]" {
            return Ok(());
        }
        events.clear();
        parse_chunk(data, &mut events).map_err(|e| e.to_string())?;
        for e in &events {
            if let StreamEvent::TextDelta(t) = e {
                text.push_str(t);
            }
        }
        Ok(())
    };
    for p in pieces {
        for ev in parser.push(p).map_err(|e| e.to_string())? {
            handle(&ev.data, &mut text)?;
        }
        if let Some(e) = parser.take_error() {
            return Err(e.to_string());
        }
    }
    if let Some(ev) = parser.finish().map_err(|e| e.to_string())? {
        handle(&ev.data, &mut text)?;
    }
    Ok(text)
}

fn valid_stream(words: &[String]) -> Vec<u8> {
    let mut out = String::from(": keep-alive\r\n\r\n");
    for w in words {
        let chunk = serde_json::json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": null}]
        });
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_bytes_in_any_pieces_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&bytes[last..p]);
            last = p;
        }
        pieces.push(&bytes[last..]);
        let _ = run(&pieces);
    }

    #[test]
    fn any_markdown_renders_at_any_width(text in "(#|\\*|_|`|```|\\||-|>|\\[|\\]|\\(|\\)|[a-z ]|\\n|\\x1b|\\t|日本|\\u{202e}){0,300}", width in 1u16..200) {
        let theme = Theme::built_in("dark").unwrap();
        let r = markdown::render(&text, width, &theme);
        for line in &r.lines {
            for span in &line.spans {
                prop_assert!(!span.content.contains('\x1b'), "escape reached the screen");
                prop_assert!(!span.content.contains('\u{202e}'), "bidi override reached the screen");
            }
        }
    }
}

proptest! {
    // Each case tries every cut of a stream, so fewer cases cover a lot.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_valid_stream_gives_the_same_text_however_it_is_split(words in proptest::collection::vec("[a-zé日 \\n\"\\\\{}]{0,12}", 1..20)) {
        let stream = valid_stream(&words);
        let whole = run(&[&stream]).unwrap();
        prop_assert_eq!(&whole, &words.concat());
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            prop_assert_eq!(&run(&[a, b]).unwrap(), &whole, "cut at {}", cut);
        }
    }
}

/// How a server may write a valid event stream: the SSE spec allows every one
/// of these, and real servers use several (proxies turn `\n` into `\r\n`).
#[derive(Debug, Clone)]
struct Style {
    eol: &'static str,
    /// `data:x` instead of `data: x`.
    no_space: bool,
    /// The JSON split over two `data:` lines (joined with a newline, still JSON).
    split_data: bool,
    comments: bool,
    /// `event:`, `id:`, `retry:` and unknown fields, which carry no data.
    other_fields: bool,
    bom: bool,
    /// The last event's blank line missing: the stream just ends.
    no_last_blank: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(eol, no_space, split_data, comments, other_fields, bom, no_last_blank)| Style {
                eol,
                no_space,
                split_data,
                comments,
                other_fields,
                bom,
                no_last_blank,
            },
        )
}

fn styled_stream(words: &[String], s: &Style) -> Vec<u8> {
    let eol = s.eol;
    let field = |name: &str, value: &str| {
        if s.no_space {
            format!("{name}:{value}{eol}")
        } else {
            format!("{name}: {value}{eol}")
        }
    };
    let mut out = String::new();
    if s.bom {
        out.push('\u{feff}');
    }
    for (i, w) in words.iter().enumerate() {
        if s.comments {
            out.push_str(&format!(": ping {i}{eol}"));
        }
        if s.other_fields {
            out.push_str(&field("event", "message"));
            out.push_str(&field("id", &i.to_string()));
            out.push_str(&field("retry", "1000"));
            out.push_str(&field("x-unknown", "ignored"));
        }
        let chunk = serde_json::json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": null}]
        })
        .to_string();
        match chunk.find(",\"created\"") {
            Some(at) if s.split_data => {
                out.push_str(&field("data", &chunk[..=at]));
                out.push_str(&field("data", &chunk[at + 1..]));
            }
            _ => out.push_str(&field("data", &chunk)),
        }
        out.push_str(eol);
    }
    out.push_str(&field("data", "[DONE]"));
    if !s.no_last_blank {
        out.push_str(eol);
    }
    out.into_bytes()
}

proptest! {
    // Each case tries every cut of a stream, and bytes one at a time.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_valid_way_of_writing_a_stream_gives_the_same_text_however_it_is_split(
        words in proptest::collection::vec("[a-zé日 \\n\"\\\\{}:]{0,10}", 1..12),
        style in style(),
    ) {
        let stream = styled_stream(&words, &style);
        let expected = words.concat();
        prop_assert_eq!(&run(&[&stream]).unwrap(), &expected, "{:?}", style);
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            prop_assert_eq!(&run(&[a, b]).unwrap(), &expected, "cut at {} {:?}", cut, style);
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(&run(&bytes).unwrap(), &expected, "byte by byte {:?}", style);
    }

    /// Near-valid: one byte of a valid stream dropped, doubled or flipped. The
    /// parser answers with text or a clean error, never a panic, however split.
    #[test]
    fn a_near_valid_stream_gives_text_or_an_error_however_it_is_split(
        words in proptest::collection::vec("[a-z ]{0,8}", 1..8),
        style in style(),
        at in any::<usize>(),
        how in 0u8..3,
    ) {
        let mut stream = styled_stream(&words, &style);
        let at = at % stream.len();
        match how {
            0 => { stream.remove(at); }
            1 => { let b = stream[at]; stream.insert(at, b); }
            _ => stream[at] ^= 0x20,
        }
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            let _ = run(&[a, b]);
        }
    }
}

/// One piece of a hostile stream.
fn hostile_piece() -> impl Strategy<Value = Vec<u8>> {
    let text = "[a-z ]{0,8}".prop_map(|t| {
        format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{t}\"}}}}]}}\n\n").into_bytes()
    });
    let index = prop_oneof![
        0u64..200,
        Just(u64::from(u32::MAX)),
        Just(u64::MAX),
        any::<u64>()
    ];
    let call = index.prop_map(|i| {
        format!("data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{{\"index\":{i},\"function\":{{\"name\":\"f\",\"arguments\":\"{{}}\"}}}}]}}}}]}}\n\n").into_bytes()
    });
    // Responses: every function call item is a new call.
    let item = (0u64..1000).prop_map(|i| {
        format!("event: response.output_item.added\ndata: {{\"type\":\"response.output_item.added\",\"output_index\":{i},\"item\":{{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\"}}}}\n\n").into_bytes()
    });
    let many_calls = (1usize..300).prop_map(|n| {
        let calls: Vec<String> = (0..n)
            .map(|i| format!("{{\"index\":{i},\"function\":{{\"name\":\"f\"}}}}"))
            .collect();
        format!(
            "data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{}]}}}}]}}\n\n",
            calls.join(",")
        )
        .into_bytes()
    });
    let giant_line = (0usize..3 * CAP).prop_map(|n| {
        let mut l = b"data: ".to_vec();
        l.extend(std::iter::repeat_n(b'x', n));
        l.push(b'\n');
        l
    });
    let endless = (0usize..3 * CAP).prop_map(|n| vec![b'y'; n]);
    let data_lines = (0usize..400).prop_map(|n| b"data: 0123456789\n".repeat(n));
    let bad_utf8 = proptest::collection::vec(128u8..=255, 1..8).prop_map(|b| {
        let mut l = b"data: ".to_vec();
        l.extend(b);
        l.extend(b"\n\n");
        l
    });
    prop_oneof![
        3 => text,
        3 => call,
        2 => item,
        1 => many_calls,
        1 => giant_line,
        1 => endless,
        1 => data_lines,
        1 => bad_utf8,
        1 => Just(b"\r\n".to_vec()),
    ]
}

/// The parser's event cap in these tests: small, so a case stays quick.
const CAP: usize = 2048;

/// Feeds `stream` cut at `cuts` through the parser and one decoder, then the
/// events through the conversation machine, stopping at the first fault as
/// the client does. Checks the caps at every step.
fn feed_hostile(stream: &[u8], cuts: &[usize], responses_api: bool) -> Result<(), TestCaseError> {
    let mut parser = SseParser::new(CAP, 16 * CAP);
    let mut chat = chat_completions::Decoder::default();
    let mut resp = responses::Decoder::default();
    let mut machine = support::machine("m");
    let fx = machine.handle(Input::Send("go".into()), Instant::now(), chrono::Utc::now());
    let id = support::started(&fx);
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.sort_unstable();
    points.push(stream.len());
    let mut last = 0;
    for p in points {
        let sse = match parser.push(&stream[last..p]) {
            Ok(sse) => sse,
            Err(_) => return Ok(()),
        };
        last = p;
        prop_assert!(
            parser.held() <= 2 * CAP,
            "the parser holds {} bytes",
            parser.held()
        );
        for ev in sse {
            let mut out = Vec::new();
            let fed = if responses_api {
                resp.event(ev.event.as_deref(), &ev.data, &mut out)
                    .map(|_| ())
            } else {
                chat.chunk(&ev.data, &mut out)
            };
            for e in out {
                if let StreamEvent::ToolCallDelta { index, .. } = &e {
                    prop_assert!(*index < limits::MAX_TOOL_CALLS);
                }
                machine.handle(Input::Stream(id, e), Instant::now(), chrono::Utc::now());
            }
            if fed.is_err() {
                return Ok(());
            }
        }
        if parser.take_error().is_some() {
            return Ok(());
        }
    }
    let calls = machine
        .conv
        .nodes
        .iter()
        .map(|n| n.tool_calls.len())
        .max()
        .unwrap_or(0);
    prop_assert!(calls <= limits::MAX_TOOL_CALLS as usize);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_hostile_stream_never_panics_nor_grows_past_the_caps(
        pieces in proptest::collection::vec(hostile_piece(), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        responses_api in any::<bool>(),
    ) {
        feed_hostile(&pieces.concat(), &cuts, responses_api)?;
    }
}

#[test]
fn a_recorded_huge_tool_call_index_ends_the_answer_as_malformed() {
    let mut machine = support::machine("m");
    let now = Instant::now();
    let fx = machine.handle(Input::Send("go".into()), now, chrono::Utc::now());
    let id = support::started(&fx);
    machine.handle(
        Input::Stream(id, StreamEvent::TextDelta("kept".into())),
        now,
        chrono::Utc::now(),
    );
    let huge = StreamEvent::ToolCallDelta {
        index: u32::MAX,
        id: None,
        name: Some("f".into()),
        arguments: String::new(),
    };
    machine.handle(Input::Stream(id, huge), now, chrono::Utc::now());
    let answer = machine.conv.nodes.last().unwrap();
    assert_eq!(answer.content, "kept");
    let meta = answer.meta.as_ref().unwrap();
    assert_eq!(
        meta.status,
        llmdeck::chat::conversation::AnswerStatus::Interrupted
    );
    assert!(meta.error.as_deref().unwrap().contains("out of range"));
    assert!(!machine.is_streaming());
}
