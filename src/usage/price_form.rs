//! Adding one model's price to the user's prices.toml (the console's price
//! form): the file's other content is kept byte for byte, the new table is
//! appended, and the result is checked as a price file before it replaces the
//! old one atomically. No new dependency: a model already in the file, or a
//! file that does not parse, is refused with a message instead of rewritten.

use std::path::Path;

use super::prices::PriceTable;

/// "2.5 1.25 10" or "2.5, 10" (input, cached input, output; USD per 1M tokens;
/// cached defaults to input) → the three rates.
pub fn parse_rates(text: &str) -> Result<(f64, Option<f64>, f64), String> {
    let numbers: Vec<f64> = text
        .split([' ', ',', '/'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_start_matches('$')
                .parse::<f64>()
                .map_err(|_| format!("{s:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match numbers[..] {
        [input, output] => Ok((input, None, output)),
        [input, cached, output] => Ok((input, Some(cached), output)),
        _ => Err("give input, cached and output USD per 1M tokens, like 0.5 0.25 1.5".into()),
    }
}

/// Appends `[models."model"]` to the price file at `path` (created if missing).
pub fn add_price(
    path: &Path,
    model: &str,
    (input, cached, output): (f64, Option<f64>, f64),
) -> Result<(), String> {
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let old = crate::config::files::read_optional(path)
        .map_err(|e| shown(&e))?
        .unwrap_or_default();
    let mut check = PriceTable::default();
    check
        .merge_user(&old, &path.display().to_string())
        .map_err(|e| format!("{e} — fix it first, nothing was written"))?;
    if check.has_own(model) {
        return Err(shown(&format!("{model:?} already has a price there")));
    }
    // A TOML basic string: the model name is the server's or the user's text.
    let key = toml::Value::String(model.to_string()).to_string();
    let mut text = old.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n# Added from the console's price form.\n[models.{key}]\ninput = {input:?}\n"
    ));
    if let Some(c) = cached {
        text.push_str(&format!("cached_input = {c:?}\n"));
    }
    text.push_str(&format!("output = {output:?}\n"));
    // The same checks as any price file: an absurd rate is refused, nothing written.
    let mut check = PriceTable::default();
    check
        .merge_user(&text, &path.display().to_string())
        .map_err(|e| e.to_string())?;
    crate::config::files::write_atomic(path, text.as_bytes()).map_err(|e| shown(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_is_appended_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.toml");
        let mine = "# my prices\n[models.\"a\"]\ninput = 1.0\noutput = 2.0\n";
        std::fs::write(&path, mine).unwrap();
        add_price(
            &path,
            "team/\"odd\" model",
            parse_rates("0.5 0.25 1.5").unwrap(),
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(mine), "{text}");
        let (t, errors) = PriceTable::load(&[&path]);
        assert!(errors.is_empty());
        let p = t.lookup("team/\"odd\" model").unwrap();
        assert_eq!(
            (p.rates.input, p.rates.cached_input, p.rates.output),
            (500, 250, 1500)
        );
        // Twice is refused; so is an absurd rate or a broken file, and nothing changes.
        assert!(add_price(&path, "team/\"odd\" model", (1.0, None, 1.0)).is_err());
        assert!(
            add_price(&path, "b", (-1.0, None, 1.0))
                .unwrap_err()
                .contains("negative")
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        std::fs::write(&path, "[models.x\n").unwrap();
        assert!(add_price(&path, "c", (1.0, None, 1.0)).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[models.x\n");
        assert!(parse_rates("1").is_err() && parse_rates("a b").is_err());
        assert_eq!(parse_rates("$2.5, 10").unwrap(), (2.5, None, 10.0));
    }
}
