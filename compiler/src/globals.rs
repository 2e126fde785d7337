//! The global namespace as the compiler sees it: names to global ids, and which of them are
//! macros. The values themselves live in the runtime, indexed by the same ids.

use std::collections::HashMap;
use std::sync::Arc;

use rtfs_ir::Value;
use rtfs_ir::expr::GlobalId;

#[derive(Default)]
pub struct GlobalTable {
    names: Vec<Arc<String>>,
    index: HashMap<String, GlobalId>,
    /// Whether a definition for the global has been compiled (or registered by the host).
    defined: Vec<bool>,
    macros: HashMap<String, Value>,
    /// Names defined by `deftype`: such a symbol after a parameter is its type annotation.
    types: std::collections::HashSet<String>,
}

impl GlobalTable {
    pub fn new() -> GlobalTable {
        GlobalTable::default()
    }

    /// The id for `name`, creating it (undefined) if new.
    pub fn intern(&mut self, name: &str) -> GlobalId {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = self.names.len() as GlobalId;
        let name = Arc::new(name.to_string());
        self.names.push(name.clone());
        self.index.insert(name.to_string(), id);
        self.defined.push(false);
        id
    }

    pub fn get(&self, name: &str) -> Option<GlobalId> {
        self.index.get(name).copied()
    }

    pub fn mark_defined(&mut self, id: GlobalId) {
        if let Some(d) = self.defined.get_mut(id as usize) {
            *d = true;
        }
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.get(name).is_some_and(|id| self.defined[id as usize])
    }

    pub fn name(&self, id: GlobalId) -> &str {
        self.names.get(id as usize).map_or("?", |s| s.as_str())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn define_type(&mut self, name: &str) {
        self.types.insert(name.to_string());
    }

    pub fn is_type(&self, name: &str) -> bool {
        self.types.contains(name)
    }

    pub fn define_macro(&mut self, name: &str, transformer: Value) {
        self.macros.insert(name.to_string(), transformer);
    }

    pub fn macro_named(&self, name: &str) -> Option<&Value> {
        self.macros.get(name)
    }

    pub fn macro_names(&self) -> impl Iterator<Item = &str> {
        self.macros.keys().map(String::as_str)
    }
}
