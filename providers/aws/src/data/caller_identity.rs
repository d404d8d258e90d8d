//! `aws_caller_identity`: who the provider's credentials are (STS GetCallerIdentity).

use super::DataSource;
use crate::attrs::Obj;
use crate::errors::sdk_error;
use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Type, Value};

pub struct CallerIdentity;

#[async_trait]
impl DataSource for CallerIdentity {
    fn name(&self) -> &'static str {
        "aws_caller_identity"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr(
                "id",
                Attribute::computed(Type::String).describe("The account id."),
            )
            .attr("account_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("user_id", Attribute::computed(Type::String))
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let out = cx
            .clients()
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_error("GetCallerIdentity", e))?;
        let account = out.account().unwrap_or_default();
        let mut state = Obj::from(config);
        state
            .set("id", account)
            .set("account_id", account)
            .set("arn", out.arn().unwrap_or_default())
            .set("user_id", out.user_id().unwrap_or_default());
        Ok(state.into_value())
    }
}
