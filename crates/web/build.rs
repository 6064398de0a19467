//! Minifies the `<guidance-booking>` element once, at build time, with oxc's maintained
//! minifier: other sites load it with their pages, and short local names without spaces make it
//! a tenth lighter even compressed. `static/guidance-booking.js` stays the readable source; the
//! server sends what this writes to `$OUT_DIR` (`routes/assets.rs`).

use std::path::PathBuf;

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_minifier::{MangleOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;

const ELEMENT: &str = "static/guidance-booking.js";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={ELEMENT}");
    let source = std::fs::read_to_string(ELEMENT).expect("the element's source is readable");
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, &source, SourceType::mjs()).parse();
    // A script the parser refuses would be sent broken: the build stops instead.
    assert!(
        parsed.errors.is_empty() && !parsed.panicked,
        "{ELEMENT} does not parse: {:?}",
        parsed.errors
    );
    let mut program = parsed.program;
    // A module's top-level names are its own (only its exports are seen outside, and those
    // keep their names), so they are shortened too.
    let options = MinifierOptions {
        mangle: Some(MangleOptions {
            top_level: true,
            ..MangleOptions::default()
        }),
        ..MinifierOptions::default()
    };
    let minified = Minifier::new(options).minify(&allocator, &mut program);
    let code = Codegen::new()
        .with_options(CodegenOptions::minify())
        .with_scoping(minified.scoping)
        .build(&program)
        .code;
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("guidance-booking.min.js");
    std::fs::write(&out, code).expect("OUT_DIR is writable");
}
