//! `gantry state takeover FILE`: a Terraform state becomes gantry's, without a cloud call.

use super::apply::state_error;
use super::{fail, ExitStatus};
use crate::addrs::parse_resource_instance;
use crate::cli::StateTakeoverArgs;
use crate::config::load::{load_stack, LoadOptions};
use crate::config::sources::ModuleFetcher;
use crate::diagnostics::Diagnostic;
use crate::providers::{provider_name, Providers};
use crate::state::takeover::{convert, into_state, parse, TypeInfo};
use crate::state::State;
use crate::ui::Ui;
use std::io::Read;

/// How many addresses a refusal lists before it says how many more there are.
const LISTED: usize = 20;

pub fn run(ui: Ui, args: &StateTakeoverArgs) -> ExitStatus {
    let bytes = match read_input(&args.file) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                ui,
                Diagnostic::error(format!("cannot read `{}`", args.file.display()))
                    .with_detail(e.to_string()),
            )
        }
    };
    let tf = match parse(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                ui,
                Diagnostic::error(format!("cannot take over `{}`", args.file.display()))
                    .with_detail(e.to_string())
                    .with_help("pass a `terraform.tfstate` file, or `terraform state pull | gantry state takeover -`"),
            )
        }
    };
    // The stack's structure is all that is needed: which resources it declares, and with
    // which provider configurations.
    let fetcher = ModuleFetcher::default();
    let (stack, diags) = load_stack(&LoadOptions {
        path: &args.at.dir,
        fetcher: &fetcher,
        // Each module as written: takeover reads which addresses the stack declares.
        selection: &Default::default(),
    });
    if diags.has_errors() {
        ui.diagnostics(&diags, &stack.sources);
        return ExitStatus::Failure;
    }
    let providers = Providers::real();
    let mut undeclared = Vec::new();
    let takeover = convert(&tf, |address, type_name| {
        let provider = providers.get(provider_name(type_name))?;
        let schema = provider.schema().resources.get(type_name)?.clone();
        let addr = parse_resource_instance(address).ok()?;
        let path = addr.module.path();
        let declared = stack
            .module(&path)
            .and_then(|m| m.resources.get(&addr.resource));
        if declared.is_none() {
            undeclared.push(address.to_owned());
        }
        let provider_key = crate::providers::resolve::config_key(
            &stack,
            &path,
            type_name,
            declared.and_then(|r| r.provider.as_ref()),
        );
        Some(TypeInfo {
            schema,
            provider_key,
        })
    });
    if !takeover.unsupported.is_empty() && !args.skip_unsupported {
        return fail(
            ui,
            Diagnostic::error(format!(
                "{} resource instance{} of types gantry does not support",
                takeover.unsupported.len(),
                plural(takeover.unsupported.len())
            ))
            .with_detail(listing(&takeover.unsupported))
            .with_help("--skip-unsupported takes over the rest and leaves these out: they stay in the cloud, and neither tool will manage them unless Terraform keeps its state"),
        );
    }
    if !undeclared.is_empty() {
        return fail(
            ui,
            Diagnostic::error(format!(
                "the stack in `{}` does not declare {} of the resource instances",
                args.at.dir.display(),
                undeclared.len()
            ))
            .with_detail(listing(&undeclared))
            .with_help("the next apply would destroy them: put the Terraform configuration (`.tf` files load as they are) in the stack directory first"),
        );
    }
    let lock = match super::state::lock(&args.at, "state takeover") {
        Ok(l) => l,
        Err(d) => return fail(ui, d),
    };
    let current = match lock.read_state() {
        Ok(c) => c,
        Err(e) => return fail(ui, state_error(&e)),
    };
    if current.as_ref().is_some_and(|s| !s.resources.is_empty()) {
        return fail(
            ui,
            Diagnostic::error("gantry's state for this stack is not empty")
                .with_help("take over into a stack gantry does not manage yet; `gantry state pull` shows what it tracks"),
        );
    }
    let state = into_state(current.unwrap_or_else(State::new), &takeover);
    match lock.write_state(&state) {
        Ok(serial) => {
            let dropped: usize = takeover.dropped.values().map(Vec::len).sum();
            ui.status(&format!(
                "Took over {} resource instance{} from Terraform {} (state serial {serial}); {} data source instance{} will be read again{}{}. Nothing in the cloud was touched.\nRun `gantry plan`: it should show no changes.",
                takeover.resources.len(),
                plural(takeover.resources.len()),
                if tf.terraform_version.is_empty() { "(version unknown)" } else { tf.terraform_version.as_str() },
                takeover.data_sources,
                plural(takeover.data_sources),
                if takeover.unsupported.is_empty() { String::new() } else { format!("; {} unsupported left out", takeover.unsupported.len()) },
                if dropped == 0 { String::new() } else { format!("; {dropped} attribute kinds gantry does not track were dropped") },
            ));
            ExitStatus::Success
        }
        Err(e) => fail(ui, state_error(&e)),
    }
}

fn read_input(file: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(file)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn listing(addresses: &[String]) -> String {
    let mut text: Vec<&str> = addresses.iter().take(LISTED).map(String::as_str).collect();
    let more = addresses.len().saturating_sub(LISTED);
    let tail = format!("and {more} more");
    if more > 0 {
        text.push(&tail);
    }
    text.join(", ")
}
