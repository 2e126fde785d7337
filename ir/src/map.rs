//! Persistent maps. Up to `SMALL_MAX` entries a map is a small vector that keeps insertion
//! order (like Clojure's array maps, so `{:a 1 :b 2}` prints as written); past that it is an
//! `imbl::OrdMap`, which iterates in key order, so printing is deterministic.

use std::cmp::Ordering;

use crate::value::Value;

pub const SMALL_MAX: usize = 8;

#[derive(Clone)]
pub enum Map {
    Small(Vec<(Value, Value)>),
    Large(imbl::OrdMap<Value, Value>),
}

impl Default for Map {
    fn default() -> Self {
        Map::Small(Vec::new())
    }
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// Later entries win over earlier ones with the same key.
    pub fn from_entries(entries: impl IntoIterator<Item = (Value, Value)>) -> Map {
        let mut m = Map::new();
        for (k, v) in entries {
            m.insert(k, v);
        }
        m
    }

    pub fn len(&self) -> usize {
        match self {
            Map::Small(v) => v.len(),
            Map::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Map::Small(v) => v.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Map::Large(m) => m.get(key),
        }
    }

    /// The value under `key`, to update in place (the entry keeps its position).
    pub fn get_mut(&mut self, key: &Value) -> Option<&mut Value> {
        match self {
            Map::Small(v) => v.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            Map::Large(m) => m.get_mut(key),
        }
    }

    pub fn contains_key(&self, key: &Value) -> bool {
        self.get(key).is_some()
    }

    pub fn insert(&mut self, key: Value, value: Value) {
        match self {
            Map::Small(v) => {
                if let Some(slot) = v.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else if v.len() < SMALL_MAX {
                    v.push((key, value));
                } else {
                    let mut big: imbl::OrdMap<Value, Value> = v.drain(..).collect();
                    big.insert(key, value);
                    *self = Map::Large(big);
                }
            }
            Map::Large(m) => {
                m.insert(key, value);
            }
        }
    }

    pub fn remove(&mut self, key: &Value) {
        match self {
            Map::Small(v) => v.retain(|(k, _)| k != key),
            Map::Large(m) => {
                m.remove(key);
            }
        }
    }

    /// Entries in print order: insertion order for small maps, key order for large ones.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&Value, &Value)> + '_> {
        match self {
            Map::Small(v) => Box::new(v.iter().map(|(k, v)| (k, v))),
            Map::Large(m) => Box::new(m.iter()),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    fn sorted_entries(&self) -> Vec<(&Value, &Value)> {
        let mut e: Vec<_> = self.iter().collect();
        if matches!(self, Map::Small(_)) {
            e.sort_by(|a, b| a.0.cmp(b.0));
        }
        e
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}
impl Eq for Map {}

impl Ord for Map {
    fn cmp(&self, other: &Self) -> Ordering {
        self.len()
            .cmp(&other.len())
            .then_with(|| self.sorted_entries().cmp(&other.sorted_entries()))
    }
}
impl PartialOrd for Map {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
