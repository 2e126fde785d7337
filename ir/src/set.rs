//! Persistent sets: a small insertion-ordered vector up to `SMALL_MAX` items, then an
//! `imbl::OrdSet` (deterministic key order).

use std::cmp::Ordering;

use crate::map::SMALL_MAX;
use crate::value::Value;

#[derive(Clone)]
pub enum Set {
    Small(Vec<Value>),
    Large(imbl::OrdSet<Value>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Small(Vec::new())
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn from_items(items: impl IntoIterator<Item = Value>) -> Set {
        let mut s = Set::new();
        for v in items {
            s.insert(v);
        }
        s
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Small(v) => v.len(),
            Set::Large(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, v: &Value) -> bool {
        match self {
            Set::Small(items) => items.contains(v),
            Set::Large(s) => s.contains(v),
        }
    }

    pub fn insert(&mut self, v: Value) {
        match self {
            Set::Small(items) => {
                if items.contains(&v) {
                    return;
                }
                if items.len() < SMALL_MAX {
                    items.push(v);
                } else {
                    let mut big: imbl::OrdSet<Value> = items.drain(..).collect();
                    big.insert(v);
                    *self = Set::Large(big);
                }
            }
            Set::Large(s) => {
                s.insert(v);
            }
        }
    }

    pub fn remove(&mut self, v: &Value) {
        match self {
            Set::Small(items) => items.retain(|x| x != v),
            Set::Large(s) => {
                s.remove(v);
            }
        }
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = &Value> + '_> {
        match self {
            Set::Small(v) => Box::new(v.iter()),
            Set::Large(s) => Box::new(s.iter()),
        }
    }

    fn sorted(&self) -> Vec<&Value> {
        let mut v: Vec<_> = self.iter().collect();
        v.sort();
        v
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|v| other.contains(v))
    }
}
impl Eq for Set {}
impl Ord for Set {
    fn cmp(&self, other: &Self) -> Ordering {
        self.len()
            .cmp(&other.len())
            .then_with(|| self.sorted().cmp(&other.sorted()))
    }
}
impl PartialOrd for Set {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
