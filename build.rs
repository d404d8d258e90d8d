//! The stack modules in `stacks/` are compiled into the binary (`config/shipped.rs`):
//! rebuild when they change.

fn main() {
    println!("cargo:rerun-if-changed=stacks");
    println!("cargo:rerun-if-changed=build.rs");
}
