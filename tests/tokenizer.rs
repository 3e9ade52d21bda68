//! llmdeck's compact tokenizer counts exactly what tiktoken counts (tiktoken-rs
//! is the reference, as a dev-dependency only), for o200k and cl100k.

use llmdeck::chat::tokens::{cl100k, o200k};
use proptest::prelude::*;

const CORPUS: &[&str] = &[
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog. I'm sure they'll've done it, won't they?",
    "fn main() {\n    let x: Vec<u8> = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n",
    "    indented    with\ttabs\t\tand   spaces   \n\n\n   trailing   ",
    "Numbers: 1 12 123 1234 12345 3.14159 -42 1e10 0xFF",
    "日本語のテキストと中文文本와 한국어 텍스트",
    "Emoji 🎉🚀 and combining marks: é é ñ a\u{0301}",
    "| table | row |\n|---|---|\n| a | b |\n",
    "HTTPServer JSONParser XMLHttpRequest CamelCaseWords snake_case_words",
    "Mixed\r\nline\rendings\n\r\n  \r\n",
    "<|endoftext|> is only text here",
    "URL: https://example.com/path?q=1&r=2#frag and /usr/local/bin",
    "",
    " ",
    "  leading spaces",
    "'s 'S 'Re 'VE 'll 'd 'm 't",
];

#[test]
fn the_corpus_counts_the_same_as_tiktoken() {
    let o = tiktoken_rs::o200k_base().unwrap();
    let c = tiktoken_rs::cl100k_base().unwrap();
    for text in CORPUS {
        assert_eq!(
            o200k().count(text),
            o.encode_ordinary(text).len() as u64,
            "o200k: {text:?}"
        );
        assert_eq!(
            cl100k().count(text),
            c.encode_ordinary(text).len() as u64,
            "cl100k: {text:?}"
        );
    }
    let long: String = CORPUS.concat().repeat(20);
    assert_eq!(o200k().count(&long), o.encode_ordinary(&long).len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_text_counts_the_same_as_tiktoken(text in "([a-zA-Z]{1,8}|[0-9]{1,5}|[ \t]{1,4}|[\r\n]{1,3}|[.,;:!?'\"()\\[\\]{}<>/\\\\|@#$%^&*_+=-]|é|ß|日本|한|🎉|\u{0301}|'s|'LL|'ſ|\\p{Lu}|\\p{Lt}|\\p{Lm}|\\p{Lo}|\\p{M}|\\p{N}|\\s|\\PC){0,40}") {
        let o = tiktoken_rs::o200k_base_singleton();
        let c = tiktoken_rs::cl100k_base_singleton();
        prop_assert_eq!(o200k().count(&text), o.encode_ordinary(&text).len() as u64, "o200k: {:?}", text);
        prop_assert_eq!(cl100k().count(&text), c.encode_ordinary(&text).len() as u64, "cl100k: {:?}", text);
    }
}
