//! Build time (from `build.rs`): syntect's default syntaxes split into one
//! dump per language. Loaded whole, the default set keeps every language's
//! compressed contexts in the heap for the session (~430 KB) and its dump's
//! pages resident (~370 KB), where a conversation highlights a language or
//! two. Each dump here holds one language's contexts and those of every
//! language it embeds (Markdown's fenced blocks, HTML's scripts…); the other
//! syntaxes keep their place in the set, empty, so every context reference
//! (a syntax's index in the set) stays as the default set linked it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use syntect::parsing::syntax_definition::SyntaxDefinition;
use syntect::parsing::{SyntaxSet, SyntaxSetBuilder};

/// Writes `syntaxes/N.packdump` and `syntax_sets.rs` (the languages' names,
/// extensions and dumps, in syntect's order) into `out`.
pub fn write(out: &Path) {
    let definitions: Vec<SyntaxDefinition> = SyntaxSet::load_defaults_newlines()
        .into_builder()
        .syntaxes()
        .to_vec();
    let embeds: Vec<BTreeSet<usize>> = definitions
        .iter()
        .map(|d| {
            let mut to = BTreeSet::new();
            let contexts = serde_json::to_value(&d.contexts).expect("contexts serialize");
            referenced(&contexts, &mut to);
            to
        })
        .collect();
    std::fs::create_dir_all(out.join("syntaxes")).expect("OUT_DIR is writable");
    // Languages that embed each other share a dump.
    let mut dumps: BTreeMap<BTreeSet<usize>, usize> = BTreeMap::new();
    let mut table = String::from(
        "/// (name, file extensions, dump) of each default syntax, in syntect's order.\n",
    );
    table.push_str("static SYNTAXES: &[(&str, &[&str], usize)] = &[\n");
    for (i, definition) in definitions.iter().enumerate() {
        let closure = reachable(i, &embeds);
        let next = dumps.len();
        let dump = *dumps.entry(closure.clone()).or_insert_with(|| {
            let mut builder = SyntaxSetBuilder::new();
            for (j, d) in definitions.iter().enumerate() {
                builder.add(if closure.contains(&j) {
                    d.clone()
                } else {
                    SyntaxDefinition {
                        name: d.name.clone(),
                        file_extensions: Vec::new(),
                        scope: d.scope,
                        first_line_match: None,
                        hidden: true,
                        variables: HashMap::new(),
                        contexts: HashMap::new(),
                    }
                });
            }
            let bytes = syntect::dumps::dump_binary(&builder.build());
            std::fs::write(out.join(format!("syntaxes/{next}.packdump")), bytes)
                .expect("OUT_DIR is writable");
            next
        });
        table.push_str(&format!(
            "    ({:?}, &{:?}, {dump}),\n",
            definition.name, definition.file_extensions
        ));
    }
    table.push_str("];\n\n/// The dumps `SYNTAXES` points into.\nstatic DUMPS: &[&[u8]] = &[\n");
    for n in 0..dumps.len() {
        let path = out.join(format!("syntaxes/{n}.packdump"));
        table.push_str(&format!(
            "    include_bytes!({:?}),\n",
            path.display().to_string()
        ));
    }
    table.push_str("];\n");
    std::fs::write(out.join("syntax_sets.rs"), table).expect("OUT_DIR is writable");
}

/// `from` and every syntax its contexts reach, directly or through others.
fn reachable(from: usize, embeds: &[BTreeSet<usize>]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::from([from]);
    let mut todo = vec![from];
    while let Some(i) = todo.pop() {
        for &j in &embeds[i] {
            if seen.insert(j) {
                todo.push(j);
            }
        }
    }
    seen
}

/// Every syntax a linked context id in `value` points into: the contexts a
/// syntax includes, pushes, sets or embeds, their prototypes, anything else
/// that names a context. syntect keeps a context id's syntax index to itself,
/// but serializes it.
fn referenced(value: &serde_json::Value, to: &mut BTreeSet<usize>) {
    match value {
        serde_json::Value::Object(map) => {
            if let (Some(syntax), Some(_)) = (map.get("syntax_index"), map.get("context_index")) {
                let index = syntax.as_u64().expect("a syntax index is a number");
                to.insert(usize::try_from(index).expect("an index fits"));
            }
            map.values().for_each(|v| referenced(v, to));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| referenced(v, to)),
        _ => {}
    }
}
