//! Staff tasks' kinds, queues and priorities (`Task` in `spec/api.md`): the
//! dialogue decides them, the task queue stores them, the staff API shows them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    FrontDesk,
    Billing,
    Clinical,
    Records,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
}

impl Queue {
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::FrontDesk => "front_desk",
            Queue::Billing => "billing",
            Queue::Clinical => "clinical",
            Queue::Records => "records",
        }
    }
    pub fn parse(s: &str) -> Option<Queue> {
        [
            Queue::FrontDesk,
            Queue::Billing,
            Queue::Clinical,
            Queue::Records,
        ]
        .into_iter()
        .find(|q| q.as_str() == s)
    }
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }
    pub fn parse(s: &str) -> Option<Priority> {
        [Priority::Urgent, Priority::High, Priority::Normal]
            .into_iter()
            .find(|q| q.as_str() == s)
    }
}

/// Why a task exists (`Task.kind` in `api.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Emergency,
    ClinicalQuestion,
    TestResults,
    PrescriptionRefill,
    Billing,
    RecordsRequest,
    Callback,
    UnknownInsurance,
    FailedUnderstanding,
    /// A caller being put through to the staff member who holds it: the
    /// card on their screen while their phone rings. Becomes a `callback`
    /// task when nobody answers.
    WarmTransfer,
    /// A new patient registered with details the caller said twice were
    /// misheard: the front desk confirms the spelling with them.
    ConfirmDetails,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Emergency => "emergency",
            TaskKind::ClinicalQuestion => "clinical_question",
            TaskKind::TestResults => "test_results",
            TaskKind::PrescriptionRefill => "prescription_refill",
            TaskKind::Billing => "billing",
            TaskKind::RecordsRequest => "records_request",
            TaskKind::Callback => "callback",
            TaskKind::UnknownInsurance => "unknown_insurance",
            TaskKind::FailedUnderstanding => "failed_understanding",
            TaskKind::WarmTransfer => "warm_transfer",
            TaskKind::ConfirmDetails => "confirm_details",
        }
    }

    /// The queue and priority each kind goes to.
    pub fn routing(self) -> (Queue, Priority) {
        match self {
            TaskKind::Emergency => (Queue::Clinical, Priority::Urgent),
            TaskKind::ClinicalQuestion => (Queue::Clinical, Priority::High),
            TaskKind::TestResults => (Queue::Clinical, Priority::Normal),
            TaskKind::PrescriptionRefill => (Queue::Clinical, Priority::Normal),
            TaskKind::Billing => (Queue::Billing, Priority::Normal),
            TaskKind::UnknownInsurance => (Queue::Billing, Priority::Normal),
            TaskKind::RecordsRequest => (Queue::Records, Priority::Normal),
            TaskKind::Callback => (Queue::FrontDesk, Priority::Normal),
            TaskKind::FailedUnderstanding => (Queue::FrontDesk, Priority::High),
            TaskKind::WarmTransfer => (Queue::FrontDesk, Priority::Urgent),
            TaskKind::ConfirmDetails => (Queue::FrontDesk, Priority::Normal),
        }
    }
}
