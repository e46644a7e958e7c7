//! The projector's working set: projection documents loaded for a batch, changed in memory,
//! then written back in one transaction with their prior versions for the undo log.

use crate::error::{IndexerError, Result};
use bson::Document;
use nest_store::{Projection, UndoRecord};
use std::collections::HashMap;

#[derive(Debug, Clone)]
struct Row<T> {
    prior: Option<T>,
    current: Option<T>,
    first_block: Option<u64>,
    /// The store was asked about this id (loaded, or known absent).
    known: bool,
}

/// Documents of one collection in the working set.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    rows: HashMap<String, Row<T>>,
    /// Documents keyed by their event id: a new one cannot exist in the store yet (no raw event
    /// above the checkpoint is ever stored), so it is inserted without a delete first.
    event_keyed: bool,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: HashMap::new(),
            event_keyed: false,
        }
    }
}

impl<T> Table<T> {
    /// A table of documents keyed by event id.
    pub(crate) fn event_keyed() -> Self {
        Self {
            rows: HashMap::new(),
            event_keyed: true,
        }
    }
}

impl<T: Projection> Table<T> {
    /// Records documents loaded from the store (unchanged).
    pub(crate) fn loaded(&mut self, docs: Vec<Document>) -> Result<()> {
        for doc in docs {
            let value: T = bson::from_document(doc).map_err(|e| IndexerError::Projection {
                collection: T::COLLECTION,
                message: e.to_string(),
            })?;
            let id = value.id().to_string();
            self.rows.entry(id).or_insert(Row {
                prior: Some(value.clone()),
                current: Some(value),
                first_block: None,
                known: true,
            });
        }
        Ok(())
    }

    /// Records that `id` was looked up and does not exist.
    pub(crate) fn absent(&mut self, id: &str) {
        self.rows.entry(id.to_string()).or_insert(Row {
            prior: None,
            current: None,
            first_block: None,
            known: true,
        });
    }

    /// True when `id` was loaded or looked up.
    pub(crate) fn knows(&self, id: &str) -> bool {
        self.rows.contains_key(id)
    }

    /// The current version of `id`.
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.rows.get(id).and_then(|r| r.current.as_ref())
    }

    /// Writes `value` (insert or replace) as changed by `block`.
    pub(crate) fn put(&mut self, value: T, block: u64) {
        let known = self.event_keyed;
        let row = self.rows.entry(value.id().to_string()).or_insert(Row {
            prior: None,
            current: None,
            first_block: None,
            known,
        });
        note_block(&mut row.first_block, block);
        row.current = Some(value);
    }

    /// Deletes `id` (if it exists) as changed by `block`.
    pub(crate) fn remove(&mut self, id: &str, block: u64) {
        if let Some(row) = self.rows.get_mut(id)
            && row.current.is_some()
        {
            note_block(&mut row.first_block, block);
            row.current = None;
        }
    }

    /// Every changed document as (prior version, current version, first block that changed it).
    pub(crate) fn changed(&self) -> impl Iterator<Item = (Option<&T>, Option<&T>, u64)> {
        self.rows.values().filter_map(|r| {
            let block = r.first_block?;
            (r.prior != r.current).then_some((r.prior.as_ref(), r.current.as_ref(), block))
        })
    }

    /// Changes `id` in place (if it exists) as changed by `block`.
    pub(crate) fn update(&mut self, id: &str, block: u64, change: impl FnOnce(&mut T)) -> bool {
        match self.rows.get_mut(id) {
            Some(Row {
                current: Some(value),
                first_block,
                ..
            }) => {
                note_block(first_block, block);
                change(value);
                true
            }
            _ => false,
        }
    }

    /// Current values matching `predicate`.
    pub(crate) fn matching(&self, predicate: impl Fn(&T) -> bool) -> Vec<String> {
        self.rows
            .iter()
            .filter(|(_, r)| r.current.as_ref().is_some_and(&predicate))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The changed documents: what to write, what to delete, the undo records (when
    /// `undo_chain` is given) and the ids changed.
    pub(crate) fn changes(&self, undo_chain: Option<u64>) -> Result<TableChanges> {
        let mut changes = TableChanges::default();
        for (id, row) in &self.rows {
            if row.first_block.is_none() || row.prior == row.current {
                continue;
            }
            match &row.current {
                // Known to be new: a plain insert, no delete round trip.
                Some(value) if row.known && row.prior.is_none() => {
                    changes.inserts.push(to_document::<T>(value)?)
                }
                Some(value) => changes.upserts.push(to_document::<T>(value)?),
                None => changes.deletes.push(id.clone()),
            }
            if let (Some(chain_id), Some(block)) = (undo_chain, row.first_block) {
                let prior = row.prior.as_ref().map(to_document::<T>).transpose()?;
                changes
                    .undo
                    .push(UndoRecord::new(chain_id, block, T::COLLECTION, id, prior));
            }
            changes.changed.push(id.clone());
        }
        Ok(changes)
    }
}

/// Records that `block` changed a row: the undo record must carry the earliest such block (a
/// rollback to any later fork point must restore the row).
fn note_block(first_block: &mut Option<u64>, block: u64) {
    *first_block = Some(first_block.map_or(block, |b| b.min(block)));
}

fn to_document<T: Projection>(value: &T) -> Result<Document> {
    bson::to_document(value).map_err(|e| IndexerError::Projection {
        collection: T::COLLECTION,
        message: e.to_string(),
    })
}

/// What one table contributes to a batch write.
#[derive(Debug, Default)]
pub(crate) struct TableChanges {
    pub(crate) inserts: Vec<Document>,
    pub(crate) upserts: Vec<Document>,
    pub(crate) deletes: Vec<String>,
    pub(crate) undo: Vec<UndoRecord>,
    pub(crate) changed: Vec<String>,
}
