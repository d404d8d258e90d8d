//! Fuzzes load + decode + graph + evaluate + render over arbitrary input: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gantry::stack::evaluate_text(text);
    }
});
