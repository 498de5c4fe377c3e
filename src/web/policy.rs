//! Minimum necessary: what each role may see and do, in one place. Every
//! route names its [`Access`] where it is declared (`routes::Route`), the
//! router is built from that list alone, and the guard checks the rule
//! before the handler runs; rules that depend on the data (which task,
//! which call) are the functions below, which those handlers call.
//!
//! | who | sees / does |
//! |---|---|
//! | billing, records | their own queue |
//! | clinical | the clinical queue, every urgent task, every `emergency` task |
//! | receptionist | the front desk queue, every unclaimed urgent task; patients, booking |
//! | manager, admin | everything; call listings; reassigning tasks |
//! | the holder of a task | that task, and its call's transcript and recording |
//!
//! Clinic details and free slots are for all staff.

use chrono::Duration;

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use crate::staff::Role;
use crate::tasks::{self, Task, TaskScope, UrgentTasks};
use crate::vocabulary::Queue;

/// Who may use a route (the route's rule in `routes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token: health checks and metrics.
    Public,
    /// Any signed-in staff member.
    AnyStaff,
    /// These roles, and admins.
    Roles(&'static [Role]),
    /// Any staff member, for the tasks their [`task_scope`] covers (403
    /// for one outside it; a listing shows only those).
    Tasks,
    /// Managers and admins; anyone else only for a call of a task they hold
    /// ([`may_read_call`]).
    CallRecord,
}

/// Patients, appointments, booking and cancelling.
pub const SCHEDULERS: &[Role] = &[Role::Receptionist, Role::Manager];
/// Call listings, reassigning tasks.
pub const MANAGERS: &[Role] = &[Role::Manager];

impl Access {
    /// Whether this role passes the route's gate (the data-dependent part
    /// of `Tasks` and `CallRecord` is checked by the handler).
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::AnyStaff | Access::Tasks | Access::CallRecord => true,
            Access::Roles(roles) => role == Role::Admin || roles.contains(&role),
        }
    }
}

/// The part of the task queue a staff member sees.
pub fn task_scope(staff: &Staff) -> Option<TaskScope> {
    let own = |queue: Queue| TaskScope {
        queues: vec![queue],
        holder: Some(staff.id.clone()),
        ..TaskScope::default()
    };
    match staff.role {
        Role::Manager | Role::Admin => None,
        Role::Billing => Some(own(Queue::Billing)),
        Role::Records => Some(own(Queue::Records)),
        Role::Clinical => Some(TaskScope {
            urgent: UrgentTasks::All,
            emergencies: true,
            ..own(Queue::Clinical)
        }),
        Role::Receptionist => Some(TaskScope {
            urgent: UrgentTasks::Open,
            ..own(Queue::FrontDesk)
        }),
    }
}

/// 403 unless the task is in the staff member's scope.
pub fn check_task(staff: &Staff, task: &Task) -> Result<(), ApiError> {
    match task_scope(staff) {
        Some(scope) if !scope.covers(task) => Err(ApiError::Forbidden),
        _ => Ok(()),
    }
}

/// Whether a staff member given a task by reassignment would see it
/// through their role (not merely as its holder).
pub fn role_covers(role: Role, task: &Task) -> bool {
    let staff = Staff {
        id: String::new(),
        name: String::new(),
        role,
    };
    task_scope(&staff).is_none_or(|scope| {
        TaskScope {
            holder: None,
            ..scope
        }
        .covers(task)
    })
}

/// Returns lapsed claims to the queue (the clinic's claim timeout) before
/// the queue is read or changed.
pub async fn expire_claims(state: &AppState) -> Result<(), ApiError> {
    let timeout = Duration::minutes(i64::from(state.clinic.queue.claim_timeout_minutes));
    tasks::lifecycle::expire_stale(&state.db, state.clock.now(), timeout).await?;
    Ok(())
}

/// A call's transcript and recording: managers and admins, and whoever
/// holds one of the call's tasks right now.
pub async fn may_read_call(
    state: &AppState,
    staff: &Staff,
    call_id: &str,
) -> Result<bool, ApiError> {
    if matches!(staff.role, Role::Manager | Role::Admin) {
        return Ok(true);
    }
    expire_claims(state).await?;
    Ok(tasks::holds_task_of_call(&state.db, call_id, &staff.id).await?)
}
