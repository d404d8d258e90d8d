//! Plans: desired configuration vs (refreshed) state, as data. A [`Plan`] lists one
//! [`ResourceChange`] per resource instance with its [`Action`]; apply works only from it.

pub mod costs;
pub mod deposed;
pub mod document;
pub mod failover;
pub mod file;
pub mod generate;
pub mod ignore;
pub mod imports;
pub mod module_failover;
pub mod planner;
pub mod preflight;
pub mod refactor;
pub mod refresh;
pub mod run;

use gantry_provider::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happens to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    /// A data source read during apply (its configuration was not known while planning).
    Read,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// The Terraform-style symbol: `+`, `~`, `-`, `-/+`, `+/-`, `<=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }
}

/// The planned change of one resource instance.
#[derive(Clone, Debug)]
pub struct ResourceChange {
    pub address: String,
    pub managed: bool,
    pub type_name: String,
    pub name: String,
    pub provider: String,
    pub action: Action,
    /// State before (refreshed); `None` for a create.
    pub before: Option<Value>,
    /// Planned state after; unknown parts are known after apply. `None` for a delete.
    pub after: Option<Value>,
    /// The conformed configuration (what apply re-evaluates and sends).
    pub config: Option<Value>,
    pub requires_replace: Vec<String>,
    /// The dependency groups this instance depends on in the stack
    /// ([`crate::graph::instances`]): its apply step waits for theirs.
    pub dependencies: Vec<String>,
    /// The dependency groups it depended on when last applied (from state): its delete
    /// goes before theirs, and, for objects deleted for good, its update too.
    pub prior_dependencies: Vec<String>,
    pub sensitive_paths: Vec<String>,
    pub schema_version: u32,
    /// Why, when it is not obvious: "deleted outside gantry", "--replace".
    pub reason: Option<String>,
    pub create_before_destroy: bool,
    /// How long each operation may wait (`timeouts` block, else the type's defaults).
    pub timeouts: gantry_provider::Timeouts,
    /// For a delete-then-create replacement: objects that stay and still use the old object
    /// when it is deleted (its delete will likely be refused; the plan warns).
    pub still_used_by: Vec<String>,
    /// The type's schema, for drawing nested blocks as blocks (shared by every change of
    /// the type).
    pub schema: Option<std::sync::Arc<gantry_provider::Schema>>,
    /// The `failover` alternatives a create may fall back to.
    pub failover: Option<failover::FailoverPlan>,
    /// The alternative that holds the object: from state for one that exists, set by apply
    /// for the create it is about to send.
    pub placement: Option<crate::state::Placement>,
    /// The module alternatives that make it (see [`crate::state::ModulePlacement`]).
    pub module_placements: BTreeMap<String, crate::state::ModulePlacement>,
    /// The provider configuration the existing object lives in, when it is not `provider`
    /// (a failover alternative created it through another): its delete goes there.
    pub prior_provider: Option<String>,
}

impl ResourceChange {
    /// The key of the provider configuration the existing object is read and deleted
    /// through.
    pub fn prior_provider(&self) -> &str {
        self.prior_provider.as_deref().unwrap_or(&self.provider)
    }

    /// The change as the existing object's side of it (its delete, its deposed record):
    /// with the provider configuration the object lives in.
    pub fn prior_side(&self) -> std::borrow::Cow<'_, ResourceChange> {
        match &self.prior_provider {
            None => std::borrow::Cow::Borrowed(self),
            Some(p) => std::borrow::Cow::Owned(ResourceChange {
                provider: p.clone(),
                prior_provider: None,
                ..self.clone()
            }),
        }
    }
}

/// An attribute that changed outside gantry, found by refresh.
#[derive(Clone, Debug)]
pub struct Drift {
    pub address: String,
    pub before: Value,
    /// `None`: the object was deleted outside gantry.
    pub after: Option<Value>,
}

/// A root output's planned value.
#[derive(Clone, Debug)]
pub struct OutputChange {
    pub before: Option<Value>,
    pub after: Value,
    pub sensitive: bool,
}

/// A whole plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<Drift>,
    pub outputs: BTreeMap<String, OutputChange>,
    /// A `destroy` plan.
    pub destroy: bool,
    /// What the resources cost before and after, from the accelerator catalog.
    pub costs: costs::PlanCosts,
    /// What `moved` and `removed` blocks do to state (the changes above use the new
    /// addresses).
    pub refactoring: refactor::Refactoring,
    /// Objects `import` blocks take under management (the changes above plan them).
    pub imports: Vec<imports::ImportedObject>,
    /// The account quotas the plan's accelerators need, as read before apply.
    pub quotas: Vec<preflight::QuotaCheck>,
    /// Module calls with `failover`: their alternatives and the one this plan applies.
    pub module_failovers: Vec<module_failover::ModuleFailoverPlan>,
    /// For a plan that only prices a module alternative: what the pre-flight found
    /// (quotas it cannot fit, types not offered), which skips the alternative.
    pub preflight_findings: Vec<crate::diagnostics::Diagnostic>,
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in self.changes.iter().filter(|c| c.managed) {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::NoOp | Action::Read => {}
            }
        }
        s
    }

    /// How many steps an apply of this plan takes (a replacement is two: delete and create).
    pub fn step_count(&self) -> usize {
        self.changes
            .iter()
            .map(|c| match c.action {
                Action::NoOp => 0,
                a if a.is_replace() => 2,
                _ => 1,
            })
            .sum()
    }

    /// The address each `moved` block's object had before, by its new address.
    pub fn moved_from(&self) -> BTreeMap<&str, &str> {
        self.refactoring
            .moved
            .iter()
            .map(|(from, to)| (to.as_str(), from.as_str()))
            .collect()
    }

    /// The cloud id each `import` block takes its object from, by address.
    pub fn imported_ids(&self) -> BTreeMap<&str, &str> {
        self.imports
            .iter()
            .map(|i| (i.address.as_str(), i.id.as_str()))
            .collect()
    }

    /// True when applying would change infrastructure, outputs or what state tracks where.
    pub fn has_changes(&self) -> bool {
        let s = self.summary();
        s.add + s.change + s.destroy > 0
            || !self.refactoring.is_empty()
            || !self.imports.is_empty()
            || self
                .outputs
                .values()
                .any(|o| o.before.as_ref() != Some(&o.after) || !o.after.is_wholly_known())
    }
}
