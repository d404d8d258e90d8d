//! The `provider "aws"` block: region, profile, endpoint, default tags, assumed role; and
//! the credential chain of aws-config (environment, shared config and profiles, SSO, web
//! identity, container and instance metadata).

use crate::attrs::Attrs;
use crate::clients::Clients;
use crate::errors::{error_chain, sdk_error};
use crate::tags::Tags;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::region::Region;
use gantry_provider::provider::Result;
use gantry_provider::{
    Attribute, ErrorClass, NestedBlock, Nesting, ProviderError, Schema, Type, Value,
};

/// What a configured provider holds.
#[derive(Clone, Debug)]
pub struct Settings {
    pub clients: Clients,
    pub default_tags: Tags,
    /// The account the credentials belong to (from STS), for ARNs and messages.
    pub account_id: String,
}

/// The schema of the `provider "aws"` block.
pub fn schema() -> Schema {
    Schema::default()
        .attr(
            "region",
            Attribute::optional(Type::String)
                .describe("Region to manage objects in (else AWS_REGION or the profile's)."),
        )
        .attr(
            "profile",
            Attribute::optional(Type::String).describe("Shared config profile to use."),
        )
        .attr(
            "endpoint_url",
            Attribute::optional(Type::String)
                .describe("One endpoint for every service (else AWS_ENDPOINT_URL)."),
        )
        .attr(
            "s3_use_path_style",
            Attribute::optional(Type::Bool).describe(
                "Address buckets by path, not subdomain (on by default for IP and localhost endpoints).",
            ),
        )
        .attr(
            "access_key",
            Attribute::optional(Type::String).sensitive(),
        )
        .attr(
            "secret_key",
            Attribute::optional(Type::String).sensitive(),
        )
        .attr(
            "max_retries",
            Attribute::optional(Type::Number)
                .describe("Retries of one API call inside the SDK before gantry's own backoff (default 2)."),
        )
        .attr(
            "skip_credentials_validation",
            Attribute::optional(Type::Bool)
                .describe("Do not call STS GetCallerIdentity when configuring."),
        )
        .block(
            "default_tags",
            NestedBlock {
                nesting: Nesting::Single,
                schema: Schema::default().attr("tags", Attribute::optional(Type::map(Type::String))),
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        )
        .block(
            "assume_role",
            NestedBlock {
                nesting: Nesting::Single,
                schema: Schema::default()
                    .attr("role_arn", Attribute::required(Type::String))
                    .attr("session_name", Attribute::optional(Type::String))
                    .attr("external_id", Attribute::optional(Type::String)),
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        )
}

/// The credential sources aws-config tries, in order, for the message when none works.
const CREDENTIAL_SOURCES: &str = "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), \
shared config and credentials files (~/.aws/config, ~/.aws/credentials; AWS_PROFILE), \
IAM Identity Center (SSO) in the profile, web identity token (AWS_WEB_IDENTITY_TOKEN_FILE), \
container credentials (AWS_CONTAINER_CREDENTIALS_*), EC2 instance metadata (IMDS)";

/// Builds clients for a provider block (null for an implicit, empty configuration).
pub async fn configure(config: &Value) -> Result<Settings> {
    let a = Attrs(config);
    let max_attempts = a.i32("max_retries").map_or(3, |n| n.max(0) as u32 + 1);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(max_attempts));
    if let Some(region) = a.str("region") {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(profile) = a.str("profile") {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = a.str("endpoint_url") {
        loader = loader.endpoint_url(url);
    }
    match (a.str("access_key"), a.str("secret_key")) {
        (Some(key), Some(secret)) => {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                key,
                secret,
                None,
                None,
                "provider block",
            ));
        }
        (None, None) => {}
        _ => {
            return Err(ProviderError::invalid(
                "`access_key` and `secret_key` go together: set both or neither",
            ))
        }
    }
    let mut sdk = loader.load().await;
    let Some(region) = sdk
        .region()
        .map(ToString::to_string)
        .filter(|r| !r.is_empty())
    else {
        return Err(ProviderError::invalid(
            "no AWS region: set `region` in the provider block, or AWS_REGION, or a region in the profile",
        ));
    };
    if let Some(role) = a.block("assume_role") {
        let role_arn = role.req_str("role_arn")?;
        sdk = assume_role(
            sdk,
            role_arn,
            role.str("session_name").unwrap_or("gantry"),
            role.str("external_id"),
        )
        .await;
    }
    check_credentials(&sdk).await?;
    let endpoint = sdk.endpoint_url().map(str::to_owned);
    let path_style = a
        .bool("s3_use_path_style")
        .unwrap_or_else(|| endpoint.as_deref().is_some_and(is_local_endpoint));
    let clients = Clients::new(&sdk, region, path_style);
    let account_id = if a.bool("skip_credentials_validation") == Some(true) {
        String::new()
    } else {
        caller_account(&clients).await?
    };
    let default_tags = a
        .block("default_tags")
        .map(|b| b.str_map("tags"))
        .unwrap_or_default();
    Ok(Settings {
        clients,
        default_tags,
        account_id,
    })
}

/// Resolves credentials once, so a missing one is reported with every source tried rather
/// than as the first API call's failure.
async fn check_credentials(sdk: &aws_types::SdkConfig) -> Result<()> {
    let Some(provider) = sdk.credentials_provider() else {
        return Err(no_credentials("no credential provider is configured"));
    };
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| no_credentials(&error_chain(&e)))
}

fn no_credentials(detail: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Auth,
        format!("no valid AWS credentials ({detail}); tried: {CREDENTIAL_SOURCES}"),
    )
}

/// The account of the credentials; an invalid key is reported here, before any plan.
async fn caller_account(clients: &Clients) -> Result<String> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_error("sts:GetCallerIdentity", e))
        .map_err(|e| {
            if e.class == ErrorClass::Auth {
                ProviderError {
                    message: format!(
                        "{} (the credentials were found but AWS refused them; sources tried: {CREDENTIAL_SOURCES})",
                        e.message
                    ),
                    ..e
                }
            } else {
                e
            }
        })?;
    Ok(out.account().unwrap_or_default().to_owned())
}

/// Endpoints where bucket subdomains cannot resolve: IP addresses and localhost.
/// `sdk` with credentials of `role_arn`, assumed through STS with the credentials `sdk`
/// had (refreshed as they expire).
pub async fn assume_role(
    sdk: aws_types::SdkConfig,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> aws_types::SdkConfig {
    let mut builder =
        aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(session_name);
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    let assumed = builder.configure(&sdk).build().await;
    sdk.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(assumed),
        )
        .build()
}

fn is_local_endpoint(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_is_the_default_only_where_subdomains_cannot_work() {
        assert!(is_local_endpoint("http://127.0.0.1:5000"));
        assert!(is_local_endpoint("http://localhost:4566/"));
        assert!(is_local_endpoint("http://[::1]:5000"));
        assert!(!is_local_endpoint("https://s3.us-east-1.amazonaws.com"));
    }
}
