//! Schemas: what a provider declares for its configuration and for each resource type and
//! data source. The engine validates configuration, plans changes (which attribute forces a
//! replacement, which is computed) and redacts sensitive values from the schema alone.

use crate::types::Type;
use crate::value::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The schema of a resource type, data source or provider configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    /// Bumped when the stored shape changes; state written with an older version is passed
    /// through `upgrade_state`.
    pub version: u32,
    pub attributes: BTreeMap<String, Attribute>,
    pub blocks: BTreeMap<String, NestedBlock>,
    /// How long each operation may wait for the object by default; a resource's
    /// `timeouts { create = "90m" }` block overrides them. `None`: the operation does not
    /// wait (and a `timeouts` entry for it is refused).
    pub timeouts: Timeouts,
}

/// Default operation timeouts of a resource type (Terraform's `Timeouts()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub create: Option<Duration>,
    pub update: Option<Duration>,
    pub delete: Option<Duration>,
}

impl Timeouts {
    /// The same timeout for create, update and delete.
    pub fn all(d: Duration) -> Timeouts {
        Timeouts {
            create: Some(d),
            update: Some(d),
            delete: Some(d),
        }
    }

    /// The default for an operation named as in a `timeouts` block.
    pub fn get(&self, operation: &str) -> Option<Duration> {
        match operation {
            "create" => self.create,
            "update" => self.update,
            "delete" => self.delete,
            _ => None,
        }
    }
}

/// One attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    /// Set by the provider (ids, ARNs). With `optional`, the user may set it too.
    pub computed: bool,
    /// Changing it replaces the object.
    pub force_new: bool,
    pub sensitive: bool,
    /// Used when the user does not set an optional attribute.
    pub default: Option<Value>,
    pub description: String,
}

impl Attribute {
    fn base(ty: Type) -> Attribute {
        Attribute {
            ty,
            required: false,
            optional: false,
            computed: false,
            force_new: false,
            sensitive: false,
            default: None,
            description: String::new(),
        }
    }

    pub fn required(ty: Type) -> Attribute {
        Attribute {
            required: true,
            ..Attribute::base(ty)
        }
    }

    pub fn optional(ty: Type) -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::base(ty)
        }
    }

    pub fn computed(ty: Type) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::base(ty)
        }
    }

    /// Optional for the user, filled in by the provider when not set.
    pub fn optional_computed(ty: Type) -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::base(ty)
        }
    }

    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    pub fn with_default(mut self, v: impl Into<Value>) -> Attribute {
        self.default = Some(v.into());
        self
    }

    pub fn describe(mut self, text: &str) -> Attribute {
        self.description = text.to_owned();
        self
    }
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; its value is an object (or null).
    Single,
    /// Ordered blocks; a list of objects.
    List,
    /// Unordered blocks; a set of objects.
    Set,
}

/// A nested block type (`ingress { ... }`).
#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub schema: Schema,
    pub min_items: usize,
    pub max_items: Option<usize>,
    pub force_new: bool,
}

/// Everything a provider declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderSchema {
    pub config: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}

impl Schema {
    pub fn attr(mut self, name: &str, attribute: Attribute) -> Schema {
        self.attributes.insert(name.to_owned(), attribute);
        self
    }

    pub fn block(mut self, name: &str, block: NestedBlock) -> Schema {
        self.blocks.insert(name.to_owned(), block);
        self
    }

    pub fn with_version(mut self, version: u32) -> Schema {
        self.version = version;
        self
    }

    /// Declares the default operation timeouts (and so that `timeouts { }` is accepted).
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Schema {
        self.timeouts = timeouts;
        self
    }

    /// Every attribute name and block name, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .keys()
            .chain(self.blocks.keys())
            .map(String::as_str)
    }

    /// Paths (`a`, `b.c`) of sensitive attributes, for redaction in state and output.
    pub fn sensitive_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .attributes
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(n, _)| n.clone())
            .collect();
        for (name, block) in &self.blocks {
            out.extend(
                block
                    .schema
                    .sensitive_paths()
                    .into_iter()
                    .map(|p| format!("{name}.{p}")),
            );
        }
        out
    }
}
