//! Links libespeak-ng, which the agent's voice uses for phonemes
//! (Debian: `libespeak-ng-dev`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=espeak-ng");
}
