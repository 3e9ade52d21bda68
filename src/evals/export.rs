//! Reports for other tools: JUnit XML (what CI systems read; valid against
//! the Jenkins JUnit schema) and CSV (for a spreadsheet). Answers come from a
//! model: in XML every character XML 1.0 cannot hold is replaced, and in CSV a
//! text cell a spreadsheet would run as a formula is quoted with a `'`.

use crate::library::testing::CaseResult;

/// One `<testsuite>` per model, one `<testcase>` per run of a case.
pub fn junit(prompt: &str, version: &str, results: &[CaseResult]) -> String {
    let mut targets: Vec<&str> = Vec::new();
    for r in results {
        if !targets.contains(&r.target.as_str()) {
            targets.push(&r.target);
        }
    }
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let count = |rs: &[&CaseResult]| {
        let errors = rs.iter().filter(|r| r.errored && !r.skipped).count();
        let skipped = rs.iter().filter(|r| r.skipped).count();
        let failures = rs
            .iter()
            .filter(|r| !r.pass && !r.errored && !r.skipped)
            .count();
        let ms: u64 = rs.iter().filter_map(|r| r.latency_ms).sum();
        (failures, errors, skipped, ms)
    };
    let all: Vec<&CaseResult> = results.iter().collect();
    let (f, e, _, ms) = count(&all);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" time=\"{}\">\n",
        xml(&format!("llmdeck {prompt}")),
        results.len(),
        secs(ms)
    );
    for t in targets {
        let rs: Vec<&CaseResult> = results.iter().filter(|r| r.target == t).collect();
        let (f, e, s, ms) = count(&rs);
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\" time=\"{}\">\n    <properties><property name=\"prompt_version\" value=\"{}\"/></properties>\n",
            xml(&format!("{prompt} × {t}")),
            rs.len(),
            secs(ms),
            xml(version)
        ));
        for r in rs {
            let name = if r.repeat > 1 {
                format!("{} #{}", r.case, r.repeat)
            } else {
                r.case.clone()
            };
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\">\n",
                xml(&name),
                xml(&format!("{prompt}.{t}")),
                secs(r.latency_ms.unwrap_or(0))
            ));
            let why = r.failures.join("\n");
            let first = r.failures.first().map(String::as_str).unwrap_or("");
            let tag = if r.skipped {
                Some("skipped")
            } else if r.errored {
                Some("error")
            } else if !r.pass {
                Some("failure")
            } else {
                None
            };
            if let Some(tag) = tag {
                out.push_str(&format!(
                    "      <{tag} message=\"{}\" type=\"{tag}\">{}</{tag}>\n",
                    xml(first),
                    xml(&why)
                ));
            }
            if !r.answer.is_empty() {
                out.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    xml(&r.answer)
                ));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text and attribute values escaped; characters XML 1.0 forbids become U+FFFD.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{fffe}' | '\u{ffff}') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub const CSV_HEADER: &str = "case,target,repeat,pass,errored,skipped,cached,score,cost_usd,grader_cost_usd,latency_ms,tokens,failures,answer";

/// One line per run, under `CSV_HEADER`.
pub fn csv(results: &[CaseResult]) -> String {
    let usd = |m: Option<i64>| m.map_or(String::new(), |m| format!("{:.6}", m as f64 / 1e6));
    let mut out = format!("{CSV_HEADER}\n");
    for r in results {
        let cells = [
            text_cell(&r.case),
            text_cell(&r.target),
            r.repeat.to_string(),
            r.pass.to_string(),
            r.errored.to_string(),
            r.skipped.to_string(),
            r.cached.to_string(),
            format!("{:.3}", r.score),
            usd(r.cost_micros),
            usd(Some(r.grader_cost_micros)),
            r.latency_ms.map_or(String::new(), |v| v.to_string()),
            r.tokens.to_string(),
            text_cell(&r.failures.join("; ")),
            text_cell(&r.answer),
        ];
        let line: Vec<String> = cells.iter().map(|c| quoted(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// A cell a spreadsheet would take for a formula starts with `'` instead.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn quoted(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_answers_stay_data() {
        let r = CaseResult {
            case: "=HYPERLINK(\"x\")".into(),
            target: "m".into(),
            answer: "a,b \"q\"\n<tag> & \u{1} done".into(),
            ..CaseResult::default()
        };
        let csv = csv(std::slice::from_ref(&r));
        let row = csv.lines().nth(1).unwrap();
        assert!(row.starts_with("\"'=HYPERLINK(\"\"x\"\")\",m,"), "{row}");
        assert!(csv.contains("\"a,b \"\"q\"\"\n<tag> & \u{1} done\""));
        let xml = junit("p", "v", &[r]);
        assert!(xml.contains(
            "<system-out>a,b &quot;q&quot;\n&lt;tag&gt; &amp; \u{fffd} done</system-out>"
        ));
    }
}
