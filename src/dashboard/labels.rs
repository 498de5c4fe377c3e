//! How the queue's words read on screen: "Front desk" for `front_desk`,
//! "URGENT" for `urgent`, "Prescription refill" for `prescription_refill`.

/// A queue's name for people.
pub fn queue_label(queue: &str) -> &str {
    match queue {
        "front_desk" => "Front desk",
        "billing" => "Billing",
        "clinical" => "Clinical",
        "records" => "Records",
        other => other,
    }
}

/// A priority, urgent in capitals.
pub fn priority_label(priority: &str) -> &str {
    match priority {
        "urgent" => "URGENT",
        "high" => "High",
        "normal" => "Normal",
        other => other,
    }
}

/// "Prescription refill" for `prescription_refill`.
pub fn kind_label(kind: &str) -> String {
    let text = kind.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}
