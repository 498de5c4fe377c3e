//! The front desk's side of a warm transfer. Each turn during open hours
//! looks up who can take a transfer (`staff::availability`), so the
//! dialogue decides on what is true now. When the dialogue decides to
//! transfer, the transfer's task is written, claimed by the person about
//! to be rung, before the carrier is asked to ring them. If the carrier
//! cannot, the caller hears so and the task becomes a callback task.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::DeskCall;
use crate::call::AgentTurn;
use crate::dialogue::{Env, OnDuty};
use crate::staff::availability;
use crate::tasks::{self, NewTask};
use crate::vocabulary::{AfterSpeech, Outcome, TaskKind};

/// A transfer whose task is written: what a callback task needs should
/// nobody answer.
pub(super) struct Ringing {
    fallback: NewTask,
}

/// The last four digits of a number, spaced for speech ("4 5 6 7").
fn last4(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let start = digits.len().saturating_sub(4);
    digits[start..]
        .iter()
        .map(char::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl DeskCall {
    /// Who could take a transfer now: nobody outside open hours, without a
    /// carrier that can transfer, nor when the lookup fails (the caller
    /// then gets a callback task).
    pub(super) async fn on_duty(&self, now: NaiveDateTime) -> Option<OnDuty> {
        if !self.desk.transfers || !self.desk.clinic.is_open_at(now) {
            return None;
        }
        match availability::on_duty(&self.desk.db).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(call_id = %self.call_id, error = format!("{e:#}"), "could not look up staff for transfers");
                None
            }
        }
    }

    /// Writes the transfer's task, claimed by `staff`, and notes the ring.
    /// A task that cannot be written does not stop the transfer: the
    /// person answering still gets the caller.
    pub(super) async fn ring(&mut self, env: &Env<'_>, staff: &OnDuty, now: DateTime<Utc>) {
        let draft = self.dialogue.transfer_task(env);
        let new = NewTask {
            queue: draft.queue,
            priority: draft.priority,
            kind: draft.kind,
            summary: draft.summary,
            call_id: Some(self.call_id.clone()),
            patient_id: draft.patient_id,
            callback_number: draft.callback_number,
        };
        match tasks::warm_transfer::ring(&self.desk.db, &new, &staff.staff_id, now).await {
            Ok(task) => {
                tracing::info!(call_id = %self.call_id, task_id = %task.id, staff_id = %staff.staff_id, "ringing staff for a warm transfer")
            }
            Err(e) => {
                tracing::error!(call_id = %self.call_id, error = format!("{e:#}"), "the transfer's task was not written; transferring anyway")
            }
        }
        if let Err(e) = availability::mark_rung(&self.desk.db, &staff.staff_id).await {
            tracing::warn!(call_id = %self.call_id, error = format!("{e:#}"), "could not note the ring");
        }
        self.transfer = Some(Ringing {
            fallback: NewTask {
                kind: TaskKind::Callback,
                ..new
            },
        });
    }

    /// The carrier could not put the caller through: the transfer's task
    /// becomes a callback task, and the caller hears so before the agent
    /// hangs up. The call's outcome is `escalated`.
    pub(super) async fn after_failed_transfer(&mut self, why: String) -> anyhow::Result<AgentTurn> {
        let desk = self.desk.clone();
        let fallback = match self.transfer.take() {
            Some(ringing) => ringing.fallback,
            None => {
                // Not asked through `ring` (no one was on duty by then):
                // still, nobody is left without a callback.
                let draft = self.dialogue.transfer_task(&Env {
                    clinic: &desk.clinic,
                    prompts: &desk.prompts,
                    now: desk.clinic.local(desk.clock.now()),
                    on_duty: None,
                });
                NewTask {
                    queue: draft.queue,
                    priority: draft.priority,
                    kind: TaskKind::Callback,
                    summary: draft.summary,
                    call_id: Some(self.call_id.clone()),
                    patient_id: draft.patient_id,
                    callback_number: draft.callback_number,
                }
            }
        };
        let written = tasks::warm_transfer::not_answered(
            &desk.db,
            &self.call_id,
            &why,
            &fallback,
            desk.clock.now(),
        )
        .await;
        let say = match (&written, &fallback.callback_number) {
            (Ok(_), Some(number)) => desk
                .prompts
                .render("transfer_failed", &[("last4", &last4(number))]),
            (Ok(_), None) => desk.prompts.render(
                "transfer_failed_no_number",
                &[("clinic_phone", &desk.clinic.phone)],
            ),
            (Err(e), _) => {
                tracing::error!(call_id = %self.call_id, error = format!("{e:#}"), "the callback task after a failed transfer was not written");
                desk.prompts
                    .render("task_failed", &[("clinic_phone", &desk.clinic.phone)])
            }
        };
        Ok(AgentTurn {
            say: vec![say],
            then: AfterSpeech::Hangup,
            outcome: Some(Outcome::Escalated),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_four_digits_are_spoken_one_by_one() {
        assert_eq!(super::last4("+15551234567"), "4 5 6 7");
        assert_eq!(super::last4("555-123-4567"), "4 5 6 7");
        assert_eq!(super::last4("12"), "1 2");
    }
}
