//! `import` blocks, as Terraform has them: an object someone made by hand is taken under
//! management as a planned change. The plan reads the object through the provider's
//! import and plans the resource against it (no change, an update, or a replacement);
//! apply records it in state before any operation. `plan --generate-config-out FILE`
//! writes resource blocks for import targets the stack does not declare yet.
//!
//! An import block whose address state already tracks does nothing (the object was
//! imported by an earlier apply). A target the configuration does not declare is an
//! error, never an object imported and then destroyed as an orphan.

use crate::addrs::ResourceInstanceAddr;
use crate::apply::calls::{explain, ProviderCalls};
use crate::config::eval::{Evaluator, Reference, Resolved, Resolver, Subject};
use crate::config::inputs::InputValue;
use crate::config::load::Stack;
use crate::config::model::Import;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::providers::Providers;
use crate::state::{ResourceMode, ResourceState, State};
use gantry_provider::{OpContext, Schema, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One object an `import` block takes under management.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedObject {
    pub address: String,
    /// The cloud id the block gave.
    pub id: String,
    /// What the provider read, as state will record it.
    pub state: ResourceState,
}

/// Checks that need only the configuration: import blocks sit in the root module, and
/// one address is imported once.
pub fn check(stack: &Stack) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (path, module) in &stack.modules {
        if path.is_root() {
            continue;
        }
        for import in &module.imports {
            diags.push(
                Diagnostic::error("`import` blocks belong in the root module")
                    .with_span(import.span)
                    .with_label(format!("inside module.{}", path.0.join(".module.")))
                    .with_help("move the block to the root module, with the module in its address: `to = module.net.aws_vpc.main`"),
            );
        }
    }
    let mut seen: BTreeMap<String, &Import> = BTreeMap::new();
    for import in stack
        .root()
        .map(|m| m.imports.as_slice())
        .unwrap_or_default()
    {
        let address = import.to.to_string();
        if let Some(first) = seen.get(&address) {
            diags.push(
                Diagnostic::error(format!("`{address}` is imported twice"))
                    .with_span(import.to_span)
                    .with_label("a second import to the same address")
                    .with_note(first.span, "first imported here"),
            );
        } else {
            seen.insert(address, import);
        }
    }
    diags
}

/// What the stack's import blocks found, before planning.
#[derive(Default)]
pub struct Imports {
    /// Objects for declared targets, already added to the state the plan is made against.
    pub objects: Vec<ImportedObject>,
    /// Objects whose targets the configuration does not declare (only read with
    /// `--generate-config-out`): their resource blocks are written, they are not planned.
    pub undeclared: Vec<(ResourceInstanceAddr, Value, Schema)>,
}

/// Reads every import block's object that `state` does not track yet, and adds the
/// declared ones to `state`.
pub async fn import_targets(
    stack: &Stack,
    inputs: &HashMap<String, InputValue>,
    state: &mut State,
    providers: &Providers,
    calls: &ProviderCalls,
    generate: bool,
    diags: &mut Diagnostics,
) -> Imports {
    let mut found = Imports::default();
    let Some(root) = stack.root() else {
        return found;
    };
    for import in &root.imports {
        let address = import.to.to_string();
        if state.resources.contains_key(&address) {
            continue;
        }
        let path = import.to.module.path();
        let resource = stack
            .module(&path)
            .and_then(|m| m.resources.get(&import.to.resource));
        if resource.is_none() && !generate {
            diags.push(
                Diagnostic::error(format!("the import target `{address}` is not declared"))
                    .with_span(import.to_span)
                    .with_label("no resource block for this address")
                    .with_help(format!("add a `resource \"{}\" \"{}\"` block, or let gantry write one: `gantry plan --generate-config-out generated.hcl`", import.to.resource.type_name, import.to.resource.name)),
            );
            continue;
        }
        if resource.is_none() && !path.is_root() {
            diags.push(
                Diagnostic::error(format!("the import target `{address}` is not declared"))
                    .with_span(import.to_span)
                    .with_label("no resource block for this address in its module")
                    .with_help("add the resource block to the module; generated configuration is written for root-module targets only"),
            );
            continue;
        }
        let Some(id) = import_id(stack, inputs, import, diags) else {
            continue;
        };
        let type_name = &import.to.resource.type_name;
        let key = crate::providers::resolve::config_key(
            stack,
            &path,
            type_name,
            resource.and_then(|r| r.provider.as_ref()),
        );
        let Some(provider) = providers.get(&key) else {
            diags.push(
                Diagnostic::error(format!("no provider `{key}` to import `{address}` with"))
                    .with_span(import.span),
            );
            continue;
        };
        let Some(schema) = provider.schema().resources.get(type_name).cloned() else {
            diags.push(
                Diagnostic::error(format!("unsupported resource type `{type_name}`"))
                    .with_span(import.to_span),
            );
            continue;
        };
        let ctx = OpContext::new(address.clone());
        let read = calls
            .call(&key, || provider.import(&ctx, type_name, &id))
            .await;
        let value = match read {
            Ok(v) => v,
            Err(e) => {
                diags.push(
                    Diagnostic::error(format!("cannot import `{id}` as `{address}`"))
                        .with_span(import.span)
                        .with_label(explain(&e))
                        .with_help("check the id and that the stack's provider configuration reaches the object's account and region"),
                );
                continue;
            }
        };
        if resource.is_none() {
            found.undeclared.push((import.to.clone(), value, schema));
            continue;
        }
        let object = ResourceState {
            address: address.clone(),
            mode: ResourceMode::Managed,
            type_name: type_name.clone(),
            provider: key,
            schema_version: schema.version,
            attributes: value.to_json(),
            sensitive_paths: schema.sensitive_paths(),
            dependencies: Vec::new(),
            create_token: None,
            tainted: false,
            placement: None,
            module_placements: Default::default(),
        };
        state.upsert_resource(object.clone());
        found.objects.push(ImportedObject {
            address,
            id,
            state: object,
        });
    }
    found
}

/// The import block's `id`, evaluated: a known string.
fn import_id(
    stack: &Stack,
    inputs: &HashMap<String, InputValue>,
    import: &Import,
    diags: &mut Diagnostics,
) -> Option<String> {
    let resolver = RootVariables { stack, inputs };
    match Evaluator::new(&resolver, &stack.root_dir).eval(&import.id) {
        Ok(Value::String(id)) if !id.is_empty() => Some(id),
        Ok(other) => {
            diags.push(
                Diagnostic::error("invalid import id")
                    .with_span(import.id.span())
                    .with_label(format!(
                        "expected the object's id as a non-empty string, got {}",
                        other.type_name()
                    ))
                    .with_help(
                        "write the id the cloud gave the object, e.g. `id = \"vpc-0a1b2c3d\"`",
                    ),
            );
            None
        }
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// Import ids may use the root module's variables; nothing else exists before the plan.
struct RootVariables<'a> {
    stack: &'a Stack,
    inputs: &'a HashMap<String, InputValue>,
}

impl Resolver for RootVariables<'_> {
    fn resolve(&self, reference: &Reference) -> Result<Resolved<'_>, Diagnostic> {
        let refuse = || {
            Diagnostic::error("an import id may use constants and `var.*` only")
                .with_span(reference.span)
                .with_label("not known before the plan")
        };
        let Subject::Var(name) = &reference.subject else {
            return Err(refuse());
        };
        if let Some(input) = self.inputs.get(name) {
            return Ok(Resolved::from(&input.value));
        }
        let declared = self.stack.root().and_then(|m| m.variables.get(name));
        match declared.and_then(|v| v.default.as_ref()) {
            Some(default) => crate::config::eval::eval_constant(default).map(Resolved::from),
            None => Err(Diagnostic::error(format!("`var.{name}` has no value"))
                .with_span(reference.span)
                .with_label("not set and no default")),
        }
    }
}

/// Imports the plan cannot carry out: targets whose planned instance is a delete (the
/// configuration's `count`/`for_each` has no such key).
pub fn check_planned(
    stack: &Stack,
    imported: &[ImportedObject],
    plan: &super::Plan,
    diags: &mut Diagnostics,
) {
    let root = stack
        .root()
        .map(|m| m.imports.as_slice())
        .unwrap_or_default();
    for object in imported {
        let deleted = plan
            .changes
            .iter()
            .any(|c| c.address == object.address && c.action == super::Action::Delete);
        if deleted {
            let mut d = Diagnostic::error(format!(
                "the import target `{}` is not an instance of its resource",
                object.address
            ))
            .with_label("its count or for_each has no such key")
            .with_help("import into an instance the configuration declares");
            if let Some(block) = root.iter().find(|i| i.to.to_string() == object.address) {
                d = d.with_span(block.to_span);
            }
            diags.push(d);
        }
    }
}

/// Writes resource blocks for imported objects the stack does not declare, as
/// `plan --generate-config-out FILE` does: every argument the schema lets a user set,
/// from what the cloud holds, sensitive values left for the user to fill in. Refuses to
/// overwrite a file.
pub fn write_generated(
    file: &Path,
    undeclared: &[(ResourceInstanceAddr, Value, Schema)],
) -> Result<usize, Diagnostic> {
    let mut text = String::from(
        "# Written by `gantry plan --generate-config-out`: resource blocks for the import\n# blocks whose targets were not declared. Review them, then run `gantry plan`.\n",
    );
    for (addr, value, schema) in undeclared {
        text.push('\n');
        text.push_str(&super::generate::resource_block(
            &addr.resource.type_name,
            &addr.resource.name,
            schema,
            value,
        ));
    }
    let formatted = crate::config::fmt::format_source(&text).unwrap_or(text);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let written = options.open(file).and_then(|mut f| {
        std::io::Write::write_all(&mut f, formatted.as_bytes())?;
        f.sync_all()
    });
    written.map_err(|e| {
        let d = Diagnostic::error(format!("cannot write `{}`", file.display())).with_detail(e.to_string());
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            d.with_help("gantry never overwrites a file here: pass a new file name, or move the old one away")
        } else {
            d
        }
    })?;
    Ok(undeclared.len())
}
