//! The `encryption { }` block inside `terraform { }`, as OpenTofu writes it, and the same
//! body in `GANTRY_ENCRYPTION` (or OpenTofu's `TF_ENCRYPTION`), which is laid over the
//! block (key providers and methods by their labels, `state` and `plan` whole), so a
//! passphrase can stay out of the stack files:
//!
//! ```hcl
//! terraform {
//!   encryption {
//!     key_provider "pbkdf2" "main" { passphrase = "..." }
//!     method "aes_gcm" "main" { keys = key_provider.pbkdf2.main }
//!     state {
//!       method   = method.aes_gcm.main
//!       enforced = true
//!       fallback { method = method.aes_gcm.old }
//!     }
//!     plan { method = method.aes_gcm.main }
//!   }
//! }
//! ```
//!
//! Values are constants: the block is needed before any variable can be read.

use super::seal::{
    AzureKey, GcpKey, KeyProvider, KmsKey, KmsService, Pbkdf2, DEFAULT_ITERATIONS, MIN_PASSPHRASE,
};
use super::{Method, Target};
use crate::config::model::span_of;
use crate::diagnostics::{Diagnostic, FileId};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use std::collections::BTreeMap;

/// Where a body came from, for errors.
#[derive(Clone, Copy)]
pub enum Origin {
    File(FileId),
    /// The environment variable of this name.
    Env(&'static str),
}

/// The blocks of one or more encryption bodies, merged.
#[derive(Default)]
pub struct Blocks {
    providers: BTreeMap<String, (KeyProvider, Origin, Option<std::ops::Range<usize>>)>,
    methods: BTreeMap<String, (MethodDecl, Origin, Option<std::ops::Range<usize>>)>,
    state: Option<(TargetDecl, Origin)>,
    plan: Option<(TargetDecl, Origin)>,
}

#[derive(Clone)]
enum MethodDecl {
    AesGcm { keys: String },
    Unencrypted,
}

#[derive(Clone)]
struct TargetDecl {
    method: String,
    fallback: Option<String>,
    enforced: bool,
    span: Option<std::ops::Range<usize>>,
}

fn error(origin: Origin, span: Option<std::ops::Range<usize>>, message: String) -> Diagnostic {
    match origin {
        Origin::File(file) => Diagnostic::error(message)
            .with_span(crate::diagnostics::Span::new(file, span.unwrap_or(0..0))),
        Origin::Env(name) => Diagnostic::error(format!("{name}: {message}")),
    }
}

/// `key_provider.pbkdf2.main` as written.
fn reference(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Traversal(_) | Expression::Variable(_) => {
            let mut text = expr.to_string();
            text.retain(|c| !c.is_whitespace());
            Some(text)
        }
        _ => None,
    }
}

fn string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

impl Blocks {
    /// Adds the blocks of one body; later bodies replace earlier ones of the same name.
    pub fn add(&mut self, body: &Body, origin: Origin) -> Result<(), Diagnostic> {
        for structure in body.iter() {
            let Structure::Block(block) = structure else {
                let Structure::Attribute(a) = structure else {
                    continue;
                };
                return Err(error(
                    origin,
                    hcl_edit::Span::span(&a.key),
                    format!("unexpected argument `{}` in `encryption`", a.key.as_str()),
                ));
            };
            self.add_block(block, origin)?;
        }
        Ok(())
    }

    fn add_block(&mut self, block: &Block, origin: Origin) -> Result<(), Diagnostic> {
        let span = hcl_edit::Span::span(&block.ident);
        let labels: Vec<String> = block.labels.iter().map(|l| l.as_str().to_owned()).collect();
        let attrs: BTreeMap<&str, &Expression> = block
            .body
            .iter()
            .filter_map(|s| match s {
                Structure::Attribute(a) => Some((a.key.as_str(), &a.value)),
                Structure::Block(_) => None,
            })
            .collect();
        match (block.ident.as_str(), labels.as_slice()) {
            ("key_provider", [kind, name]) if kind == "pbkdf2" => {
                let passphrase = attrs.get("passphrase").and_then(|e| string(e)).ok_or_else(|| {
                    error(origin, span.clone(), format!("`key_provider \"pbkdf2\" \"{name}\"` needs `passphrase` as a string"))
                })?;
                if passphrase.chars().count() < MIN_PASSPHRASE {
                    return Err(error(
                        origin,
                        span,
                        format!("the passphrase of `key_provider \"pbkdf2\" \"{name}\"` is shorter than {MIN_PASSPHRASE} characters"),
                    ));
                }
                let iterations = match attrs.get("iterations") {
                    None => DEFAULT_ITERATIONS,
                    Some(Expression::Number(n)) => n
                        .value()
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| *n >= 200_000)
                        .ok_or_else(|| {
                            error(origin, span.clone(), "`iterations` must be a whole number of at least 200000".into())
                        })?,
                    Some(_) => {
                        return Err(error(origin, span, "`iterations` must be a number".into()))
                    }
                };
                for key in attrs.keys() {
                    if !["passphrase", "iterations"].contains(key) {
                        return Err(error(origin, span, format!("unsupported argument `{key}` in `key_provider \"pbkdf2\"` (supported: passphrase, iterations; keys are 32 bytes from SHA-512)")));
                    }
                }
                let full = format!("key_provider.pbkdf2.{name}");
                self.providers.insert(
                    full,
                    (
                        KeyProvider::Pbkdf2(Pbkdf2::new(
                            format!("pbkdf2.{name}"),
                            passphrase,
                            iterations,
                        )),
                        origin,
                        span,
                    ),
                );
            }
            ("key_provider", [kind, name]) if kind == "aws_kms" => {
                let key_id = attrs.get("kms_key_id").and_then(|e| string(e)).ok_or_else(|| {
                    error(origin, span.clone(), format!("`key_provider \"aws_kms\" \"{name}\"` needs `kms_key_id` as a string"))
                })?;
                let region = match attrs.get("region") {
                    None => None,
                    Some(e) => Some(string(e).ok_or_else(|| {
                        error(origin, span.clone(), "`region` must be a string".into())
                    })?),
                };
                if let Some(spec) = attrs.get("key_spec") {
                    if string(spec).as_deref() != Some("AES_256") {
                        return Err(error(
                            origin,
                            span,
                            "`key_spec` must be \"AES_256\" (the key of aes_gcm)".into(),
                        ));
                    }
                }
                for key in attrs.keys() {
                    if !["kms_key_id", "region", "key_spec"].contains(key) {
                        return Err(error(origin, span, format!("unsupported argument `{key}` in `key_provider \"aws_kms\"` (supported: kms_key_id, region, key_spec)")));
                    }
                }
                self.providers.insert(
                    format!("key_provider.aws_kms.{name}"),
                    (
                        KeyProvider::Kms(KmsKey::new(
                            format!("aws_kms.{name}"),
                            KmsService::Aws { key_id, region },
                        )),
                        origin,
                        span,
                    ),
                );
            }
            ("key_provider", [kind, name]) if kind == "gcp_kms" => {
                const ARGUMENTS: &[&str] = &[
                    "kms_encryption_key",
                    "key_length",
                    "credentials",
                    "access_token",
                    "kms_custom_endpoint",
                ];
                for key in attrs.keys() {
                    if !ARGUMENTS.contains(key) {
                        return Err(error(origin, span, format!("unsupported argument `{key}` in `key_provider \"gcp_kms\"` (supported: {})", ARGUMENTS.join(", "))));
                    }
                }
                let key_name = attrs.get("kms_encryption_key").and_then(|e| string(e)).ok_or_else(|| {
                    error(origin, span.clone(), format!("`key_provider \"gcp_kms\" \"{name}\"` needs `kms_encryption_key` (projects/P/locations/L/keyRings/R/cryptoKeys/K)"))
                })?;
                if !crate::state::encryption::seal::is_crypto_key_name(&key_name) {
                    return Err(error(origin, span, format!("`kms_encryption_key` must be a CryptoKey's name, projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY (got `{key_name}`)")));
                }
                if let Some(length) = attrs.get("key_length") {
                    let is_32 = matches!(length, Expression::Number(n) if n.value().as_u64() == Some(32));
                    if !is_32 {
                        return Err(error(origin, span, "`key_length` must be 32 (the 256-bit key of aes_gcm)".into()));
                    }
                }
                let optional = |arg: &str| -> Result<Option<String>, Diagnostic> {
                    match attrs.get(arg) {
                        None => Ok(None),
                        Some(e) => string(e).map(Some).ok_or_else(|| error(origin, span.clone(), format!("`{arg}` must be a string"))),
                    }
                };
                let key = GcpKey {
                    key_name,
                    credentials: optional("credentials")?,
                    access_token: optional("access_token")?,
                    endpoint: optional("kms_custom_endpoint")?,
                };
                self.providers.insert(
                    format!("key_provider.gcp_kms.{name}"),
                    (
                        KeyProvider::Kms(KmsKey::new(format!("gcp_kms.{name}"), KmsService::Gcp(key))),
                        origin,
                        span,
                    ),
                );
            }
            ("key_provider", [kind, name]) if kind == "azure_key_vault" => {
                // The key's own arguments, then the azurerm provider's credential arguments.
                const KEY_ARGUMENTS: &[&str] = &[
                    "vault_uri",
                    "key_name",
                    "key_version",
                    "algorithm",
                    "verify_challenge_resource",
                ];
                use crate::state::remote::config::AZURE_CREDENTIAL_ARGUMENTS as CREDENTIAL_ARGUMENTS;
                let mut credentials = std::collections::BTreeMap::new();
                for (key, value) in &attrs {
                    if KEY_ARGUMENTS.contains(key) {
                        continue;
                    }
                    if !CREDENTIAL_ARGUMENTS.contains(key) {
                        return Err(error(origin, span, format!("unsupported argument `{key}` in `key_provider \"azure_key_vault\"` (supported: {}, and the azurerm provider's credential arguments: {})", KEY_ARGUMENTS.join(", "), CREDENTIAL_ARGUMENTS.join(", "))));
                    }
                    let value = match value {
                        Expression::Bool(b) => gantry_provider::Value::Bool(*b.value()),
                        other => gantry_provider::Value::string(string(other).ok_or_else(|| {
                            error(origin, span.clone(), format!("`{key}` must be a string"))
                        })?),
                    };
                    credentials.insert((*key).to_owned(), value);
                }
                let required = |arg: &str, what: &str| -> Result<String, Diagnostic> {
                    attrs.get(arg).and_then(|e| string(e)).filter(|v| !v.is_empty()).ok_or_else(|| {
                        error(origin, span.clone(), format!("`key_provider \"azure_key_vault\" \"{name}\"` needs `{arg}` ({what})"))
                    })
                };
                let vault_uri = required("vault_uri", "the vault's URL, https://NAME.vault.azure.net")?;
                if !vault_uri.starts_with("https://") {
                    return Err(error(origin, span, format!("`vault_uri` must be an https URL (Key Vault takes bearer tokens over https only); got `{vault_uri}`")));
                }
                let key_name = required("key_name", "an RSA key in the vault")?;
                let optional = |arg: &str| -> Result<Option<String>, Diagnostic> {
                    match attrs.get(arg) {
                        None => Ok(None),
                        Some(e) => string(e).map(Some).ok_or_else(|| error(origin, span.clone(), format!("`{arg}` must be a string"))),
                    }
                };
                let algorithm = optional("algorithm")?.unwrap_or_else(|| "RSA-OAEP-256".into());
                if !crate::state::encryption::seal::AZURE_WRAP_ALGORITHMS.contains(&algorithm.as_str()) {
                    return Err(error(origin, span, format!("`algorithm` must be one of {} (got `{algorithm}`)", crate::state::encryption::seal::AZURE_WRAP_ALGORITHMS.join(", "))));
                }
                let verify_challenge_resource = match attrs.get("verify_challenge_resource") {
                    None => true,
                    Some(Expression::Bool(b)) => *b.value(),
                    Some(_) => return Err(error(origin, span, "`verify_challenge_resource` must be true or false".into())),
                };
                let key = AzureKey {
                    vault_uri,
                    key_name,
                    key_version: optional("key_version")?,
                    algorithm,
                    verify_challenge_resource,
                    credentials,
                };
                self.providers.insert(
                    format!("key_provider.azure_key_vault.{name}"),
                    (
                        KeyProvider::Kms(KmsKey::new(format!("azure_key_vault.{name}"), KmsService::Azure(key))),
                        origin,
                        span,
                    ),
                );
            }
            ("key_provider", [kind, _]) => {
                return Err(error(
                    origin,
                    span,
                    format!("key provider `{kind}` is not supported by this version of gantry (supported: pbkdf2, aws_kms, gcp_kms, azure_key_vault)"),
                ))
            }
            ("method", [kind, name]) if kind == "aes_gcm" => {
                let keys = attrs.get("keys").and_then(|e| reference(e)).ok_or_else(|| {
                    error(origin, span.clone(), format!("`method \"aes_gcm\" \"{name}\"` needs `keys = key_provider.pbkdf2.NAME`"))
                })?;
                self.methods.insert(
                    format!("method.aes_gcm.{name}"),
                    (MethodDecl::AesGcm { keys }, origin, span),
                );
            }
            ("method", [kind, name]) if kind == "unencrypted" => {
                self.methods.insert(
                    format!("method.unencrypted.{name}"),
                    (MethodDecl::Unencrypted, origin, span),
                );
            }
            ("method", [kind, _]) => {
                return Err(error(
                    origin,
                    span,
                    format!("encryption method `{kind}` is not supported (supported: aes_gcm, unencrypted)"),
                ))
            }
            ("state" | "plan", []) => {
                let method = attrs.get("method").and_then(|e| reference(e)).ok_or_else(|| {
                    error(origin, span.clone(), format!("`{}` needs `method = method.KIND.NAME`", block.ident.as_str()))
                })?;
                let enforced = match attrs.get("enforced") {
                    None => false,
                    Some(Expression::Bool(b)) => *b.value(),
                    Some(_) => {
                        return Err(error(origin, span, "`enforced` must be true or false".into()))
                    }
                };
                let mut fallback = None;
                for s in block.body.iter() {
                    if let Structure::Block(f) = s {
                        if f.ident.as_str() != "fallback" {
                            return Err(error(origin, hcl_edit::Span::span(&f.ident), format!("unexpected block `{}` (only `fallback`)", f.ident.as_str())));
                        }
                        let m = f.body.iter().find_map(|s| match s {
                            Structure::Attribute(a) if a.key.as_str() == "method" => reference(&a.value),
                            _ => None,
                        });
                        fallback = Some(m.ok_or_else(|| {
                            error(origin, hcl_edit::Span::span(&f.ident), "`fallback` needs `method = method.KIND.NAME`".into())
                        })?);
                    }
                }
                let decl = TargetDecl {
                    method,
                    fallback,
                    enforced,
                    span,
                };
                if block.ident.as_str() == "state" {
                    self.state = Some((decl, origin));
                } else {
                    self.plan = Some((decl, origin));
                }
            }
            (ident, _) => {
                return Err(error(
                    origin,
                    span,
                    format!("unexpected block `{ident}` in `encryption` (expected key_provider \"pbkdf2\" \"NAME\", method \"aes_gcm\" \"NAME\", state, plan)"),
                ))
            }
        }
        Ok(())
    }

    fn method(
        &self,
        reference: &str,
        origin: Origin,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<Method, Diagnostic> {
        let Some((decl, _, _)) = self.methods.get(reference) else {
            return Err(error(
                origin,
                span,
                format!("`{reference}` is not a declared encryption method"),
            ));
        };
        Ok(match decl {
            MethodDecl::Unencrypted => Method::Unencrypted,
            MethodDecl::AesGcm { keys } => {
                let Some((provider, _, _)) = self.providers.get(keys) else {
                    return Err(error(
                        origin,
                        span,
                        format!(
                            "`{keys}` (the keys of `{reference}`) is not a declared key provider"
                        ),
                    ));
                };
                Method::AesGcm(provider.clone())
            }
        })
    }

    fn target(&self, decl: &Option<(TargetDecl, Origin)>) -> Result<Option<Target>, Diagnostic> {
        let Some((decl, origin)) = decl else {
            return Ok(None);
        };
        let primary = self.method(&decl.method, *origin, decl.span.clone())?;
        let fallback = match &decl.fallback {
            Some(f) => Some(self.method(f, *origin, decl.span.clone())?),
            None => None,
        };
        if decl.enforced && matches!(primary, Method::Unencrypted) {
            return Err(error(
                *origin,
                decl.span.clone(),
                "`enforced = true` with an unencrypted method: nothing would ever be written"
                    .into(),
            ));
        }
        Ok(Some(Target {
            primary,
            fallback,
            enforced: decl.enforced,
        }))
    }

    /// The targets the blocks configure.
    pub fn targets(&self) -> Result<(Option<Target>, Option<Target>), Diagnostic> {
        Ok((self.target(&self.state)?, self.target(&self.plan)?))
    }

    pub fn add_file(&mut self, file: FileId, body: &Body) -> Result<(), Diagnostic> {
        self.add(body, Origin::File(file))
    }

    pub fn add_env(&mut self, name: &'static str, text: &str) -> Result<(), Diagnostic> {
        let body = hcl_edit::parser::parse_body(text).map_err(|e| {
            // Not the parser's text: it quotes the line, which may hold the passphrase.
            let at = e.location();
            Diagnostic::error(format!(
                "{name} is not an encryption configuration (syntax error at line {}, column {})",
                at.line(),
                at.column()
            ))
                .with_help("it holds the body of an `encryption { }` block: key_provider, method, state and plan blocks")
        })?;
        self.add(&body, Origin::Env(name))
    }
}

/// The span of a block, for callers that report on the whole block.
pub fn block_span(file: FileId, block: &Block) -> crate::diagnostics::Span {
    span_of(file, &block.ident)
}
