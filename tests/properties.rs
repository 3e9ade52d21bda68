//! Property tests: hostile or random input never panics the stream parser or
//! the markdown renderer, and where a stream is cut makes no difference.

use llmdeck::config::theme::Theme;
use llmdeck::provider::chat_completions::parse_chunk;
use llmdeck::provider::event::StreamEvent;
use llmdeck::provider::sse::SseParser;
use llmdeck::tui::widgets::markdown;
use proptest::prelude::*;

/// Feeds `bytes` in the given pieces; returns the text of the chunks it parsed.
fn run(pieces: &[&[u8]]) -> Result<String, String> {
    let mut parser = SseParser::new(1 << 16);
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
