//! The C math functions the binary's dependencies call (`log10` from
//! ratatui-textarea's line numbers, `ldexp` from syntect's styles, `log` from
//! SQLite's FTS5 ranking), defined here so that the loader never maps libm;
//! with `exp2` and `log2`, which a debug build still names (code that an
//! optimised build removes).
//!
//! A program that needs libm for one function pays for all of it at every
//! start: the loader maps it and binds its IFUNC symbols, whose resolvers
//! sit on pages across its code, ~500 KB resident (measured with a C program
//! calling `log10` alone) and a library's worth of relocation work before
//! the first frame. The bodies are the `libm` crate's (rust-lang's port of
//! musl's): pure Rust, so they call no libm themselves.
//! glibc only; elsewhere libm is part of the system library or statically
//! linked, and these names are left to it.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod symbols {
    #[unsafe(no_mangle)]
    extern "C" fn log(x: f64) -> f64 {
        libm::log(x)
    }

    #[unsafe(no_mangle)]
    extern "C" fn log10(x: f64) -> f64 {
        libm::log10(x)
    }

    #[unsafe(no_mangle)]
    extern "C" fn ldexp(x: f64, exp: i32) -> f64 {
        libm::ldexp(x, exp)
    }

    #[unsafe(no_mangle)]
    extern "C" fn exp2(x: f64) -> f64 {
        libm::exp2(x)
    }

    #[unsafe(no_mangle)]
    extern "C" fn log2(x: f64) -> f64 {
        libm::log2(x)
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    unsafe extern "C" {
        // The names as C code links them: these calls go through the symbols above.
        safe fn log(x: f64) -> f64;
        safe fn log10(x: f64) -> f64;
        safe fn ldexp(x: f64, exp: i32) -> f64;
        safe fn exp2(x: f64) -> f64;
        safe fn log2(x: f64) -> f64;
    }

    #[test]
    fn the_functions_answer_as_libm_does() {
        // ratatui-textarea sizes its line-number gutter from log10.
        for (n, digits) in [
            (1.0, 1),
            (9.0, 1),
            (10.0, 2),
            (999.0, 3),
            (1000.0, 4),
            (123456.0, 6),
        ] {
            assert_eq!(log10(n).floor() as i32 + 1, digits, "{n}");
        }
        assert_eq!(log10(1e-3), -3.0);
        assert!((log(std::f64::consts::E) - 1.0).abs() < 1e-15);
        assert_eq!(log(1.0), 0.0);
        assert!(log(0.0).is_infinite() && log(-1.0).is_nan());
        assert_eq!(ldexp(0.75, 4), 12.0);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert!(ldexp(1.0, 1024).is_infinite());
        assert_eq!((exp2(10.0), exp2(-1.0)), (1024.0, 0.5));
        assert_eq!((log2(1024.0), log2(0.5)), (10.0, -1.0));
    }
}
