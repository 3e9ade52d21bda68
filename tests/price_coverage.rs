//! Every OpenAI model id the API spec names has a price, or is listed here as
//! deliberately unpriced with the reason: a new model never shows "unpriced"
//! on api.openai.com unnoticed.

use llmdeck::usage::PriceTable;
use llmdeck::usage::cost::{Endpoint, Found, find};
use serde_json::Value;

/// Named by the spec, but no price list (genai-prices, litellm, OpenAI's
/// pricing page as they copy it) gives a price: unpriced rather than guessed.
const UNPRICED: [(&str, &str); 2] = [
    (
        "gpt-daybreak-blue-latest",
        "in ResponsesOnlyModel, no published price",
    ),
    (
        "gpt-daybreak-red-latest",
        "in ResponsesOnlyModel, no published price",
    ),
];

/// The ids of the spec's model enums: ../shared/openai-openapi when it is there,
/// else the extract of it in tests/fixtures.
fn spec_ids() -> Vec<String> {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/openai-openapi/openapi.json");
    let mut ids = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&spec) {
        let v: Value = serde_json::from_str(&text).unwrap();
        for name in ["ModelIdsShared", "ModelIdsResponses"] {
            enums(&v["components"]["schemas"][name], &mut ids);
        }
        assert!(ids.len() > 50, "the spec's model enums were not found");
    } else {
        let v: Value =
            serde_json::from_str(include_str!("fixtures/openai-model-ids.json")).unwrap();
        ids = serde_json::from_value(v["ids"].clone()).unwrap();
    }
    ids.sort();
    ids.dedup();
    ids
}

fn enums(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(e)) = m.get("enum") {
                out.extend(e.iter().filter_map(|s| s.as_str().map(String::from)));
            }
            m.values().for_each(|v| enums(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| enums(v, out)),
        _ => {}
    }
}

#[test]
fn every_openai_model_in_the_spec_has_a_price_or_a_reason() {
    let prices = PriceTable::embedded();
    let openai = Endpoint::new("https://api.openai.com/v1", false);
    let ids = spec_ids();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !UNPRICED.iter().any(|(u, _)| u == id))
        .filter(|id| !matches!(find(&prices, &openai, id), Found::Price(..)))
        .collect();
    assert!(missing.is_empty(), "no price and no reason: {missing:?}");
    // A reason for a model that has a price now is stale.
    for (id, _) in UNPRICED {
        assert!(
            !matches!(find(&prices, &openai, id), Found::Price(..)),
            "{id} is priced now: drop it from UNPRICED"
        );
    }
}
