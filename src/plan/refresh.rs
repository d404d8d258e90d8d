//! Refresh: read every tracked resource from its cloud, in parallel, to see what changed
//! outside gantry before planning.

use super::Drift;
use crate::providers::Providers;
use gantry_provider::{OpContext, ProviderError, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A resource as state records it, in the shape the planner needs.
#[derive(Clone, Debug)]
pub struct Prior {
    pub type_name: String,
    pub provider: String,
    pub managed: bool,
    pub attributes: Value,
    pub dependencies: Vec<String>,
    pub schema_version: u32,
    pub sensitive_paths: Vec<String>,
}

/// Gives state attributes their schema types back: JSON has no sets, so a set read from
/// state is a list until converted, and would otherwise differ from every fresh read.
pub fn type_priors(providers: &Providers, prior: &mut BTreeMap<String, Prior>) {
    for p in prior.values_mut() {
        let Some(provider) = providers.get(&p.provider) else {
            continue;
        };
        let schemas = provider.schema();
        let schema = if p.managed {
            schemas.resources.get(&p.type_name)
        } else {
            schemas.data_sources.get(&p.type_name)
        };
        if let Some(schema) = schema {
            if let Ok(typed) = p
                .attributes
                .convert(&gantry_provider::plan::object_type(schema))
            {
                p.attributes = typed;
            }
        }
    }
}

/// Reads each managed resource; returns the refreshed set (objects deleted outside gantry
/// are gone from it) and the drift found. Errors are per resource.
pub async fn refresh(
    providers: &Providers,
    prior: BTreeMap<String, Prior>,
    parallelism: usize,
) -> (
    BTreeMap<String, Prior>,
    Vec<Drift>,
    Vec<(String, ProviderError)>,
) {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallelism.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut out = BTreeMap::new();
    for (address, p) in prior {
        let Some(provider) = providers.get(&p.provider) else {
            out.insert(address, p);
            continue;
        };
        if !p.managed {
            out.insert(address, p);
            continue;
        }
        let sem = semaphore.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let ctx = OpContext::new(address.clone());
            let result = provider.read(&ctx, &p.type_name, &p.attributes).await;
            (address, p, result)
        });
    }
    let mut drift = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((address, mut p, result)) = joined else {
            continue;
        };
        match result {
            Ok(Some(current)) => {
                if current != p.attributes {
                    drift.push(Drift {
                        address: address.clone(),
                        before: p.attributes.clone(),
                        after: Some(current.clone()),
                    });
                    p.attributes = current;
                }
                out.insert(address, p);
            }
            Ok(None) => drift.push(Drift {
                address,
                before: p.attributes,
                after: None,
            }),
            Err(e) => {
                errors.push((address.clone(), e));
                out.insert(address, p);
            }
        }
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    (out, drift, errors)
}
