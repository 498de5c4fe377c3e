//! Fuzz targets for every piece of code that reads input from outside
//! (`docs/fuzzing.md`), and the driver that runs them on the stable
//! toolchain: time-boxed, from a corpus kept in `fuzz/corpus/<target>/`,
//! steered by what each input exercised rather than by compiler coverage.
//!
//! `tests/fuzz_short.rs` runs each target briefly in `make test`;
//! `make fuzz` runs each for ten minutes and keeps new inputs.

mod dialogue;
mod driver;
mod entities;
mod mutate;
mod wire;

use std::path::{Path, PathBuf};

pub use driver::{Crash, Features, Options, Report, Target, execute, read_corpus, run};
pub use mutate::Rng;

const MEDIA_TOKENS: &[&[u8]] = &[
    br#""event":"#,
    br#""connected""#,
    br#""start""#,
    br#""media""#,
    br#""dtmf""#,
    br#""mark""#,
    br#""stop""#,
    br#""streamSid":"#,
    br#""sequenceNumber":"#,
    br#""accountSid":"#,
    br#""callSid":"#,
    br#""tracks":["inbound"]"#,
    br#""customParameters":{"from":"+15555550123"}"#,
    br#""mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}"#,
    br#""track":"#,
    br#""chunk":"#,
    br#""timestamp":"#,
    br#""payload":"#,
    br#""digit":"#,
    br#""name":"#,
    br#""inbound_track""#,
    br#""outbound""#,
    br#""MZ00000000000000000000000000000000""#,
    br#""CA00000000000000000000000000000000""#,
    br#""AC00000000000000000000000000000000""#,
    br#""/38A""#,
    br#""////////////""#,
    b"null",
    b"true",
    b"-1",
    b"18446744073709551616",
    b"4294967296",
    b"1e3",
    b"0.5",
    br#""\u0000""#,
    br#""\ud800""#,
    b"{}",
    b"[]",
    b"\n",
    b"BINARY",
];

const BASE64_TOKENS: &[&[u8]] = &[
    b"AAAA", b"////", b"+/+/", b"=", b"==", b"===", b" ", b"\n", b"\r\n", b"%", b"-_", b"/38A",
];

const FORM_TOKENS: &[&[u8]] = &[
    b"CallSid=CA1",
    b"From=",
    b"To=",
    b"%2B15555550123",
    b"&",
    b"=",
    b"%",
    b"%00",
    b"%0A",
    b"%FF",
    b"%E2%82%AC",
    b"%22",
    b"%3C",
    b"+",
    b"https://",
    b"http://",
    b"wss://",
    b"ftp://",
    b":443",
    b":80",
    b":8443",
    b"[::1]",
    b"user:pw@",
    b"?",
    b"#",
    b"bodySHA256=",
    b"\n",
    b"zy+K/T4wJuVcL4PqCcirtjwrkic=",
];

/// Words callers say, for the text targets.
const CALLER_TOKENS: &[&[u8]] = &[
    b"my name is ",
    b"this is ",
    b"it's ",
    b"I'm ",
    b"last name ",
    b"spelled ",
    b"M A R I A ",
    b"r-u-i-z ",
    b"Maria Gonzalez",
    b"date of birth ",
    b"born ",
    b"March ",
    b"fourth ",
    b"the 21st of ",
    b"nineteen eighty five ",
    b"oh three oh four eighty five ",
    b"3/4/85",
    b"03-04-1985",
    b"Oh 621-87.",
    b"1985",
    b"February 29th ",
    b"tomorrow ",
    b"next ",
    b"Monday ",
    b"week ",
    b"at ",
    b"2:30 p.m.",
    b"quarter past ",
    b"ten till five ",
    b"noon ",
    b"in the morning ",
    b"after lunch ",
    b"o'clock ",
    b"my number is ",
    b"555-123-4567",
    b"(555) 123-4567",
    b"five five five ",
    b"double ",
    b"triple ",
    b"no sorry ",
    b"I mean ",
    b"wait ",
    b"actually ",
    b"um ",
    b"doctor ",
    b"Dr. ",
    b"Patel ",
    b"Pattel ",
    b"Kim ",
    b"Chen ",
    b"the nurse practitioner ",
    b"refill ",
    b"my lisinopril ",
    b"blood pressure pills ",
    b"the CVS on Main Street ",
    b"Walgreens ",
    b"Aetna ",
    b"Blue Cross ",
    b"do you take ",
    b"chest pain ",
    b"I can't breathe ",
    b"I want to kill myself ",
    b"last year ",
    b"a little ",
    b"right now ",
    b"yes ",
    b"no ",
    b"yeah ",
    b"nope ",
    b"bye ",
    b"thanks ",
    b"a person please ",
    b"operator ",
    b"what are your hours ",
    b"where are you ",
    b"the first one ",
    b"the second ",
    b"earliest ",
    b"cancel it ",
    b"book it ",
    b"video visit ",
    b"?",
    b".",
    b",",
    b"-",
    b"'",
    b"  ",
];

/// Lines of the dialogue target's input (see `dialogue.rs`).
const DIALOGUE_TOKENS: &[&[u8]] = &[
    b"\nS",
    b"\nH",
    b"\nQ",
    b"\nD1985",
    b"\nD#",
    b"\nP\x00\x01\x02\x03\x04",
    b"\nT\x00\x09\x01\x01",
    b"\nUa9-e",
    b"\nUb9-e",
    b"\nUc9-e",
    b"\nUe9-e",
    b"\nUi9-e",
    b"\nUl9-e",
    b"\nUl2-e",
    b"\nUlA5e",
    b"\nUr90e",
    b"\nUr9ne",
    b"\nUr9ae",
    b"\nUm9-e",
    b"\nUp9-e",
    b"\nUq9-e",
    b"\nUr9--",
    b"\nUs9-e",
    b"\nUt2-e",
    b"\nUtn-e",
    b"\nUrm-e",
];

pub const TARGETS: &[Target] = &[
    Target {
        name: "media_stream",
        run: wire::media_stream,
        dictionary: MEDIA_TOKENS,
        max_len: 64 * 1024,
    },
    Target {
        name: "mulaw_payload",
        run: wire::mulaw_payload,
        dictionary: BASE64_TOKENS,
        max_len: 8 * 1024,
    },
    Target {
        name: "webhook_form",
        run: wire::webhook_form,
        dictionary: FORM_TOKENS,
        max_len: 8 * 1024,
    },
    Target {
        name: "entities",
        run: entities::entities,
        dictionary: CALLER_TOKENS,
        max_len: 2 * 1024,
    },
    Target {
        name: "dialogue",
        run: dialogue::dialogue,
        dictionary: DIALOGUE_TOKENS,
        max_len: 8 * 1024,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// `fuzz/corpus/<target>` under the repository root.
pub fn corpus_dir(repo_root: &Path, target: &str) -> PathBuf {
    repo_root.join("fuzz").join("corpus").join(target)
}
