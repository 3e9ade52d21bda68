//! Validates request bodies against OpenAI's own schemas (an extract of
//! ../shared/openai-openapi, made by tools/extract_request_schemas.py).

use serde_json::{Value, json};

/// The first violations of `body` against `components/schemas/{name}`, or Ok.
pub fn validate(name: &str, body: &Value) -> Result<(), String> {
    let mut fixture: Value =
        serde_json::from_str(include_str!("../fixtures/openai-request-schemas.json"))
            .expect("the schema extract is JSON");
    discriminated_any_of(&mut fixture);
    undefined_required(&mut fixture);
    let root = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": fixture["components"],
    });
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// OpenAPI's `oneOf` with a `discriminator` picks the branch by the `type`
/// property; plain JSON Schema would demand that exactly one branch match, and
/// OpenAI's overlapping branches (a user message is both an `EasyInputMessage`
/// and an input `Item`) would fail. So those become `anyOf`.
fn discriminated_any_of(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("discriminator")
                && let Some(branches) = map.remove("oneOf")
            {
                map.insert("anyOf".into(), branches);
            }
            map.values_mut().for_each(discriminated_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(discriminated_any_of),
        _ => {}
    }
}

/// The spec's `MCPApprovalResponse` (an input item) requires a `request_id`
/// that it never defines, beside `approval_request_id` which it does; OpenAI's
/// own documentation and SDKs send only the latter. A required name the
/// schema has no property for is dropped, there and only there.
fn undefined_required(fixture: &mut Value) {
    let schema = &mut fixture["components"]["schemas"]["MCPApprovalResponse"];
    let defined: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(required) = schema["required"].as_array_mut() {
        required.retain(|r| r.as_str().is_some_and(|r| defined.iter().any(|d| d == r)));
    }
}
