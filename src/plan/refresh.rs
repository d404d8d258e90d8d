//! Refresh: read every tracked resource from its cloud, in parallel, to see what changed
//! outside gantry before planning.

use super::Drift;
use crate::apply::calls::ProviderCalls;
use crate::providers::Providers;
use futures::StreamExt;
use gantry_provider::{OpContext, ProviderError, Value};
use std::collections::BTreeMap;

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
    /// Created but failed afterwards: the plan replaces it.
    pub tainted: bool,
    /// The `failover` alternative that holds it.
    pub placement: Option<crate::state::Placement>,
}

/// Brings state attributes up to the provider's current schema: state written with an older
/// schema version goes through the provider's `upgrade_state` first, then every value gets
/// its schema type back (JSON has no sets, so a set read from state is a list until
/// converted, and would otherwise differ from every fresh read). An upgrade that fails is a
/// diagnostic; the object is then planned from its state as it is.
pub fn type_priors(
    providers: &Providers,
    prior: &mut BTreeMap<String, Prior>,
) -> crate::diagnostics::Diagnostics {
    let mut diags = crate::diagnostics::Diagnostics::new();
    for (address, p) in prior.iter_mut() {
        let Some(provider) = providers.get(&p.provider) else {
            continue;
        };
        let schemas = provider.schema();
        let schema = if p.managed {
            schemas.resources.get(&p.type_name)
        } else {
            schemas.data_sources.get(&p.type_name)
        };
        let Some(schema) = schema else { continue };
        if p.managed && p.schema_version < schema.version {
            match provider.upgrade_state(&p.type_name, p.schema_version, p.attributes.clone()) {
                Ok(upgraded) => {
                    p.attributes = upgraded;
                    p.schema_version = schema.version;
                }
                Err(e) => {
                    diags.push(
                        crate::diagnostics::Diagnostic::error(format!(
                            "cannot upgrade the state of `{address}` from schema version {} to {}",
                            p.schema_version, schema.version
                        ))
                        .with_address(address.clone())
                        .with_label(crate::apply::calls::explain(&e)),
                    );
                    continue;
                }
            }
        }
        if let Ok(typed) = p
            .attributes
            .convert(&gantry_provider::plan::object_type(schema))
        {
            p.attributes = typed;
        }
    }
    diags
}

/// A tracked object that could not be read.
#[derive(Debug)]
pub struct RefreshError {
    pub address: String,
    pub error: ProviderError,
}

impl RefreshError {
    /// The diagnostic: which object, and why (class, the cloud's code, its message).
    pub fn diagnostic(&self) -> crate::diagnostics::Diagnostic {
        crate::diagnostics::Diagnostic::error(format!("failed to refresh `{}`", self.address))
            .with_address(self.address.clone())
            .with_detail(crate::apply::calls::explain(&self.error))
            .with_help(match self.error.class {
                gantry_provider::ErrorClass::Throttled | gantry_provider::ErrorClass::Transient => {
                    "the cloud kept failing after retries; run the command again, or lower `--parallelism`"
                }
                gantry_provider::ErrorClass::Auth => {
                    "check the credentials and permissions gantry runs with"
                }
                _ => "run the command again; `--refresh=false` plans from state without reading the cloud",
            })
    }
}

/// Reads each managed resource through `calls` (the command's per-provider limits, retrying
/// throttling and transient errors); returns the refreshed set (objects deleted outside
/// gantry are gone from it) and the drift found. Errors are per resource; a resource whose
/// provider configuration is gone is an error, never read through another one.
pub async fn refresh(
    providers: &Providers,
    calls: &ProviderCalls,
    prior: BTreeMap<String, Prior>,
) -> (BTreeMap<String, Prior>, Vec<Drift>, Vec<RefreshError>) {
    let mut out = BTreeMap::new();
    let mut reads = Vec::new();
    let mut errors = Vec::new();
    for (address, p) in prior {
        if !p.managed {
            out.insert(address, p);
            continue;
        }
        let Some(provider) = providers.get(&p.provider) else {
            errors.push(RefreshError {
                address: address.clone(),
                error: ProviderError::invalid(format!(
                    "its provider configuration `{}` is not in the stack any more",
                    p.provider
                )),
            });
            out.insert(address, p);
            continue;
        };
        reads.push(async move {
            let ctx = OpContext::new(address.clone());
            let result = calls
                .call(&p.provider, || {
                    provider.read(&ctx, &p.type_name, &p.attributes)
                })
                .await;
            (address, p, result)
        });
    }
    let mut drift = Vec::new();
    let mut stream = futures::stream::iter(reads).buffer_unordered(calls_width(calls));
    while let Some((address, mut p, result)) = stream.next().await {
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
            Err(error) => {
                errors.push(RefreshError {
                    address: address.clone(),
                    error,
                });
                out.insert(address, p);
            }
        }
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    errors.sort_by(|a, b| a.address.cmp(&b.address));
    (out, drift, errors)
}

/// How many reads to keep started at once: the per-provider limits inside `calls` decide
/// the real concurrency; this only bounds the futures alive.
fn calls_width(calls: &ProviderCalls) -> usize {
    calls.max().max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gantry_provider::{
        async_trait, Attribute, OpContext, Provider, ProviderSchema, Schema, Type,
    };
    use std::sync::Arc;

    /// A provider whose `disk` type renamed `size` to `size_gib` in schema version 2.
    struct Renamed {
        schema: ProviderSchema,
    }

    #[async_trait]
    impl Provider for Renamed {
        fn name(&self) -> &str {
            "test"
        }
        fn schema(&self) -> &ProviderSchema {
            &self.schema
        }
        fn upgrade_state(
            &self,
            _t: &str,
            from: u32,
            state: Value,
        ) -> gantry_provider::provider::Result<Value> {
            let Value::Map(mut m) = state else {
                return Err(ProviderError::invalid("not an object"));
            };
            if from < 2 {
                let size = m.remove("size").unwrap_or_default();
                m.insert("size_gib".into(), size);
            }
            Ok(Value::Map(m))
        }
        async fn create(
            &self,
            _: &OpContext,
            _: &str,
            p: &Value,
        ) -> gantry_provider::provider::Result<Value> {
            Ok(p.clone())
        }
        async fn read(
            &self,
            _: &OpContext,
            _: &str,
            s: &Value,
        ) -> gantry_provider::provider::Result<Option<Value>> {
            Ok(Some(s.clone()))
        }
        async fn update(
            &self,
            _: &OpContext,
            _: &str,
            _: &Value,
            p: &Value,
        ) -> gantry_provider::provider::Result<Value> {
            Ok(p.clone())
        }
        async fn delete(
            &self,
            _: &OpContext,
            _: &str,
            _: &Value,
        ) -> gantry_provider::provider::Result<()> {
            Ok(())
        }
        async fn find_created(
            &self,
            _: &OpContext,
            _: &str,
            _: &str,
            _: &Value,
        ) -> gantry_provider::provider::Result<Option<Value>> {
            Ok(None)
        }
    }

    #[test]
    fn state_from_an_older_schema_version_is_upgraded_before_planning() {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "test_disk".into(),
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("size_gib", Attribute::required(Type::Number))
                .with_version(2),
        );
        let mut providers = Providers::default();
        providers.insert(Arc::new(Renamed { schema }));
        let old = |version| Prior {
            type_name: "test_disk".into(),
            provider: "test".into(),
            managed: true,
            attributes: Value::map([("id", Value::from("d-1")), ("size", Value::from(100_i64))]),
            dependencies: Vec::new(),
            schema_version: version,
            sensitive_paths: Vec::new(),
            tainted: false,
            placement: None,
        };
        let mut prior = BTreeMap::from([("test_disk.a".to_owned(), old(1))]);
        let diags = type_priors(&providers, &mut prior);
        assert!(!diags.has_errors());
        let p = &prior["test_disk.a"];
        assert_eq!(p.schema_version, 2);
        assert_eq!(
            p.attributes.as_map().unwrap()["size_gib"],
            Value::from(100_i64)
        );
        // Already current: left alone (the rename would lose the value otherwise).
        let mut current = BTreeMap::from([("test_disk.b".to_owned(), old(2))]);
        type_priors(&providers, &mut current);
        assert_eq!(current["test_disk.b"].schema_version, 2);
        assert!(current["test_disk.b"]
            .attributes
            .as_map()
            .unwrap()
            .get("size_gib")
            .is_none_or(Value::is_null));
    }
}
