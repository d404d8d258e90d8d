//! The state journal as the executor's [`Recorder`], and crash recovery: a run that finds
//! creates whose outcome is unknown looks each up in its cloud by idempotency token and
//! adopts what exists.

use super::executor::Recorder;
use crate::plan::ResourceChange;
use crate::providers::Providers;
use crate::state::{Intent, Journal, Record, ResourceMode, ResourceState};
use gantry_provider::{async_trait, OpContext, Value};

/// Records into the state journal, durably, before returning.
pub struct JournalRecorder {
    pub journal: Journal,
}

/// The sensitive paths of an object as applied: the plan's, and wherever the cloud's answer
/// echoes one of the change's secrets.
pub fn sensitive_paths_of(change: &ResourceChange, value: &Value) -> Vec<String> {
    let echoed =
        crate::config::sensitive::paths_holding(value, &crate::ui::redact::change_secrets(change));
    crate::config::sensitive::union(&change.sensitive_paths, &echoed)
}

pub fn resource_state(
    change: &ResourceChange,
    value: &Value,
    token: Option<&str>,
) -> ResourceState {
    ResourceState {
        address: change.address.clone(),
        mode: if change.managed {
            ResourceMode::Managed
        } else {
            ResourceMode::Data
        },
        type_name: change.type_name.clone(),
        provider: change.provider.clone(),
        schema_version: change.schema_version,
        attributes: value.to_json(),
        sensitive_paths: sensitive_paths_of(change, value),
        dependencies: change.dependencies.clone(),
        create_token: token.map(str::to_owned),
        tainted: false,
        placement: change.placement.clone(),
        module_placements: change.module_placements.clone(),
    }
}

#[async_trait]
impl Recorder for JournalRecorder {
    async fn intent(&self, change: &ResourceChange, token: &str) -> Result<(), String> {
        let intent = Intent {
            address: change.address.clone(),
            type_name: change.type_name.clone(),
            provider: change.provider.clone(),
            token: token.to_owned(),
            config: change
                .after
                .as_ref()
                .map_or(serde_json::Value::Null, Value::to_json),
            dependencies: change.dependencies.clone(),
            sensitive_paths: change.sensitive_paths.clone(),
            sent_at_ms: Some(crate::state::journal::now_ms()),
            placement: change.placement.clone(),
            module_placements: change.module_placements.clone(),
        };
        self.journal
            .append(Record::Intent(intent))
            .await
            .map_err(|e| e.to_string())
    }

    async fn created(
        &self,
        change: &ResourceChange,
        value: &Value,
        token: &str,
        tainted: bool,
    ) -> Result<(), String> {
        let mut rs = resource_state(change, value, Some(token));
        rs.tainted = tainted;
        self.journal
            .append(Record::Created(rs))
            .await
            .map_err(|e| e.to_string())
    }

    async fn not_created(&self, token: &str) -> Result<(), String> {
        self.journal
            .resolve_intent(token)
            .await
            .map_err(|e| e.to_string())
    }

    async fn applied(&self, change: &ResourceChange, value: &Value) -> Result<(), String> {
        self.journal
            .append(Record::Updated(resource_state(change, value, None)))
            .await
            .map_err(|e| e.to_string())
    }

    async fn deleted(&self, address: &str) -> Result<(), String> {
        self.journal
            .append(Record::Deleted {
                address: address.to_owned(),
            })
            .await
            .map_err(|e| e.to_string())
    }
}

/// Outcome of recovering one interrupted create.
#[derive(Debug)]
pub enum Recovered {
    /// The cloud had it: now in state (or, for a dry run, would be), with its attributes.
    Adopted(String, Box<ResourceState>),
    /// Nothing was created.
    NotCreated(String),
    /// The cloud could not be asked; the intent stays pending, and apply refuses to create
    /// the address again until it can be checked.
    Unresolved(String, String),
}

impl Recovered {
    pub fn address(&self) -> &str {
        match self {
            Recovered::Adopted(a, _) | Recovered::NotCreated(a) | Recovered::Unresolved(a, _) => a,
        }
    }
}

/// Resolves every pending create left by an interrupted run, asking each intent's own
/// provider configuration (`providers` must be configured from the stack first). With a
/// journal, what is learnt is recorded; without one (a plan), nothing is written and the
/// outcomes only say what an apply would record.
pub async fn recover(
    journal: Option<&Journal>,
    pending: Vec<Intent>,
    providers: &Providers,
    stack_identity: &str,
) -> Vec<Recovered> {
    let lookups = pending.into_iter().map(|intent| async move {
        let outcome = lookup(&intent, providers, stack_identity).await;
        let Some(journal) = journal else {
            return outcome;
        };
        let record = match &outcome {
            Recovered::Adopted(_, rs) => Record::Created((**rs).clone()),
            Recovered::NotCreated(_) => Record::NotCreated {
                token: intent.token.clone(),
            },
            Recovered::Unresolved(..) => return outcome,
        };
        match journal.append(record).await {
            Ok(()) => outcome,
            Err(e) => Recovered::Unresolved(intent.address.clone(), e.to_string()),
        }
    });
    futures::future::join_all(lookups).await
}

/// How long after a create was sent an object it made may still be invisible to lookups.
const CREATE_SETTLE_MS: u64 = 5_000;

/// Asks the intent's provider configuration whether the create happened.
async fn lookup(intent: &Intent, providers: &Providers, stack_identity: &str) -> Recovered {
    let Some(provider) = providers.get(&intent.provider) else {
        return Recovered::Unresolved(
            intent.address.clone(),
            format!(
                "its provider configuration `{}` is not in the stack any more",
                intent.provider
            ),
        );
    };
    let mut ctx = OpContext::new(intent.address.clone());
    ctx.idempotency_token = Some(intent.token.clone());
    ctx.stack = stack_identity.to_owned();
    let planned = Value::from_json(&intent.config);
    let mut found = provider
        .find_created(&ctx, &intent.type_name, &intent.token, &planned)
        .await;
    // A create sent moments before the crash may not be visible yet (the request still
    // queued at the endpoint, or eventual consistency): look again once it has settled.
    if matches!(found, Ok(None)) {
        if let Some(sent) = intent.sent_at_ms {
            let settled = sent.saturating_add(CREATE_SETTLE_MS);
            let now = crate::state::journal::now_ms();
            if now < settled {
                tokio::time::sleep(std::time::Duration::from_millis(settled - now)).await;
                found = provider
                    .find_created(&ctx, &intent.type_name, &intent.token, &planned)
                    .await;
            }
        }
    }
    match found {
        Ok(Some(value)) => {
            let schema = provider.schema().resources.get(&intent.type_name);
            let mut sensitive_paths = schema
                .map(gantry_provider::Schema::sensitive_paths)
                .unwrap_or_default();
            for p in &intent.sensitive_paths {
                if !sensitive_paths.contains(p) {
                    sensitive_paths.push(p.clone());
                }
            }
            let rs = ResourceState {
                address: intent.address.clone(),
                mode: ResourceMode::Managed,
                type_name: intent.type_name.clone(),
                provider: intent.provider.clone(),
                schema_version: schema.map_or(0, |s| s.version),
                attributes: value.to_json(),
                sensitive_paths,
                dependencies: intent.dependencies.clone(),
                create_token: Some(intent.token.clone()),
                tainted: false,
                placement: intent.placement.clone(),
                module_placements: intent.module_placements.clone(),
            };
            Recovered::Adopted(intent.address.clone(), Box::new(rs))
        }
        Ok(None) => Recovered::NotCreated(intent.address.clone()),
        Err(e) => Recovered::Unresolved(intent.address.clone(), e.to_string()),
    }
}
