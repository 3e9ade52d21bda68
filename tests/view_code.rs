//! "View code": every snippet carries the request that would be sent, the key
//! stays an environment variable, and the curl one sends byte for byte what
//! llmdeck sends.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use llmdeck::config::Endpoint;
use llmdeck::config::profile::AuthStyle;
use llmdeck::provider::code::snippets;
use support::mock_server::Mock;
use support::snippets::{
    profile, python_and_node_send, request, run_curl, run_curl_in, send_as_llmdeck,
};

#[test]
fn curl_sends_exactly_the_bytes_llmdeck_sends() {
    let mock = Mock::start_in_background();
    let p = profile(&mock);
    // What llmdeck itself sends.
    send_as_llmdeck(&p, &request(), BTreeMap::new());
    let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
    assert_eq!(curl.label, "curl");
    assert!(
        !curl.code.contains("sk-view-code-secret"),
        "the key is never in a snippet"
    );
    let out = run_curl(&curl.code, &[("MOCK_KEY", "sk-from-env")]);
    let sent = mock.chat_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].body, sent[0].body, "byte-identical bodies");
    assert_eq!(sent[1].header("authorization"), Some("Bearer sk-from-env"));
    assert_eq!(sent[1].header("openai-organization"), Some("org-123"));
    assert_eq!(sent[1].header("x-title"), Some("it's llmdeck"));
    assert!(
        out.contains(r#""content":"Hello""#),
        "the answer streamed back"
    );
}

#[test]
fn python_node_and_rust_carry_the_same_body_and_parse() {
    let mock = Mock::start_in_background();
    let p = profile(&mock);
    let all = snippets(&p, &request(), false, &BTreeMap::new());
    let Endpoint::Http(ep) = &p.endpoint else {
        unreachable!()
    };
    let body: serde_json::Value =
        serde_json::from_slice(&llmdeck::provider::http::body(ep, &request())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for s in &all[1..] {
        assert!(!s.code.contains("sk-view-code-secret"));
        assert!(
            s.code.contains("MOCK_KEY"),
            "{} reads the key from the environment",
            s.label
        );
        // The body inside the snippet is the request's body.
        let start = s
            .code
            .find("{\n  \"")
            .unwrap_or_else(|| panic!("{}: no body", s.label));
        let end = s.code[start..].find("\n}").unwrap() + start + 2;
        let embedded: serde_json::Value = serde_json::from_str(&s.code[start..end]).unwrap();
        assert_eq!(embedded, body, "{}", s.label);
    }
    // They are valid programs in their languages, where the tools are here.
    std::fs::write(dir.path().join("s.py"), &all[1].code).unwrap();
    let py = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(dir.path().join("s.py"))
        .output();
    match py {
        Ok(py) => assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        ),
        Err(_) => support::skip("python3 is not installed: the Python snippet is not compiled"),
    }
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    match Command::new("node")
        .arg("--check")
        .arg(dir.path().join("s.mjs"))
        .output()
    {
        Ok(node) => assert!(
            node.status.success(),
            "{}",
            String::from_utf8_lossy(&node.stderr)
        ),
        Err(_) => support::skip(
            "node is not installed (.ci/run installs it): the Node snippet is not checked",
        ),
    }
    assert!(all[3].code.contains("r#\"") || all[3].code.contains("r##\""));
    assert!(all[3].code.contains("create_stream(request)"));
}

#[test]
fn presenter_mode_shows_ids_and_hosts_as_variables() {
    let mock = Mock::start_in_background();
    let all = snippets(&profile(&mock), &request(), true, &BTreeMap::new());
    for s in &all {
        assert!(!s.code.contains("org-123"), "{}", s.label);
        assert!(!s.code.contains("127.0.0.1"), "{}", s.label);
    }
    assert!(
        all[0]
            .code
            .contains("-H \"OpenAI-Organization: $OPENAI_ORG_ID\""),
        "{}",
        all[0].code
    );
    assert!(
        all[0]
            .code
            .starts_with("curl --globoff \"$OPENAI_BASE_URL/chat/completions\"")
    );
    assert!(
        all[1]
            .code
            .contains("organization=os.environ[\"OPENAI_ORG_ID\"]")
    );
    assert!(all[2].code.contains("baseURL: process.env.OPENAI_BASE_URL"));
    assert!(
        all[3]
            .code
            .contains(".with_org_id(std::env::var(\"OPENAI_ORG_ID\")?)")
    );
    // The presenter's curl still runs, with the ids and the host from the environment.
    run_curl(
        &all[0].code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("OPENAI_ORG_ID", "org-from-env"),
            ("OPENAI_BASE_URL", &mock.base_url),
        ],
    );
    assert_eq!(
        mock.chat_requests()[0].header("openai-organization"),
        Some("org-from-env")
    );
}

/// A gateway's subscription key and an Azure Functions `code` are secrets:
/// never in a snippet (presenter mode or not), read from the environment,
/// and the curl snippet still sends them. Public values stay literal.
#[test]
fn secret_headers_and_query_values_are_environment_variables() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.headers.insert(
        "Ocp-Apim-Subscription-Key".into(),
        "apim-SECRET-1234".into(),
    );
    ep.headers.insert("X-Team".into(), "platform".into());
    ep.public.headers.push("x-team".into());
    ep.query.insert("code".into(), "fn-SECRET-code".into());
    ep.query.insert("api-version".into(), "2024-10-21".into());
    for presenter in [false, true] {
        for s in snippets(&p, &request(), presenter, &BTreeMap::new()) {
            assert!(
                !s.code.contains("apim-SECRET-1234"),
                "{}: {}",
                s.label,
                s.code
            );
            assert!(
                !s.code.contains("fn-SECRET-code"),
                "{}: {}",
                s.label,
                s.code
            );
        }
    }
    let all = snippets(&p, &request(), false, &BTreeMap::new());
    assert!(all[1].code.contains(
        r#""Ocp-Apim-Subscription-Key": os.environ["LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY"]"#
    ));
    assert!(
        all[1]
            .code
            .contains(r#""code": os.environ["LLMDECK_QUERY_CODE"]"#)
    );
    assert!(all[1].code.contains(r#""api-version": "2024-10-21""#));
    assert!(
        all[2]
            .code
            .contains(r#""code": process.env.LLMDECK_QUERY_CODE"#)
    );
    assert!(all[2].code.contains(r#""X-Team": "platform""#));
    run_curl(
        &all[0].code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY", "apim-from-env"),
            ("LLMDECK_QUERY_CODE", "code-from-env"),
        ],
    );
    let sent = &mock.chat_requests()[0];
    assert_eq!(
        sent.header("ocp-apim-subscription-key"),
        Some("apim-from-env")
    );
    assert_eq!(sent.header("x-team"), Some("platform"));
    assert!(
        sent.path
            .ends_with("?api-version=2024-10-21&code=code-from-env"),
        "{}",
        sent.path
    );
    // Python and Node still parse.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.py"), &all[1].code).unwrap();
    if let Ok(py) = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(dir.path().join("s.py"))
        .output()
    {
        assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
    }
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    if let Ok(node) = Command::new("node")
        .arg("--check")
        .arg(dir.path().join("s.mjs"))
        .output()
    {
        assert!(
            node.status.success(),
            "{}",
            String::from_utf8_lossy(&node.stderr)
        );
    }
}

/// A tool whose schema names a property `__proto__`: the Node snippet's
/// object literal made that the object's prototype and the property left the
/// request; every snippet sends it as llmdeck does.
#[test]
fn a_schema_property_named_proto_is_sent_by_every_snippet() {
    let mock = Mock::start_in_background();
    let p = profile(&mock);
    let mut req = request();
    req.tools = vec![llmdeck::chat::tools::ToolDef {
        name: "set".into(),
        description: "Sets a \"__proto__\": value".into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {
                "__proto__": {"type": "object", "properties": {"__proto__": {"type": "string"}}},
                "x": {"type": "string", "enum": ["__proto__"]}
            }
        }),
        ..serde_json::from_value(serde_json::json!({"name": "set"})).unwrap()
    }];
    send_as_llmdeck(&p, &req, BTreeMap::new());
    let llmdeck: serde_json::Value = serde_json::from_slice(&mock.received()[0].body).unwrap();
    let all = snippets(&p, &req, false, &BTreeMap::new());
    let sent = python_and_node_send(&all, &[("MOCK_KEY", "sk-from-env")]);
    for (label, body) in sent {
        assert_eq!(body, llmdeck, "{label} sends what llmdeck sends");
    }
}

/// A base url that the curl snippet double-quotes (because a secret query
/// value makes it hold a variable) cannot run a command or read another
/// variable: before, a base url with `$(...)` in it ran the command when the
/// snippet was pasted. With a `!` (history expansion in an interactive shell)
/// it is quoted another way, as safely.
#[test]
fn nothing_in_a_url_runs_in_the_shell() {
    let mock = Mock::start_in_background();
    let env = [
        ("MOCK_KEY", "sk-x"),
        ("LLMDECK_QUERY_CODE", "code-from-env"),
    ];
    let tails = [
        "$(touch${IFS}pwned)$HOME/v1",
        "$(touch${IFS}pwned)!$HOME\\/v1",
    ];
    for tail in tails {
        let mut p = profile(&mock);
        let Endpoint::Http(ep) = &mut p.endpoint else {
            unreachable!()
        };
        ep.base_url = format!("{}/{tail}", mock.base_url);
        ep.query.insert("code".into(), "fn-SECRET-code".into());
        let dir = tempfile::tempdir().unwrap();
        let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
        let before = mock.received().len();
        run_curl_in(dir.path(), &curl.code, &env);
        // Pasted into an interactive bash too, where a `!` inside double
        // quotes is history expansion ("event not found"), not a character.
        // Its own history file, and a session of its own: no terminal to take.
        let mut bash = Command::new("bash");
        bash.args(["--norc", "--noprofile", "-i"])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("HISTFILE", dir.path().join("history"))
            .envs(env);
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid only, between fork and exec.
        unsafe {
            bash.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut bash = bash
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = bash.stdin.take().unwrap();
        stdin.write_all(curl.code.as_bytes()).unwrap();
        drop(stdin);
        let out = bash.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("event not found"), "{err}");
        assert!(!dir.path().join("pwned").exists(), "{}", curl.code);
        let sent = &mock.received()[before..];
        assert_eq!(sent.len(), 2, "{err}");
        for sent in sent {
            assert!(sent.path.contains(tail), "{} in {}", tail, sent.path);
            assert!(sent.path.ends_with("?code=code-from-env"), "{}", sent.path);
        }
    }
}

/// A base url with a user and password in it is a variable in every snippet.
#[test]
fn a_base_url_with_credentials_is_a_variable() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.base_url = mock.base_url.replace("http://", "http://bot:pw-SECRET-77@");
    for s in snippets(&p, &request(), false, &BTreeMap::new()) {
        assert!(!s.code.contains("pw-SECRET-77"), "{}: {}", s.label, s.code);
        assert!(
            s.code.contains("OPENAI_BASE_URL"),
            "{}: {}",
            s.label,
            s.code
        );
    }
}

/// The Rust snippet sends the profile's headers, and the key as `api-key`
/// where the endpoint takes it so (it sent neither before).
#[test]
fn the_rust_snippet_sends_the_headers_and_the_key_as_the_endpoint_wants() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let rust = &snippets(&p, &request(), false, &BTreeMap::new())[3].code;
    assert!(
        rust.contains(r#".with_header("x-title", "it's llmdeck")?"#),
        "{rust}"
    );
    assert!(
        rust.contains(r#".with_api_key(std::env::var("MOCK_KEY")?)"#),
        "{rust}"
    );
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.auth = AuthStyle::ApiKey;
    ep.query.insert("api-version".into(), "2024-10-21".into());
    let rust = &snippets(&p, &request(), false, &BTreeMap::new())[3].code;
    assert!(
        rust.contains(r#".with_header("api-key", std::env::var("MOCK_KEY")?)?"#),
        "{rust}"
    );
    // Left unset, async-openai would read OPENAI_API_KEY (or the admin key)
    // and send it to this host as well.
    assert!(rust.contains(r#".with_api_key("")"#), "{rust}");
    assert!(!rust.contains("with_api_key(std::env"), "{rust}");
    assert!(rust.contains(r#""api-version"="2024-10-21""#), "{rust}");
}

/// A public header, query value or id whose text names one of the snippets'
/// variables (`$OPENAI_ADMIN_KEY`) is sent as that text: read from the
/// environment like a secret, never expanded. Before, curl expanded it and
/// Python read it from the environment, sending the admin key to the host.
#[test]
fn a_value_that_names_a_variable_is_not_expanded() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.headers
        .insert("X-Title".into(), "$OPENAI_ADMIN_KEY".into());
    ep.organization = Some("$LLMDECK_".into());
    for s in snippets(&p, &request(), false, &BTreeMap::new()) {
        assert!(
            !s.code.contains("OPENAI_ADMIN_KEY"),
            "{}: {}",
            s.label,
            s.code
        );
        assert!(
            s.code.contains("LLMDECK_HEADER_X_TITLE"),
            "{}: {}",
            s.label,
            s.code
        );
    }
    let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
    run_curl(
        &curl.code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("OPENAI_ADMIN_KEY", "sk-admin-canary"),
            ("LLMDECK_HEADER_X_TITLE", "$OPENAI_ADMIN_KEY"),
            ("OPENAI_ORG_ID", "$LLMDECK_"),
        ],
    );
    let sent = &mock.chat_requests()[0];
    assert_eq!(sent.header("x-title"), Some("$OPENAI_ADMIN_KEY"));
    assert_eq!(sent.header("openai-organization"), Some("$LLMDECK_"));
}

/// A profile's `api_key_env` is written into view code's snippets as a name:
/// one that is no variable name (a shell command, a dash) is refused with its
/// reason, never run or read in part.
#[test]
fn an_api_key_env_that_is_not_a_variable_name_is_refused() {
    let mock = Mock::start_in_background();
    // Also beside api_key_command, which reads the key some other way.
    let cases = [
        ("K$(touch pwned)", ""),
        ("MY-KEY", ""),
        ("9KEY", ""),
        ("K$(touch pwned)", "api_key_command = \"printf sk-x\"\n"),
    ];
    for (var, command) in cases {
        let home = support::home_with_config(&format!(
            "default_profile = \"gw\"\n[profiles.gw]\nbase_url = \"{}\"\napi_key_env = {}\n{command}",
            mock.base_url,
            toml::Value::String(var.into())
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("LLMDECK_HOME", home.path())
            .current_dir(home.path())
            .args(["chat", "hello"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}: {err}");
        assert!(err.contains("is not a variable name"), "{var}: {err}");
        assert!(!home.path().join("pwned").exists());
        assert!(mock.received().is_empty(), "nothing was sent");
    }
}

/// A header or query parameter whose name spells a snippet variable
/// (`$OPENAI_ADMIN_KEY`) would be filled in by the shell when a curl snippet
/// is pasted: the profile is refused with that reason.
#[test]
fn a_header_or_query_name_that_spells_a_variable_is_refused() {
    let mock = Mock::start_in_background();
    for table in ["headers", "query"] {
        let home = support::home_with_config(&format!(
            "default_profile = \"gw\"\n[profiles.gw]\nbase_url = \"{}\"\n[profiles.gw.{table}]\n\"X-$OPENAI_ADMIN_KEY\" = \"a\"\n",
            mock.base_url
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("LLMDECK_HOME", home.path())
            .env("OPENAI_API_KEY", "sk-x")
            .args(["chat", "hello"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{table}: {err}");
        assert!(
            err.contains("would read as an environment variable"),
            "{table}: {err}"
        );
        assert!(mock.received().is_empty(), "nothing was sent");
    }
}
