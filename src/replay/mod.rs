//! Each DPoP proof is good for one request (RFC 9449 §11.1): the replay guard remembers
//! every accepted proof until it would be too old anyway, and refuses one it has seen.
//!
//! An execution environment remembers in its own memory ([`memory`]); because every
//! Lambda environment has its own memory, a proof replayed to another one is caught only
//! by the shared table ([`table`], `DPOP_REPLAY_TABLE`): one conditional DynamoDB write per
//! proof, failing closed when the table cannot be asked.

pub(crate) mod memory;
pub(crate) mod table;

use std::sync::Mutex;

use memory::{Memory, Seen};
use table::Table;

use crate::refusal::{Reason, Refusal};
use crate::settings::DpopSettings;
use crate::token::UnixTime;

/// The replay guard of one execution environment.
#[derive(Debug)]
pub(crate) struct ReplayGuard {
    memory: Mutex<Memory>,
    table: Option<Table>,
    /// What it was built from: a reload with the same settings keeps it (and what it
    /// remembers).
    settings: (usize, Option<String>),
}

impl ReplayGuard {
    /// A guard remembering `replay_capacity` proofs, sharing them through `replay_table`.
    pub(crate) fn new(settings: &DpopSettings) -> Self {
        ReplayGuard {
            memory: Mutex::new(Memory::new(settings.replay_capacity)),
            table: settings.replay_table.clone().map(Table::new),
            settings: (settings.replay_capacity, settings.replay_table.clone()),
        }
    }

    /// Whether this guard was built from the same replay settings.
    pub(crate) fn built_from(&self, settings: &DpopSettings) -> bool {
        self.settings.0 == settings.replay_capacity && self.settings.1 == settings.replay_table
    }

    /// Builds the table's client (at init, where its cost is not billed per request).
    pub(crate) async fn prepare(&self) {
        if let Some(table) = &self.table {
            table.client().await;
        }
    }

    /// Records the proof `key` as used until `until`; refuses it when it already was.
    ///
    /// # Errors
    /// `proof_replayed`, or `replay_store_unavailable` when the table cannot be asked or
    /// this environment's memory is full of proofs still in their window (both fail
    /// closed).
    pub(crate) async fn check(
        &self,
        key: [u8; 16],
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Refusal> {
        let replayed = |where_: &str| {
            Refusal::new(
                Reason::ProofReplayed,
                format!("this proof's jti was already used for a request{where_}"),
            )
        };
        let Some(table) = &self.table else {
            return match self.lock().record(key, until, now) {
                Seen::Fresh => Ok(()),
                Seen::Before => Err(replayed("")),
                Seen::Full => Err(full()),
            };
        };
        // Seen here already: no need to ask the table.
        if self.lock().contains(key, now) {
            return Err(replayed(" (in this execution environment)"));
        }
        // In the table until the widest window any configuration allows: a reload that
        // widens DPOP_MAX_AGE_SECONDS must not make a recorded proof overwritable while
        // the new window still calls it fresh. (Items cost nothing once TTL removes them.)
        let widest = now
            + crate::settings::dpop::MAX_DPOP_MAX_AGE.as_secs_f64()
            + crate::settings::issuer::MAX_LEEWAY.as_secs_f64()
            + 1.0;
        match table.claim(key, widest, now).await {
            Ok(true) => {
                // Full or not, the table has it: a replay here is caught by the table.
                let _seen = self.lock().record(key, until, now);
                Ok(())
            }
            Ok(false) => Err(replayed(
                " (by another execution environment: the replay table has it)",
            )),
            Err(why) => Err(Refusal::new(
                Reason::ReplayStoreUnavailable,
                format!(
                    "the replay table {} could not be asked: {why}",
                    table.name()
                ),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        match self.memory.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The refusal when memory holds `DPOP_REPLAY_CAPACITY` proofs still in their window.
fn full() -> Refusal {
    Refusal::new(
        Reason::ReplayStoreUnavailable,
        "this execution environment remembers DPOP_REPLAY_CAPACITY proofs still in their window and can take no more: raise DPOP_REPLAY_CAPACITY or lower DPOP_MAX_AGE_SECONDS",
    )
}
