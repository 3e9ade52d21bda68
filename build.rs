//! The tokenizers' lookup tables (see `src/chat/token_table.rs`), syntect's
//! syntaxes split by language (`build/syntax_split.rs`), the built-in themes
//! already read (`src/config/theme/spec.rs`), the price catalog split into
//! its providers' heads and their models (`src/usage/catalog.rs`), and link
//! settings of the release binary that keep resident memory down.
//!
//! - Linux/glibc: relative relocations are packed (DT_RELR). The loader reads
//!   the table at every start; it shrinks from ~550 KB to a few KB. glibc reads
//!   packed relocations from 2.36; older systems keep the plain table.
//! - x86-64 Linux/glibc linked by rust-lld: the unwinder is linked in from
//!   libgcc_eh.a rather than loaded from libgcc_s.so (`static_unwinder`).
//! - Release builds on x86-64 Linux, linked by rust-lld (Rust's default there
//!   since 1.90): the functions start-up and streaming run are placed together,
//!   in the order `link/record` wrote to `link/hot-functions.txt`, so the
//!   code they need sits in a few megabytes of pages instead of most of the binary.

use std::path::Path;
use std::process::Command;

#[path = "src/chat/token_table.rs"]
mod token_table;

#[path = "build/syntax_split.rs"]
mod syntax_split;

// Only the reading of a theme file is used here.
#[allow(dead_code)]
#[path = "src/config/theme/spec.rs"]
mod theme_spec;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    tokenizer_tables();
    char_kinds();
    built_in_themes();
    catalog_split();
    println!("cargo:rerun-if-changed=build/syntax_split.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    syntax_split::write(Path::new(&out));
    println!("cargo:rerun-if-changed=link/hot-functions.txt");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if native && linux_gnu && glibc_minor().is_some_and(|minor| minor >= 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    // A linker chosen by hand (in RUSTFLAGS, the environment or
    // .cargo/config.toml: cargo tells build scripts through RUSTC_LINKER).
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_linker = ["linker=", "linker-flavor", "fuse-ld"]
        .iter()
        .any(|f| flags.contains(f))
        || std::env::var_os("RUSTC_LINKER").is_some()
        || std::env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some();
    // Linked by this Rust's own lld (x86-64 Linux's default since 1.90, not
    // in some distributions' builds of Rust): it reads the order below, and
    // drops libgcc_s once the unwinder linked in after it defines the same
    // symbols (GNU ld would keep both).
    let own_lld = var("TARGET") == "x86_64-unknown-linux-gnu" && !own_linker && rust_lld();
    // A static build (crt-static) links libgcc_eh already, for std itself.
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if native && own_lld && !static_crt {
        static_unwinder();
    }
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/hot-functions.txt");
    if var("PROFILE") == "release" && own_lld && order.exists() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names of functions since renamed or inlined are skipped, quietly.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// The price catalog as two texts: the providers' heads, each with its
/// models left out (`[]`), and all their models one after the other, with
/// where each provider's are (`MODELS_AT`). The first lookup reads the heads,
/// a few KB, where finding each provider's models in the whole file passed
/// over its 430 KB (~7M instructions, in a streamed answer's first frames).
fn catalog_split() {
    use serde_json::value::RawValue;
    use std::collections::BTreeMap;
    let path = "src/usage/catalog.json";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("the catalog is readable");
    let mut doc: BTreeMap<&str, &RawValue> =
        serde_json::from_str(&text).expect("the catalog is a JSON object");
    let providers: Vec<BTreeMap<&str, &RawValue>> =
        serde_json::from_str(doc["providers"].get()).expect("the catalog lists providers");
    let none = RawValue::from_string("[]".into()).expect("[] is JSON");
    let (mut models, mut at, mut heads) = (String::new(), Vec::new(), Vec::new());
    for mut p in providers {
        let list = p
            .insert("models", &none)
            .expect("each provider lists models");
        at.push((models.len(), models.len() + list.get().len()));
        models.push_str(list.get());
        heads.push(p);
    }
    let heads = serde_json::to_string(&heads).expect("the heads serialize");
    let heads = RawValue::from_string(heads).expect("the heads are JSON");
    doc.insert("providers", &heads);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text).expect("OUT_DIR is writable")
    };
    write(
        "catalog_heads.json",
        serde_json::to_string(&doc).expect("the doc serializes"),
    );
    write("catalog_models.json", models);
    write(
        "catalog_models.rs",
        format!(
            "/// Where each provider's models are in `MODELS`, in bytes.\nconst MODELS_AT: &[(usize, usize)] = &{at:?};\n"
        ),
    );
}

/// The Unicode classes the tokenizers' splitting patterns name (`\p{L}`,
/// `\p{N}`, `\s`…), as sorted ranges for `chat::pieces`. They come from
/// regex-syntax, whose tables the regex crate (and so tiktoken's pattern)
/// uses, so both split the same Unicode version the same way.
fn char_kinds() {
    use regex_syntax::hir::{Class, HirKind};
    // Kinds as `chat::pieces::Kind` numbers them; a character in none is 0.
    let kinds = [
        (r"[\p{Lu}\p{Lt}]", 1),
        (r"\p{Ll}", 2),
        (r"[\p{Lm}\p{Lo}]", 3),
        (r"\p{M}", 4),
        (r"\p{N}", 5),
        (r"\s", 6),
    ];
    let mut ranges = Vec::new();
    for (pattern, kind) in kinds {
        let hir = regex_syntax::parse(pattern).expect("a Unicode class");
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
            panic!("{pattern} is a Unicode class")
        };
        ranges.extend(
            class
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end()), kind)),
        );
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32, u8)> = Vec::with_capacity(ranges.len());
    for (lo, hi, kind) in ranges {
        match merged.last_mut() {
            Some(last) if last.2 == kind && last.1 + 1 == lo => last.1 = hi,
            Some(last) => {
                assert!(last.1 < lo, "the kinds do not overlap");
                merged.push((lo, hi, kind));
            }
            None => merged.push((lo, hi, kind)),
        }
    }
    let mut source = String::from("&[\n");
    for (lo, hi, kind) in merged {
        source.push_str(&format!("({lo:#x}, {hi:#x}, {kind}),\n"));
    }
    source.push(']');
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("char_kinds.rs"), source).expect("OUT_DIR is writable");
}

/// Every file in themes/ read as the console reads a user's theme file, as
/// Rust for `config::theme` (`READ`): the built-ins are not parsed at every
/// start (TOML's parser was 8% of the work before the first frame).
fn built_in_themes() {
    println!("cargo:rerun-if-changed=themes");
    println!("cargo:rerun-if-changed=src/config/theme/spec.rs");
    let mut files: Vec<_> = std::fs::read_dir("themes")
        .expect("themes/ is in the repository")
        .map(|e| e.expect("themes/ lists").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut source = String::from("const READ: &[BuiltIn] = &[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a theme file's name");
        let text = std::fs::read_to_string(&path).expect("a theme file reads");
        let file: theme_spec::ThemeFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let read = file
            .read(stem)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let syntax = read.syntax.as_deref().unwrap_or(theme_spec::DEFAULT_SYNTAX);
        source.push_str(&format!("    ({stem:?}, {:?}, {syntax:?}, &[\n", read.name));
        for (role, look) in read.looks {
            source.push_str(&format!(
                "        (Role::{role:?}, Look {{ fg: {}, bg: {}, bold: {}, italic: {}, underline: {}, dim: {}, reversed: {} }}),\n",
                colour(look.fg),
                colour(look.bg),
                look.bold,
                look.italic,
                look.underline,
                look.dim,
                look.reversed
            ));
        }
        source.push_str("    ]),\n");
    }
    source.push_str("];\n");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("themes.rs"), source).expect("OUT_DIR is writable");
}

/// A look's colour as Rust.
fn colour(c: Option<theme_spec::Colour>) -> String {
    match c {
        Some(c) => format!("Some(Colour::{c:?})"),
        None => "None".into(),
    }
}

/// The tokenizers' lookup tables, for `include_bytes!` in `chat::tokens`.
fn tokenizer_tables() {
    println!("cargo:rerun-if-changed=src/chat/token_table.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["o200k_base", "cl100k_base"] {
        let source = format!("assets/tokenizers/{name}.bin");
        println!("cargo:rerun-if-changed={source}");
        let vocab = std::fs::read(&source).expect("the tokenizer vocabulary is in the repository");
        let table = token_table::build(&vocab);
        std::fs::write(Path::new(&out).join(format!("{name}.table")), table)
            .expect("OUT_DIR is writable");
    }
}

/// The unwinder (what a panic walks the stack with) linked into the binary
/// from GCC's static libgcc_eh instead of loaded from libgcc_s.so at every
/// start: the loader no longer opens, maps and relocates a fourth library
/// and searches it for each of libc's symbols, and libgcc_s's constructor no
/// longer asks the CPU its features (CPUID, which a virtual machine traps):
/// 0.1-0.15 ms of every start (a Rust hello-world; llmdeck from `exec` to
/// `main`). libgcc_eh's objects, linked whole at the end, define the
/// `_Unwind_*` symbols std calls, and lld, which settles `--as-needed`
/// (Rust's default) at the end of the link, then leaves libgcc_s out. The
/// GCC runtime library exception covers static linking. Skipped when `cc`,
/// the driver rustc links with, has no libgcc_eh.a (it prints the bare name
/// then): the shared one stays. `LLMDECK_STATIC_UNWINDER` tells the tests.
fn static_unwinder() {
    let Ok(out) = Command::new("cc")
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // (`-Wl,` splits at commas.)
    if Path::new(&path).is_absolute() && Path::new(&path).exists() && !path.contains(',') {
        // A GCC update moves or removes it: found again, not linked stale.
        println!("cargo:rerun-if-changed={path}");
        println!("cargo:rustc-link-arg-bins=-Wl,--whole-archive,{path},--no-whole-archive");
        println!("cargo:rustc-env=LLMDECK_STATIC_UNWINDER=1");
    }
}

/// Whether this Rust ships the lld it links x86-64 Linux programs with by default.
fn rust_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld")
        .exists()
}

/// The running glibc's minor version (`getconf` prints "glibc 2.36").
fn glibc_minor() -> Option<u32> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.trim()
        .strip_prefix("glibc 2.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}
