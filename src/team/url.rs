//! The team database's connection string, read before tokio-postgres sees it:
//! `sslmode` decides how far the server is trusted (verified TLS unless the
//! string says otherwise) and `sslrootcert` names a team's own CA. tokio-postgres
//! knows neither `verify-*` nor `sslrootcert`, so both are taken out here, from
//! either form: `postgres://...?sslmode=...` or `host=... sslmode=...`.

/// What the string asks for, and the string without those two parameters.
#[derive(Debug, PartialEq)]
pub struct Split {
    pub rest: String,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out (the last one wins, as in libpq).
pub fn split(conn: &str) -> Result<Split, String> {
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        split_url(conn)
    } else {
        split_pairs(conn)
    }
}

fn split_url(url: &str) -> Result<Split, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out = Split {
        rest: base.to_string(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match decode(key)?.as_str() {
            "sslmode" => out.sslmode = Some(decode(value)?),
            "sslrootcert" => out.sslrootcert = Some(decode(value)?),
            _ => kept.push(param),
        }
    }
    if !kept.is_empty() {
        out.rest = format!("{base}?{}", kept.join("&"));
    }
    Ok(out)
}

/// `%XX` escapes, as tokio-postgres decodes the URL's parameters.
fn decode(s: &str) -> Result<String, String> {
    let bad = || "a parameter has a bad %-escape".to_string();
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| bad())
}

/// `key=value` pairs separated by spaces, values optionally in single quotes
/// with backslash escapes (libpq's form). The others are written back quoted.
fn split_pairs(conn: &str) -> Result<Split, String> {
    let mut out = Split {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut kept = Vec::new();
    let mut chars = conn.chars().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_spaces(&mut chars);
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_spaces(&mut chars);
        if chars.next() != Some('=') {
            return Err("a word without `=value` (a key=value string, or postgres://...)".into());
        }
        skip_spaces(&mut chars);
        let quoted = chars.next_if_eq(&'\'').is_some();
        let mut value = String::new();
        loop {
            match chars.next() {
                None if quoted => {
                    return Err("an unclosed quote".into());
                }
                None => break,
                Some('\'') if quoted => break,
                Some(c) if c.is_whitespace() && !quoted => break,
                Some('\\') => value.extend(chars.next()),
                Some(c) => value.push(c),
            }
        }
        match key.as_str() {
            "sslmode" => out.sslmode = Some(value),
            "sslrootcert" => out.sslrootcert = Some(value),
            _ => kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    out.rest = kept.join(" ");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, Option<String>, Option<String>) {
        let s = split(s).unwrap();
        (s.rest, s.sslmode, s.sslrootcert)
    }

    #[test]
    fn urls_lose_only_the_two_parameters() {
        assert_eq!(
            parts("postgres://a:pw@h:5433/db"),
            ("postgres://a:pw@h:5433/db".into(), None, None)
        );
        assert_eq!(
            parts(
                "postgresql://a:p%3Fw@h/db?application_name=x&sslrootcert=%2Ftmp%2Fca%20dir%2Fca.pem&sslmode=verify-full&connect_timeout=3"
            ),
            (
                "postgresql://a:p%3Fw@h/db?application_name=x&connect_timeout=3".into(),
                Some("verify-full".into()),
                Some("/tmp/ca dir/ca.pem".into())
            )
        );
        // The last one wins, as in libpq.
        assert_eq!(
            parts("postgres://h/db?sslmode=disable&sslmode=require").1,
            Some("require".into())
        );
        assert!(split("postgres://h/db?sslmode=%zz").is_err());
        assert!(split("postgres://h/db?sslrootcert=%ff").is_err());
    }

    #[test]
    fn key_value_strings_are_read_as_libpq_reads_them() {
        assert_eq!(
            parts(
                "host=h  user = ada password='it\\'s a \\\\ secret' sslmode=require sslrootcert='/a b/ca.pem'"
            ),
            (
                "host='h' user='ada' password='it\\'s a \\\\ secret'".into(),
                Some("require".into()),
                Some("/a b/ca.pem".into())
            )
        );
        assert!(split("host=h password='open").is_err());
        assert!(split("host").is_err());
    }
}
