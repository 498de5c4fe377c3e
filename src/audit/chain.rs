//! The hash chain: each entry's hash is SHA-256 of the previous entry's hash
//! and its own canonical content (every column but the hashes, in a fixed
//! order, as a JSON array), so changing, removing or moving any entry
//! breaks the link to it or from it. [`verify`] walks the chain in order
//! and names the first entry where it breaks.
//!
//! What it cannot see: someone with write access who rewrites every hash
//! from the edited entry to the head. `frontdesk audit verify` prints the
//! head's hash; noting it elsewhere (a ticket, a log shipped off the
//! machine) makes that rewrite show too.

use sha2::{Digest, Sha256};

use super::{Entry, head, page};
use crate::store::Db;

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content an entry's hash covers, in a fixed form.
pub fn canonical(entry: &Entry) -> String {
    serde_json::json!([
        entry.seq,
        entry.recorded,
        entry.staff_id,
        entry.role,
        entry.action,
        entry.resource_type,
        entry.resource_id,
        entry.patient_id,
        entry.outcome.as_str(),
        entry.client,
    ])
    .to_string()
}

/// SHA-256 (hex) of the entry's `prev_hash` and its canonical content.
pub fn hash_of(entry: &Entry) -> String {
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(entry).as_bytes());
    hex::encode(hasher.finalize())
}

/// Where the chain breaks: the first entry that does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// The entry's content does not give its hash.
    #[error(
        "entry {seq} does not match its hash: it was edited (or moved from another place in the chain)"
    )]
    Edited { seq: i64 },
    /// A number is missing between two entries.
    #[error("entry {missing} is missing (deleted): entry {next} follows entry {previous}")]
    Deleted {
        missing: i64,
        previous: i64,
        next: i64,
    },
    /// The entry's previous hash is not the hash of the entry before it.
    #[error(
        "entry {seq} does not follow entry {previous}: its previous hash is not that entry's hash (reordered, or an entry replaced)"
    )]
    Unlinked { seq: i64, previous: i64 },
    /// The chain stops before the head says it does.
    #[error(
        "entries {first_missing} to {head} are missing (deleted): the chain ends at entry {last} but its head names entry {head}"
    )]
    Truncated {
        last: i64,
        first_missing: i64,
        head: i64,
    },
    /// The last entry is not the one the head names.
    #[error(
        "entry {seq} is not the entry the chain head names (its hash differs): edited, or the head was"
    )]
    HeadMismatch { seq: i64 },
    /// More entries than the head knows of.
    #[error(
        "entry {seq} comes after the chain head (entry {head}): written outside the audit writer"
    )]
    BeyondHead { seq: i64, head: i64 },
}

impl Broken {
    /// The first entry that breaks the chain.
    pub fn seq(&self) -> i64 {
        match *self {
            Broken::Edited { seq }
            | Broken::Unlinked { seq, .. }
            | Broken::HeadMismatch { seq }
            | Broken::BeyondHead { seq, .. } => seq,
            Broken::Deleted { missing, .. } => missing,
            Broken::Truncated { first_missing, .. } => first_missing,
        }
    }
}

/// A chain that holds: how many entries, and the head's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub entries: i64,
    pub head_hash: String,
}

/// Entries read per query while walking the chain.
const PAGE: i64 = 1000;

/// Walks the whole chain in order: `Ok(Ok(_))` when it holds,
/// `Ok(Err(broken))` naming the first entry where it does not, `Err` when
/// the database cannot be read.
pub async fn verify(db: &Db) -> anyhow::Result<Result<Verified, Broken>> {
    // The head first: entries appended while we walk come after it.
    let (head_seq, head_hash) = head(db).await?;
    let mut previous_seq = 0;
    let mut previous_hash = GENESIS.to_string();
    loop {
        let entries = page(db, previous_seq, PAGE).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            break;
        };
        for entry in entries {
            if entry.seq > head_seq {
                // Written after we read the head; a true append links on.
                if entry.prev_hash != previous_hash || hash_of(&entry) != entry.hash {
                    return Ok(Err(Broken::BeyondHead {
                        seq: entry.seq,
                        head: head_seq,
                    }));
                }
                return finish(previous_seq, &previous_hash, head_seq, &head_hash);
            }
            if let Some(broken) = check(&entry, previous_seq, &previous_hash) {
                return Ok(Err(broken));
            }
            previous_seq = entry.seq;
            previous_hash = entry.hash;
        }
        if last >= head_seq {
            break;
        }
    }
    finish(previous_seq, &previous_hash, head_seq, &head_hash)
}

/// The first fault of one entry, given the entry before it.
fn check(entry: &Entry, previous_seq: i64, previous_hash: &str) -> Option<Broken> {
    if entry.seq != previous_seq + 1 {
        return Some(Broken::Deleted {
            missing: previous_seq + 1,
            previous: previous_seq,
            next: entry.seq,
        });
    }
    if hash_of(entry) != entry.hash {
        return Some(Broken::Edited { seq: entry.seq });
    }
    if entry.prev_hash != previous_hash {
        return Some(Broken::Unlinked {
            seq: entry.seq,
            previous: previous_seq,
        });
    }
    None
}

/// The walk ended at `last_seq`: does the head agree?
fn finish(
    last_seq: i64,
    last_hash: &str,
    head_seq: i64,
    head_hash: &str,
) -> anyhow::Result<Result<Verified, Broken>> {
    if last_seq < head_seq {
        return Ok(Err(Broken::Truncated {
            last: last_seq,
            first_missing: last_seq + 1,
            head: head_seq,
        }));
    }
    if last_hash != head_hash {
        return Ok(Err(Broken::HeadMismatch { seq: last_seq }));
    }
    Ok(Ok(Verified {
        entries: last_seq,
        head_hash: head_hash.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;

    fn entry(seq: i64, prev_hash: &str) -> Entry {
        let mut e = Entry {
            seq,
            recorded: "2026-12-01T10:00:00.000Z".into(),
            staff_id: "s1".into(),
            role: "manager".into(),
            action: "read".into(),
            resource_type: "Task".into(),
            resource_id: Some(format!("t{seq}")),
            patient_id: None,
            outcome: Outcome::Success,
            client: Some("127.0.0.1".into()),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        e.hash = hash_of(&e);
        e
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = entry(1, GENESIS);
        type Change = Box<dyn Fn(&mut Entry)>;
        let changes: Vec<Change> = vec![
            Box::new(|e| e.seq = 2),
            Box::new(|e| e.recorded.push('x')),
            Box::new(|e| e.staff_id.push('x')),
            Box::new(|e| e.role.push('x')),
            Box::new(|e| e.action.push('x')),
            Box::new(|e| e.resource_type.push('x')),
            Box::new(|e| e.resource_id = None),
            Box::new(|e| e.patient_id = Some("p".into())),
            Box::new(|e| e.outcome = Outcome::Denied),
            Box::new(|e| e.client = None),
            Box::new(|e| e.prev_hash = "1".repeat(64)),
        ];
        for change in changes {
            let mut edited = base.clone();
            change(&mut edited);
            assert_ne!(hash_of(&edited), base.hash, "{edited:?}");
        }
    }

    #[test]
    fn check_names_a_gap_an_edit_and_a_broken_link() {
        let first = entry(1, GENESIS);
        let second = entry(2, &first.hash);
        assert_eq!(check(&second, 1, &first.hash), None);
        let third = entry(3, &second.hash);
        assert_eq!(
            check(&third, 1, &first.hash),
            Some(Broken::Deleted {
                missing: 2,
                previous: 1,
                next: 3
            })
        );
        let mut edited = second.clone();
        edited.staff_id = "someone else".into();
        assert_eq!(
            check(&edited, 1, &first.hash),
            Some(Broken::Edited { seq: 2 })
        );
        let stranger = entry(2, &"f".repeat(64));
        assert_eq!(
            check(&stranger, 1, &first.hash),
            Some(Broken::Unlinked {
                seq: 2,
                previous: 1
            })
        );
    }
}
