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
        sensitive_paths: change.sensitive_paths.clone(),
        dependencies: change.dependencies.clone(),
        create_token: token.map(str::to_owned),
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
        };
        self.journal
            .append(Record::Intent(intent))
            .await
            .map_err(|e| e.to_string())
    }

    async fn applied(
        &self,
        change: &ResourceChange,
        value: &Value,
        token: Option<&str>,
    ) -> Result<(), String> {
        let rs = resource_state(change, value, token);
        let record = if token.is_some() {
            Record::Created(rs)
        } else {
            Record::Updated(rs)
        };
        self.journal.append(record).await.map_err(|e| e.to_string())
    }

    async fn deleted(&self, change: &ResourceChange) -> Result<(), String> {
        self.journal
            .append(Record::Deleted {
                address: change.address.clone(),
            })
            .await
            .map_err(|e| e.to_string())
    }
}

/// Outcome of recovering one interrupted create.
#[derive(Debug)]
pub enum Recovered {
    /// The cloud had it: now in state.
    Adopted(String),
    /// Nothing was created.
    NotCreated(String),
    /// The cloud could not be asked; the intent stays pending for the next run.
    Unresolved(String, String),
}

/// Resolves every pending create left by an interrupted run.
pub async fn recover(
    journal: &Journal,
    pending: Vec<Intent>,
    providers: &Providers,
) -> Vec<Recovered> {
    let mut out = Vec::new();
    for intent in pending {
        let Some(provider) = providers.get(&intent.provider) else {
            out.push(Recovered::Unresolved(
                intent.address,
                format!("no provider `{}`", intent.provider),
            ));
            continue;
        };
        let mut ctx = OpContext::new(intent.address.clone());
        ctx.idempotency_token = Some(intent.token.clone());
        match provider
            .find_created(&ctx, &intent.type_name, &intent.token)
            .await
        {
            Ok(Some(value)) => {
                let schema = provider.schema().resources.get(&intent.type_name);
                let rs = ResourceState {
                    address: intent.address.clone(),
                    mode: ResourceMode::Managed,
                    type_name: intent.type_name.clone(),
                    provider: intent.provider.clone(),
                    schema_version: schema.map_or(0, |s| s.version),
                    attributes: value.to_json(),
                    sensitive_paths: schema
                        .map(gantry_provider::Schema::sensitive_paths)
                        .unwrap_or_default(),
                    dependencies: Vec::new(),
                    create_token: Some(intent.token.clone()),
                };
                match journal.append(Record::Created(rs)).await {
                    Ok(()) => out.push(Recovered::Adopted(intent.address)),
                    Err(e) => out.push(Recovered::Unresolved(intent.address, e.to_string())),
                }
            }
            Ok(None) => match journal.resolve_intent(&intent.token).await {
                Ok(()) => out.push(Recovered::NotCreated(intent.address)),
                Err(e) => out.push(Recovered::Unresolved(intent.address, e.to_string())),
            },
            Err(e) => out.push(Recovered::Unresolved(intent.address, e.to_string())),
        }
    }
    out
}
