//! The configuration model: what one module directory declares, decoded from HCL with the
//! source span of everything, before any evaluation. Expressions stay as syntax ([`Expr`])
//! and are evaluated later, per module and resource instance.

use crate::addrs::{MoveEndpoint, ResourceAddr, ResourceInstanceAddr, ResourceMode};
use crate::diagnostics::{FileId, Span};
use gantry_provider::Type;
use indexmap::IndexMap;
use std::path::PathBuf;

/// An unevaluated expression and the file it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    pub file: FileId,
    pub expr: hcl_edit::expr::Expression,
}

impl Expr {
    pub fn span(&self) -> Span {
        span_of(self.file, &self.expr)
    }
}

/// The span of any hcl-edit node (empty at the file start if the parser gave none).
pub fn span_of(file: FileId, node: &impl hcl_edit::Span) -> Span {
    Span::new(file, node.span().unwrap_or(0..0))
}

/// One module: a directory of `*.hcl` files (or a single file).
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: IndexMap<String, Variable>,
    pub locals: IndexMap<String, Local>,
    pub outputs: IndexMap<String, Output>,
    pub resources: IndexMap<ResourceAddr, Resource>,
    pub module_calls: IndexMap<String, ModuleCall>,
    pub providers: Vec<ProviderConfig>,
    pub backend: Option<Backend>,
    /// `budget { max_hourly = 500 }`: a plan costing more fails (root module only).
    pub budget: Option<Budget>,
    /// `moved` blocks, in source order.
    pub moved: Vec<Moved>,
    /// `removed` blocks, in source order.
    pub removed: Vec<Removed>,
    /// `import` blocks, in source order (root module only).
    pub imports: Vec<Import>,
    /// `check` blocks: assertions reported as warnings.
    pub checks: Vec<Check>,
}

/// A `check "NAME" { assert { ... } }` block: its assertions are evaluated at the end of
/// every plan and apply, and a false one is a warning, never an error (as in Terraform).
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub span: Span,
    pub asserts: Vec<Validation>,
}

/// An `import { to = aws_vpc.main  id = "vpc-0123" }` block: the object with that cloud id
/// is taken under management at `to` by the next apply, as a planned change.
#[derive(Debug)]
pub struct Import {
    pub to: ResourceInstanceAddr,
    pub to_span: Span,
    /// The cloud id: a string, from constants and `var.*`.
    pub id: Expr,
    pub span: Span,
}

/// A `moved { from = aws_vpc.a  to = module.net.aws_vpc.a }` block: objects state tracks
/// at `from` are tracked at `to` from now on, without touching the cloud.
#[derive(Debug)]
pub struct Moved {
    pub from: MoveEndpoint,
    pub from_span: Span,
    pub to: MoveEndpoint,
    pub to_span: Span,
    /// The block header.
    pub span: Span,
}

/// A `removed { from = aws_instance.debug  lifecycle { destroy = false } }` block: the
/// objects at `from` are forgotten (`destroy = false`) or destroyed.
#[derive(Debug)]
pub struct Removed {
    pub from: MoveEndpoint,
    pub from_span: Span,
    pub destroy: bool,
    pub span: Span,
}

/// A `variable` block.
#[derive(Debug)]
pub struct Variable {
    pub name: String,
    /// The block header, for "declared here" notes.
    pub span: Span,
    pub ty: Type,
    pub type_span: Option<Span>,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
}

/// A `validation { condition, error_message }` block (and `precondition`, `postcondition`,
/// `assert`: the same shape).
#[derive(Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
}

/// One entry of a `locals` block.
#[derive(Debug)]
pub struct Local {
    pub name: String,
    pub span: Span,
    pub value: Expr,
}

/// An `output` block.
#[derive(Debug)]
pub struct Output {
    pub name: String,
    pub span: Span,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Expr>,
    /// `precondition` blocks: checked before the value is taken; false is an error.
    pub preconditions: Vec<Validation>,
}

/// A `resource` or `data` block.
#[derive(Debug)]
pub struct Resource {
    pub addr: ResourceAddr,
    /// The block header (`resource "aws_vpc" "main"`).
    pub span: Span,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    pub provider: Option<ProviderRef>,
    pub lifecycle: Lifecycle,
    pub timeouts: TimeoutsBlock,
    pub body: BodyConfig,
    /// `failover { ... }`: where else to create it when the cloud has no capacity.
    pub failover: Option<Failover>,
}

/// Which refusals of a create make apply try the next alternative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverOn {
    Capacity,
    Quota,
}

impl FailoverOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverOn::Capacity => "capacity",
            FailoverOn::Quota => "quota",
        }
    }
}

/// The order alternatives are tried in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverOrder {
    /// As written: the resource's own arguments first, then each alternative.
    #[default]
    Stack,
    /// Cheapest first, by the catalog's hourly prices.
    Cost,
}

/// A resource's `failover` block:
///
/// ```hcl
/// failover {
///   on                = ["capacity"]   # and/or "quota"
///   order             = "cost"         # or "stack" (the default)
///   wait_for_capacity = "2h"           # keep cycling until then
///   alternative { availability_zone = "us-east-1b"  subnet_id = aws_subnet.b.id }
///   alternatives = [for z in local.zones : { availability_zone = z }]
/// }
/// ```
///
/// Each alternative overrides some top-level arguments of the resource, and an
/// `alternative` block may name another provider configuration (`provider = aws.west`);
/// the resource as written is the first choice.
#[derive(Debug, Clone)]
pub struct Failover {
    pub span: Span,
    pub on: Vec<FailoverOn>,
    pub order: FailoverOrder,
    pub wait_for_capacity: Option<std::time::Duration>,
    /// `alternative { }` blocks, in order.
    pub alternatives: Vec<AlternativeBlock>,
    /// `alternatives = [ { ... }, ... ]`, in the stack's order where it is written among
    /// the blocks.
    pub alternatives_expr: Option<Expr>,
}

/// One `alternative { }` block.
#[derive(Debug, Clone)]
pub struct AlternativeBlock {
    pub span: Span,
    /// A resource's argument overrides, or a module call's input overrides.
    pub body: BodyConfig,
    /// `provider = aws.west`: create it with another provider configuration (another
    /// region or account).
    pub provider: Option<ProviderRef>,
    /// On a module call: what else the alternative changes besides inputs.
    pub module: ModuleAlternative,
}

/// What a module call's `alternative` may change besides inputs: another module with the
/// same outputs (`source`, `version`, the `providers` it is given).
#[derive(Debug, Clone, Default)]
pub struct ModuleAlternative {
    pub source: Option<(String, Span)>,
    pub version: Option<String>,
    pub providers: Option<Vec<(ProviderRef, ProviderRef)>>,
}

impl Resource {
    pub fn mode(&self) -> ResourceMode {
        self.addr.mode
    }
}

/// `provider = aws.west` on a resource, or an entry of a module call's `providers` map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
    pub span: Span,
}

/// A `lifecycle` block.
#[derive(Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    /// Attribute paths whose changes are ignored (`tags["Name"]`,
    /// `scaling_config[0].desired_size`).
    pub ignore_changes: Vec<IgnorePath>,
    /// `ignore_changes = all`.
    pub ignore_all_changes: bool,
    /// Checked before the instance is planned (and again at apply when unknown at plan).
    pub preconditions: Vec<Validation>,
    /// Checked on the planned object (`self`), and on the object apply made.
    pub postconditions: Vec<Validation>,
}

/// One entry of `ignore_changes`.
#[derive(Clone, Debug, PartialEq)]
pub struct IgnorePath {
    pub steps: Vec<PathStep>,
    pub span: Span,
}

/// One step of an attribute path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// `.name`, or the first name of the path.
    Attr(String),
    /// `["key"]`: a map key.
    Key(String),
    /// `[0]`: a list element (for a single nested block, the block itself).
    Index(usize),
}

impl std::fmt::Display for IgnorePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attr(n) if i == 0 => f.write_str(n)?,
                PathStep::Attr(n) => write!(f, ".{n}")?,
                PathStep::Key(k) => write!(f, "[{}]", gantry_provider::Value::from(k.as_str()))?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A `timeouts { create = "90m" }` block on a resource.
#[derive(Clone, Debug, Default)]
pub struct TimeoutsBlock {
    pub span: Option<Span>,
    /// (operation, duration, span of the value).
    pub entries: Vec<(String, std::time::Duration, Span)>,
}

/// The arguments of a resource or nested block: attributes and nested blocks, in order.
#[derive(Debug, Default, Clone)]
pub struct BodyConfig {
    pub attributes: IndexMap<String, Attribute>,
    pub blocks: Vec<BlockItem>,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub span: Span,
    pub value: Expr,
}

/// A nested block, written out or generated by `dynamic`.
#[derive(Debug, Clone)]
pub enum BlockItem {
    Static(NestedBlock),
    Dynamic(DynamicBlock),
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub type_name: String,
    pub labels: Vec<String>,
    pub span: Span,
    pub body: BodyConfig,
}

/// `dynamic "name" { for_each = ..., iterator = it, labels = [...], content { ... } }`.
#[derive(Debug, Clone)]
pub struct DynamicBlock {
    pub type_name: String,
    pub span: Span,
    pub for_each: Expr,
    /// The name of the iteration variable (defaults to the block type name).
    pub iterator: String,
    pub labels: Vec<Expr>,
    pub content: BodyConfig,
}

/// A `module` block.
#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    pub span: Span,
    pub source: String,
    pub source_span: Span,
    pub version: Option<String>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { aws = aws.west }`: child name to parent provider.
    pub providers: Vec<(ProviderRef, ProviderRef)>,
    /// Every other attribute: the child module's input variables.
    pub inputs: IndexMap<String, Attribute>,
    /// `failover { alternative { ... } }`: other inputs or other modules to apply instead
    /// when the cloud has no capacity for this one (see `plan::module_failover`).
    pub failover: Option<Failover>,
    /// The alternative the loader applied to this call (0: as written); `source`,
    /// `providers` and `inputs` above are that alternative's.
    pub chosen: usize,
}

/// A `provider` block.
#[derive(Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub span: Span,
    pub body: BodyConfig,
}

impl ProviderConfig {
    /// `aws`, or `aws.west` for an aliased configuration.
    pub fn key(&self) -> String {
        provider_key(&self.name, self.alias.as_deref())
    }
}

/// `aws`, or `aws.west` for an aliased configuration.
pub fn provider_key(name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(a) => format!("{name}.{a}"),
        None => name.to_owned(),
    }
}

/// A `backend "<kind>" {}` block: where state lives.
#[derive(Debug)]
pub struct Budget {
    pub span: Span,
    /// USD per hour the whole stack may cost, with the span of its value.
    pub max_hourly: Option<(f64, Span)>,
    /// USD per month (the catalog's hours per month) the whole stack may cost.
    pub max_monthly: Option<(f64, Span)>,
}

/// A `backend "<kind>" { }` block.
#[derive(Debug)]
pub struct Backend {
    pub kind: String,
    pub span: Span,
    pub body: BodyConfig,
}
